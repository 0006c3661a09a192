"""Crash test for reminders: kill the bot with SIGKILL while it sends, restart it, count.

    python bench/crash_reminders.py                      # SQLite, one bot process
    python bench/crash_reminders.py --mode postgres      # two bot processes on one PostgreSQL
    python bench/crash_reminders.py --signal term        # restarts with SIGTERM (a deploy)

1,000 reminders fall due within a few seconds. The bot (`python bot.py`, pointed at the database
with DATABASE_URL and at a free PORT) is killed with SIGKILL at random moments while it is sending
and started again, at least five times. A fake Bot Connector in this process counts deliveries per
reminder (stored conversation references carry its serviceUrl). Prints lost (must be 0) and
doubled, and shows where every double came from.

A double cannot be ruled out under SIGKILL: the Bot Connector's "send to conversation" takes no
idempotency key, so a send the connector accepted just before the kill, but that the dead process
had not yet recorded, is indistinguishable from one that never left, and it must be sent again
(losing it would be worse). Right after each kill, with the victim's rows frozen (its leases
hold them for a minute), the bench reads those ambiguous deliveries: still pending, leased by the
victim (a lease names host:pid:random), yet already counted by the connector. Every double must
be one of them: "doubled beyond in flight" is the bug counter and must be 0, with one process or
two.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import store_group_chat  # noqa: E402
from scheduler.timing import ReminderTiming  # noqa: E402
from storage.conversations import ConversationRepository  # noqa: E402
from storage.db import make_engine, make_sessions, migrate  # noqa: E402
from storage.reminders import (  # noqa: E402
    CONVERSATION,
    Delivery,
    NewReminder,
    Person,
    ReminderRepository,
)

PG_BIN = Path("/usr/lib/postgresql/15/bin")
MARK = re.compile(r"crash-(\d+)\b")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class CountingConnector:
    """Counts each reminder's deliveries; answers like the Bot Connector, a little slowly."""

    delay: float = 0.003
    counts: Counter[int] = field(default_factory=Counter)
    total: int = 0
    url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self._post)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._post)
        return app

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.text()
        await asyncio.sleep(self.delay)  # keeps sends in flight, where a kill hurts most
        found = MARK.search(body)
        if found:
            self.counts[int(found.group(1))] += 1
            self.total += 1
        return web.json_response({"id": f"m{self.total}"})


def seed(url: str, connector_url: str, reminders: int, conversations: int, spread: float) -> None:
    engine = make_engine(url)
    migrate(engine)
    sessions = make_sessions(engine)
    refs = ConversationRepository(sessions)
    now = datetime.now(UTC)
    for c in range(conversations):
        cid = f"19:crash-chat-{c}@thread.v2"
        tenant = f"tenant-{c % 25}"  # 25 tenants: Teams' 50/s per tenant still applies
        store_group_chat(refs, cid, tenant, connector_url, now)
    owner = Person("29:anna", "Anna", "aad-anna")
    repo = ReminderRepository(sessions, ReminderTiming())
    start = now + timedelta(seconds=2)
    items = [
        NewReminder(
            owner=owner,
            audience=CONVERSATION,
            conversation_id=f"19:crash-chat-{i % conversations}@thread.v2",
            tenant_id=f"tenant-{(i % conversations) % 25}",
            text=f"crash-{i + 1} påminnelse",
            due_at=start + timedelta(seconds=random.uniform(0, spread)),
        )
        for i in range(reminders)
    ]
    ids = repo.add_many(items, now)
    assert ids == list(range(1, reminders + 1)), "bench expects a fresh database"
    engine.dispose()


def unrecorded_sends(url: str, pid: int, counted: set[int]) -> list[int]:
    """Reminders the killed process `pid` had sent (the connector counted them) but not yet
    recorded as delivered: the only ones a restart may legitimately send again."""
    from sqlalchemy import select

    engine = make_engine(url)
    try:
        with make_sessions(engine)() as session:
            leased = session.scalars(
                select(Delivery.reminder_id).where(
                    Delivery.pending.is_(True), Delivery.lease_owner.like(f"%:{pid}:%")
                )
            ).all()
    finally:
        engine.dispose()
    return [reminder for reminder in leased if reminder in counted]


class Bot:
    def __init__(self, url: str, name: str, logs: Path) -> None:
        self.url = url
        self.name = name
        self.logs = logs
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "PORT": str(free_port()),
            "HOST": "127.0.0.1",
            "LOAD_DEMO_DATA": "no",
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        }
        for key in ("MicrosoftAppId", "MicrosoftAppPassword"):
            env.pop(key, None)
        log = open(self.logs / f"{self.name}-{self.starts}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "bot.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.starts += 1

    def kill(self) -> int | None:
        """SIGKILL; the dead process's pid, or None when it was not running."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            return self.process.pid
        return None

    def stop(self) -> int | None:
        """SIGTERM (the bot finishes its sends and exits); the pid, or None if not running."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
            return self.process.pid
        return None


class Postgres:
    """A throwaway server: initdb + pg_ctl as the postgres user (initdb refuses root)."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="crash-pg-"))
        self.port = free_port()

    def _run(self, *argv: str) -> None:
        command = list(argv)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def start(self) -> str:
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        data = self.base / "data"
        self._run(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust")
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.base / "log"),
            "start",
        )
        self._run(
            str(PG_BIN / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "bench",
        )
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/bench"

    def stop(self) -> None:
        try:
            self._run(
                str(PG_BIN / "pg_ctl"), "-D", str(self.base / "data"), "-m", "immediate", "stop"
            )
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


async def run(args: argparse.Namespace) -> dict[str, object]:
    random.seed(args.seed)
    connector = CountingConnector()
    runner = web.AppRunner(connector.app())
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    connector.url = f"http://127.0.0.1:{port}"

    work = Path(tempfile.mkdtemp(prefix="crash-reminders-"))
    pg = Postgres() if args.mode == "postgres" else None
    url = pg.start() if pg else f"sqlite:///{work / 'crash.db'}"
    started = time.perf_counter()
    try:
        await asyncio.to_thread(
            seed, url, connector.url, args.reminders, args.conversations, args.spread
        )
        bots = [Bot(url, f"bot{i}", work) for i in range(2 if pg else 1)]
        for bot in bots:
            bot.start()
        kills = 0
        in_flight: Counter[int] = Counter()  # reminder -> kills that caught it in flight
        while kills < args.kills:
            # Kill only while sending: wait for the next delivery, then a random moment after.
            before = connector.total
            waited = 0.0
            while connector.total == before and waited < 30:
                await asyncio.sleep(0.01)
                waited += 0.01
            if connector.total >= args.reminders and len(connector.counts) >= args.reminders:
                break  # everything is out already; no kill can hurt any more
            await asyncio.sleep(random.uniform(0.0, args.max_kill_delay))
            victim = random.choice(bots)
            # in a thread: the connector on this loop must keep answering a stopping bot
            stop = victim.kill if args.signal == "kill" else victim.stop
            pid = await asyncio.to_thread(stop)
            kills += 1
            if pid is not None:
                await asyncio.sleep(0.05)  # requests the connector was still answering
                caught = await asyncio.to_thread(unrecorded_sends, url, pid, set(connector.counts))
                in_flight.update(caught)
            victim.start()
        deadline = time.perf_counter() + args.timeout
        while len(connector.counts) < args.reminders and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(args.settle)  # a double after the last first delivery still counts
        for bot in bots:
            await asyncio.to_thread(bot.stop)
    finally:
        if pg:
            pg.stop()
        await runner.cleanup()
    elapsed = time.perf_counter() - started
    lost = [i for i in range(1, args.reminders + 1) if connector.counts[i] == 0]
    doubled = sum(c - 1 for c in connector.counts.values() if c > 1)
    beyond = sum(max(0, c - 1 - in_flight[i]) for i, c in connector.counts.items())
    result = {
        "mode": args.mode,
        "signal": args.signal,
        "processes": 2 if pg else 1,
        "reminders": args.reminders,
        "kills": kills,
        "delivered": len(connector.counts),
        "lost": len(lost),
        "doubled": doubled,
        "in_flight_at_kills": sum(in_flight.values()),
        "doubled_beyond_in_flight": beyond,
        "seconds": round(elapsed, 1),
    }
    if not lost and not beyond and not args.keep_logs:
        shutil.rmtree(work, ignore_errors=True)
    else:
        result["logs"] = str(work)
    return result


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mode", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--reminders", type=int, default=1000)
    p.add_argument("--conversations", type=int, default=200)
    p.add_argument("--spread", type=float, default=3.0, help="seconds over which they fall due")
    p.add_argument("--kills", type=int, default=6, help="restarts, by --signal")
    p.add_argument("--signal", choices=["kill", "term"], default="kill")
    p.add_argument("--max-kill-delay", type=float, default=0.4)
    p.add_argument("--timeout", type=float, default=240.0)
    p.add_argument("--settle", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep-logs", action="store_true", help="keep the bots' logs (printed)")
    return p


def main(argv: list[str] | None = None) -> int:
    result = asyncio.run(run(parser().parse_args(argv)))
    print(json.dumps(result, ensure_ascii=False))
    print(
        f"{result['mode']}: {result['reminders']} reminders, {result['kills']} restarts by "
        f"SIG{str(result['signal']).upper()}, "
        f"lost {result['lost']}, doubled {result['doubled']} "
        f"(sent but unrecorded at the kills: {result['in_flight_at_kills']}; "
        f"doubled beyond those: {result['doubled_beyond_in_flight']}), {result['seconds']} s"
    )
    return 0 if result["lost"] == 0 and result["doubled_beyond_in_flight"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
