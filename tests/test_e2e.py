"""End to end: the real bot, the Microsoft 365 Agents Playground and headless Chromium.

    tests/e2e/install.sh                  # once: chromium (apt) and the npm packages
    python -m pytest tests/test_e2e.py    # the scripted conversations in tests/e2e/run_e2e.mjs

Starts `python bot.py serve` on a free loopback port with a fresh SQLite database and no app
id, then the playground (Teams channel, offline, no telemetry) pointed at it, then the node
script, which talks to the bot through the playground's web UI and keeps a screenshot per
conversation in tests/e2e/screenshots/: welcome and help, a course, a contact, a reminder set,
listed and received, a poll answered on its card and booked. Skipped, with the reason, where
node, chromium or the npm packages are missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
E2E = ROOT / "tests" / "e2e"
PLAYGROUND = E2E / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# The playground's mock Teams context (tests/e2e/.m365agentsplayground.yml).
TENANT = "00000000-0000-0000-0000-0000000000001"
# The current user's aadObjectId: COORDINATORS for the bot, so Anna may plan and book a poll.
ANNA = "00000000-0000-0000-0000-0000000000020"
# Seconds for all conversations: about 2 minutes (over 3 on a loaded machine), of which the
# reminder's wait for the real clock is one; each wait in run_e2e.mjs is bounded, this only stops
# a hung browser.
RUN_TIMEOUT = 300


def _missing() -> str | None:
    node = shutil.which("node")
    if node is None:
        return "node is not installed"
    if not Path(CHROMIUM).exists():
        return f"chromium is not installed at {CHROMIUM}"
    if not PLAYGROUND.exists() or not (E2E / "node_modules" / "playwright-core").exists():
        return "the npm packages in tests/e2e are not installed"
    return None


pytestmark = pytest.mark.skipif(
    _missing() is not None, reason=f"end-to-end: {_missing()}; run tests/e2e/install.sh"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def bot_url(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    log = tmp_path / "bot.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        # Anonymous on loopback, as the playground sends no tokens; also beats a local .env.
        "MicrosoftAppId": "",
        "MicrosoftAppPassword": "",
        "MicrosoftAppType": "MultiTenant",
        "MicrosoftAppTenantId": "",
        "ALLOWED_TENANTS": TENANT,
        "COORDINATORS": ANNA,
        "LOG_LEVEL": "INFO",
    }
    with log.open("wb") as out:
        # cwd: an empty directory, so no developer's .env is read.
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py"), "serve"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"the bot did not start:\n{_tail(log)}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the bot is not listening on {port} after 60 s:\n{_tail(log)}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/api/messages"
    finally:
        _stop(process)


@pytest.fixture
def playground_url(bot_url: str, tmp_path: Path) -> Iterator[str]:
    log = tmp_path / "playground.log"
    env = {
        **os.environ,
        "TEAMSAPPTESTER_BROWSER": "none",  # else it tries to open a desktop browser
        "M365_AGENTS_PLAYGROUND_LOGFILE": str(log),  # else ./devTools/ in the cwd
        "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(E2E / ".m365agentsplayground.yml"),
        # The playground stamps each activity's `localTimezone` with its own process's zone (as
        # a Teams client does with the user's): a Swedish user's, not this machine's UTC.
        "TZ": "Europe/Stockholm",
    }
    command = ["node", str(PLAYGROUND), "-e", bot_url, "-c", "msteams", "--dt"]
    command += ["-p", str(_free_port())]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert process.stdout is not None
        # It moves to a random port when the one asked for is taken; it says which.
        port = None
        seen: list[str] = []
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = process.stdout.readline().decode(errors="replace")
            if not line and process.poll() is not None:
                break
            seen.append(line.rstrip())
            match = re.match(r"Listening on (\d+)", line)
            port = int(match.group(1)) if match else None
        if port is None:
            pytest.fail("the playground did not start:\n" + "\n".join(seen))
        # Keep reading its output so a full pipe never blocks it.
        threading.Thread(target=process.stdout.read, daemon=True).start()
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


def test_conversations_through_the_playground(
    playground_url: str, bot_url: str, tmp_path: Path
) -> None:
    shots = E2E / "screenshots"
    run = subprocess.run(
        ["node", str(E2E / "run_e2e.mjs"), "--url", playground_url, "--shots", str(shots)],
        cwd=E2E,
        env={**os.environ, "CHROMIUM": CHROMIUM},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    results = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    conversations = [result for result in results if "conversation" in result]
    failed = [result for result in conversations if not result["ok"]]
    report = "\n".join(
        f"{r['conversation']}: {r.get('error', '')} (screenshot {r.get('screenshot')})"
        for r in failed
    )
    assert run.returncode == 0 and conversations and not failed, (
        f"end-to-end conversations failed (exit {run.returncode}):\n{report}\n"
        f"--- node stderr ---\n{run.stderr[-3000:]}\n"
        f"--- bot log ---\n{_tail(tmp_path / 'bot.log')}\n"
        f"--- playground log ---\n{_tail(tmp_path / 'playground.log')}"
    )
    for result in conversations:
        assert Path(result["screenshot"]).stat().st_size > 10_000
