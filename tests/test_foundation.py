"""Settings, Bot Framework state in our database, and conversations through TestAdapter."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botbuilder.core import ConversationState, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from sqlalchemy.orm import Session, sessionmaker

from bot import House, Settings, SettingsError, compose, prepare
from edge.state import SqlStorage
from storage.conversations import ActivityLedger, StateRepository
from tests.fakes import FakeClock

ROOT = Path(__file__).resolve().parent.parent


# --- settings ------------------------------------------------------------------------------
def test_defaults_are_the_embedded_ones() -> None:
    settings = Settings.from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 3978)
    assert settings.database_url == "sqlite:///natverksboten.db"
    assert settings.allowed_tenants == frozenset()


def test_every_bad_value_gets_its_own_line() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {
                "PORT": "http",
                "MicrosoftAppType": "Sometimes",
                "LOG_LEVEL": "LOUD",
                "DATABASE_URL": "not a url",
            }
        )
    problems = caught.value.problems
    assert len(problems) == 4
    assert any(p.startswith("PORT='http'") for p in problems)
    assert any(p.startswith("MicrosoftAppType='Sometimes'") for p in problems)
    assert any(p.startswith("LOG_LEVEL='LOUD'") for p in problems)
    assert any(p.startswith("DATABASE_URL") for p in problems)


def test_no_app_id_on_a_network_address_is_refused_with_the_fix() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"HOST": "0.0.0.0"})
    [problem] = caught.value.problems
    assert "MicrosoftAppId is empty" in problem and "HOST=127.0.0.1" in problem
    assert Settings.from_env({"HOST": "::1"}).host == "::1"
    secured = Settings.from_env(
        {
            "HOST": "0.0.0.0",
            "MicrosoftAppId": "id",
            "MicrosoftAppPassword": "pw",
            "ALLOWED_TENANTS": "tenant-gr",
            "PUBLIC_URL": "https://natverksboten.example.org",
        }
    )
    assert secured.app_type == "MultiTenant"


def test_single_tenant_needs_its_tenant() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {
                "MicrosoftAppId": "id",
                "MicrosoftAppPassword": "pw",
                "MicrosoftAppType": "SingleTenant",
            }
        )
    assert caught.value.problems == [
        "MicrosoftAppTenantId is required when MicrosoftAppType=SingleTenant."
    ]


def test_lists_are_comma_separated_and_case_free() -> None:
    settings = Settings.from_env(
        {"ALLOWED_TENANTS": "T1, t2,,", "COORDINATORS": "Samordnare@Example.org,aad-1"}
    )
    assert settings.allowed_tenants == frozenset({"t1", "t2"})
    assert settings.coordinators == frozenset({"samordnare@example.org", "aad-1"})


def test_the_command_line_refuses_to_start_and_says_why(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bot.py")],
        env={**os.environ, "HOST": "0.0.0.0", "MicrosoftAppId": "", "PORT": "x"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith("Configuration error: ") for line in lines)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Generous: under heavy load (six test suites on two cores) the bot has taken over a minute to
# import, migrate and listen. The bound only keeps a broken start from hanging the suite.
READY_WITHIN = 300.0


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return bool(response.status == 200 and json.load(response)["status"] == "ok")
    except (OSError, ValueError):
        return False


def test_sigterm_stops_the_server_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    # Output to files, not pipes: a full pipe would block the server while we wait for it.
    with (tmp_path / "out.log").open("wb") as out, (tmp_path / "err.log").open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py")],
            env={
                **os.environ,
                "PORT": str(port),
                "MicrosoftAppId": "",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            },
            cwd=tmp_path,
            stdout=out,
            stderr=err,
        )
    errors = tmp_path / "err.log"
    try:
        # SIGTERM only once the server answers: a signal during start-up proves nothing.
        give_up = time.monotonic() + READY_WITHIN
        while not _healthy(port):
            if process.poll() is not None:
                pytest.fail(f"the bot exited before serving: {errors.read_text()}")
            if time.monotonic() > give_up:
                pytest.fail(f"the bot did not answer /healthz: {errors.read_text()}")
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=READY_WITHIN) == 0, errors.read_text()
    finally:
        process.kill()
        process.wait()
    # stopped cleanly: no traceback, the port is free again, the database is where it was put
    assert "Traceback" not in errors.read_text()
    with socket.socket() as sock:
        # (SO_REUSEADDR: our /healthz connections may linger in TIME_WAIT; a listener may not)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
    assert (tmp_path / "bot.db").exists()


# --- Bot Framework state in the database -----------------------------------------------------
async def test_state_store_refuses_a_stale_write(any_sessions: sessionmaker[Session]) -> None:
    clock = FakeClock(datetime(2026, 11, 23, tzinfo=UTC))
    storage = SqlStorage(StateRepository(any_sessions), clock)
    await storage.write({"conv/1": {"step": "ask_municipality"}})
    first = (await storage.read(["conv/1"]))["conv/1"]
    second = (await storage.read(["conv/1"]))["conv/1"]
    first["step"] = "ask_role"
    await storage.write({"conv/1": first})
    second["step"] = "stale"
    with pytest.raises(KeyError):
        await storage.write({"conv/1": second})
    assert (await storage.read(["conv/1"]))["conv/1"]["step"] == "ask_role"
    second["e_tag"] = "*"
    await storage.write({"conv/1": second})
    assert (await storage.read(["conv/1"]))["conv/1"]["step"] == "stale"
    await storage.delete(["conv/1"])
    assert await storage.read(["conv/1"]) == {}


async def test_conversation_state_survives_a_restart(settings: Settings, clock: FakeClock) -> None:
    activity = Activity(
        type="message",
        text="x",
        channel_id="test",
        conversation=ConversationAccount(id="conv-restart"),
        from_property=ChannelAccount(id="u1"),
        recipient=ChannelAccount(id="bot"),
    )

    async def remember(house: House, value: str | None) -> str | None:
        state = ConversationState(SqlStorage(StateRepository(house.sessions), clock))
        counter = state.create_property("counter")
        seen: list[str | None] = []

        async def logic(context: TurnContext) -> None:
            seen.append(await counter.get(context, lambda: None))
            if value is not None:
                await counter.set(context, value)
            await state.save_changes(context)

        await TestAdapter(logic).receive_activity(activity)
        return seen[0]

    first = compose(settings, clock)
    prepare(first)
    assert await remember(first, "kept") is None
    first.engine.dispose()
    second = compose(settings, clock)
    prepare(second)
    assert await remember(second, None) == "kept"


# --- conversations through TestAdapter -------------------------------------------------------
async def test_help_lists_examples_through_test_adapter(house: House) -> None:
    adapter = TestAdapter(house.bot.on_turn)
    flow = await adapter.send("hjälp")
    await flow.assert_reply(
        lambda activity, _=None: _assert_help_card(activity)  # type: ignore[misc]
    )


def _assert_help_card(activity: Activity) -> None:
    card = activity.attachments[0].content
    assert card["body"][0]["text"] == "Det här kan jag hjälpa till med"
    assert card["version"] == "1.5"


async def test_greeting_and_cancel_with_nothing_running(house: House) -> None:
    adapter = TestAdapter(house.bot.on_turn)
    flow = await adapter.send("hej")
    flow = await flow.assert_reply("Hej", is_substring=True)
    flow = await flow.send("avbryt")
    await flow.assert_reply("Det finns inget att avbryta just nu.")


def test_demo_data_can_be_left_out(settings: Settings, clock: FakeClock) -> None:
    from dataclasses import replace

    house = compose(replace(settings, load_demo=False), clock)
    prepare(house)
    assert house.courses.search("demens") == []
    house.engine.dispose()


# --- the retry ledger ---------------------------------------------------------------------------
def test_a_retry_is_recognised_whichever_way_the_first_claim_went(
    any_sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    ledger = ActivityLedger(any_sessions)
    try:
        first = ledger.claim_without_waiting("c1", "a1", clock.now())
        if first is None:  # PostgreSQL: always on a worker thread
            assert any_sessions.kw["bind"].dialect.name == "postgresql"
            first = ledger.claim("c1", "a1", clock.now())
        assert first is True
        assert ledger.claim("c1", "a1", clock.now()) is False
        assert ledger.claim_without_waiting("c1", "a1", clock.now()) in (False, None)
        assert ledger.claim("c1", "a2", clock.now()) is True
    finally:
        ledger.close()


def test_the_event_loop_never_waits_for_another_writer(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    """While another connection holds SQLite's write lock (an import, a reminder batch), the
    claim made on the event loop gives up at once, and the worker-thread claim still works."""
    ledger = ActivityLedger(sessions)
    engine = sessions.kw["bind"]
    try:
        with engine.connect() as writer:
            writer.exec_driver_sql("BEGIN IMMEDIATE")
            # The answer comes while the writer still holds the lock: the lane does not wait
            # out a busy timeout, it has none.
            assert ledger.claim_without_waiting("c1", "a1", clock.now()) is None
            lane = ledger._lane
            assert lane is not None
            with lane.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 0
            writer.rollback()
        assert ledger.claim("c1", "a1", clock.now()) is True
        assert ledger.claim_without_waiting("c1", "a1", clock.now()) is False
    finally:
        ledger.close()
