"""Safe defaults off loopback (issue 14.5): what an operator who forgot a setting gets is a
refusal that says why, not a bot open to every tenant, an http link or a readable backup."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

import bot as bot_module
from bot import House, Settings, build_app, compose
from storage.models import ConversationRef, ProcessedActivity
from tests.fakes import FakeClock, FakeConnector
from tests.helpers import message

NETWORK = {
    "HOST": "0.0.0.0",
    "MicrosoftAppId": "00000000-0000-0000-0000-00000000b07a",
    "MicrosoftAppPassword": "not-a-secret",
    "PUBLIC_URL": "https://natverksboten.example.org",
    "ALLOWED_TENANTS": "tenant-gr",
}
SETTINGS = (*NETWORK, "ALLOW_ANY_TENANT", "METRICS_TOKEN", "LOG_LEVEL", "PORT", "DATABASE_URL")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """The command line's environment, starting from nothing set (and no .env file)."""
    monkeypatch.chdir(tmp_path)
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    yield monkeypatch


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        code = bot_module.main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    finally:  # main() logs to this test's captured stderr: give the next tests their own
        root.handlers[:], root.level = handlers, level
    return code, capsys.readouterr().err


def configure(environment: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in {**NETWORK, **values}.items():
        if value:
            environment.setenv(name, value)
        else:
            environment.delenv(name, raising=False)


# --- tenants ----------------------------------------------------------------------------------
def test_off_loopback_without_allowed_tenants_the_bot_refuses_to_start_and_names_the_fix(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(environment, ALLOWED_TENANTS="")
    code, err = run(["migrate"], capsys)
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith("Configuration error: HOST=0.0.0.0")
    assert "ALLOWED_TENANTS" in line and "ALLOW_ANY_TENANT=yes" in line
    assert not (Path.cwd() / "bot.db").exists()  # refused before touching anything


def test_serving_every_tenant_is_an_explicit_choice(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(environment, ALLOWED_TENANTS="", ALLOW_ANY_TENANT="yes")
    assert run(["migrate"], capsys) == (0, "")
    configure(environment, ALLOWED_TENANTS="", ALLOW_ANY_TENANT="kanske")
    code, err = run(["migrate"], capsys)
    assert code == 2 and "ALLOW_ANY_TENANT='kanske' must be yes or no." in err


def test_on_loopback_a_developer_needs_no_tenant_list(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(environment, HOST="127.0.0.1", ALLOWED_TENANTS="", PUBLIC_URL="")
    assert run(["migrate"], capsys) == (0, "")


async def test_an_authenticated_bot_refuses_activities_without_a_tenant(
    settings: Settings, clock: FakeClock, connector: FakeConnector
) -> None:
    secured = replace(
        settings,
        app_id=NETWORK["MicrosoftAppId"],
        app_password=NETWORK["MicrosoftAppPassword"],
        allow_any_tenant=True,
    )
    house = compose(secured, clock)
    question = message("vem kan diabetes?", service_url=connector.url, tenant=None)
    question["channelId"] = "webchat"
    async with TestClient(TestServer(build_app(house))) as client:
        response = await client.post(
            "/api/messages",
            data=json.dumps(question),
            headers={"Content-Type": "application/json", "Authorization": "Bearer x"},
        )
        assert response.status == 403
        assert await response.json() == {"error": "activity without a tenant"}
    assert stored(house) == (0, 0)
    assert connector.sent == []


def stored(house: House) -> tuple[int, int]:
    with house.sessions() as session:
        refs = session.scalar(select(func.count()).select_from(ConversationRef)) or 0
        handled = session.scalar(select(func.count()).select_from(ProcessedActivity)) or 0
    return refs, handled


# --- PUBLIC_URL -------------------------------------------------------------------------------
@pytest.mark.parametrize("public_url", ["", "http://natverksboten.example.org"])
def test_off_loopback_public_url_must_be_https(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], public_url: str
) -> None:
    configure(environment, PUBLIC_URL=public_url)
    code, err = run(["migrate"], capsys)
    assert code == 2
    [line] = err.strip().splitlines()
    assert "PUBLIC_URL must be the https:// address" in line
    shown = public_url or "http://0.0.0.0:3978"
    assert f"calendar links would be {shown}/..." in line


# --- metrics ----------------------------------------------------------------------------------
async def test_with_a_metrics_token_even_loopback_must_show_it(
    settings: Settings, clock: FakeClock
) -> None:
    # A reverse proxy on the same host is loopback too: the token is the only key.
    house = compose(replace(settings, metrics_token="s3cret-token"), clock)
    async with TestClient(TestServer(build_app(house), host="127.0.0.1")) as client:
        assert (await client.get("/metrics")).status == 403
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer guess"})
        assert wrong.status == 403
        right = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert right.status == 200
        assert "natverksboten_turn_seconds" in await right.text()


# --- backups ----------------------------------------------------------------------------------
def test_a_backup_is_readable_by_its_owner_only(
    house: House,
    environment: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    environment.setenv("DATABASE_URL", house.settings.database_url)
    target = tmp_path / "backup.db"
    previous = os.umask(0o022)
    try:
        assert run(["backup", str(target)], capsys)[0] == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".backup-")] == []


def test_a_backup_is_never_written_through_a_symlink(
    house: House,
    environment: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    environment.setenv("DATABASE_URL", house.settings.database_url)
    victim = tmp_path / "elsewhere.db"
    planted = tmp_path / "backup.db"
    planted.symlink_to(victim)  # dangling: nothing there yet
    code, err = run(["backup", str(planted)], capsys)
    assert code == 2
    assert "exists already" in err
    assert not victim.exists()
    assert planted.is_symlink()
