"""Reminder figures: start-to-ready with 100,000 pending, lateness under load, Teams' limits.

    python bench/reminders.py [--pending 100000] [--burst 10000] [--limited 3000]

1. 100,000 pending reminders in the database: time from NudgeService.start() (the app's clock on
   its in-memory job store, the catch-up run) until it is ready; and `python bot.py` until /healthz
   answers (that includes every other capability's start-up).
2. 10,000 reminders due within the same minute, against a fake Bot Connector without limits and
   our limiter off: delivery lateness p50/p99 (delivered_at - due_at from the database) and sends/s.
3. The same with Teams' limits on (7/s and 60/30 s per conversation, 50/s per tenant): the highest
   rate the connector saw per conversation and per tenant.

The fake connector runs in its own process so that it does not share the bot's event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bench.common import store_group_chat  # noqa: E402
from host.house import House  # noqa: E402
from host.house import close as close_house  # noqa: E402
from scheduler.clock import SystemClock  # noqa: E402
from scheduler.delivery import RateLimiter  # noqa: E402
from scheduler.nudges import NudgeService  # noqa: E402
from storage.conversations import ConversationRepository  # noqa: E402
from storage.db import make_engine, make_sessions, migrate  # noqa: E402
from storage.reminders import CONVERSATION, Delivery, Reminder  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the fake connector, in its own process ---------------------------------------------------
def serve_connector(port: int) -> None:
    from aiohttp import web

    seen: dict[str, list[float]] = {}

    async def post(request: web.Request) -> web.Response:
        await request.read()
        seen.setdefault(request.match_info["cid"], []).append(time.time())
        return web.json_response({"id": "x"})

    async def stats(_: web.Request) -> web.Response:
        return web.json_response(seen)

    async def reset(_: web.Request) -> web.Response:
        seen.clear()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/v3/conversations/{cid}/activities", post)
    app.router.add_post("/v3/conversations/{cid}/activities/{aid}", post)
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


def connector_stats(url: str) -> dict[str, list[float]]:
    with urllib.request.urlopen(f"{url}/stats") as response:
        return json.loads(response.read())


def connector_reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/reset", method="POST")).read()


def wait_for(url: str, seconds: float = 20.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return time.perf_counter() - started
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(url)


# --- seeding ----------------------------------------------------------------------------------
def seed_conversations(sessions, connector_url: str, count: int, tenants: int) -> list[str]:  # type: ignore[no-untyped-def]
    refs = ConversationRepository(sessions)
    ids = []
    for c in range(count):
        cid = f"19:bench-{c}@thread.v2"
        tenant = f"tenant-{c % tenants}"
        store_group_chat(refs, cid, tenant, connector_url, datetime.now(UTC))
        ids.append(cid)
    return ids


def seed_reminders(engine, conversations: list[str], tenants: int, dues: list[datetime]) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    rows = [
        {
            "kind": "reminder",
            "owner_id": "29:anna",
            "owner_name": "Anna",
            "audience": CONVERSATION,
            "conversation_id": conversations[i % len(conversations)],
            "tenant_id": f"tenant-{(i % len(conversations)) % tenants}",
            "text": f"bench {i}",
            "due_at": due,
            "created_at": now,
        }
        for i, due in enumerate(dues)
    ]
    with engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            connection.execute(insert(Reminder), rows[start : start + 5000])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best = start = 0
    for end, moment in enumerate(times):
        while times[start] <= moment - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def service(url: str, limited: bool) -> tuple[House, NudgeService]:
    """The production wiring: compose() with the system clock; only the limiter is switched."""
    from dataclasses import replace

    from bot import Settings, compose, prepare

    house = compose(replace(Settings(), database_url=url, load_demo=False), SystemClock())
    prepare(house)
    nudges: NudgeService = house.nudges
    if not limited:
        limiter: RateLimiter = nudges._sender.limiter  # type: ignore[attr-defined]  # noqa: SLF001
        limiter.conversation_limits = ()
        limiter.tenant_limits = ()
    return house, nudges


async def stop(house: House, nudges: NudgeService) -> None:
    await nudges.stop()
    await close_house(house)


# --- the figures -----------------------------------------------------------------------------
async def start_to_ready(url: str, connector_url: str, pending: int) -> dict[str, float]:
    engine = make_engine(url)
    migrate(engine)
    sessions = make_sessions(engine)
    conversations = seed_conversations(sessions, connector_url, 100, 10)
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    dues = [now + timedelta(days=1, seconds=random.uniform(0, 30 * 86400)) for _ in range(pending)]
    seed_reminders(engine, conversations, 10, dues)
    seeded = time.perf_counter() - t0
    house, nudges = service(url, limited=True)
    t1 = time.perf_counter()
    nudges.start()
    house.jobs.start()
    await nudges.deliver_due()  # waits for the catch-up run to finish (the lock)
    ready = time.perf_counter() - t1
    await stop(house, nudges)
    engine.dispose()
    return {"pending": pending, "seed_s": round(seeded, 1), "service_ready_s": round(ready, 3)}


async def burst(
    url: str, connector_url: str, count: int, limited: bool, convs: int, tenants: int, window: float
) -> dict[str, float]:
    engine = make_engine(url)
    migrate(engine)
    sessions = make_sessions(engine)
    conversations = seed_conversations(sessions, connector_url, convs, tenants)
    start = datetime.now(UTC) + timedelta(seconds=5)
    dues = sorted(start + timedelta(seconds=random.uniform(0, window)) for _ in range(count))
    seed_reminders(engine, conversations, tenants, dues)
    connector_reset(connector_url)
    house, nudges = service(url, limited)
    nudges.start()
    house.jobs.start()
    t0 = time.perf_counter()
    last_due = dues[-1]
    while True:
        await asyncio.sleep(0.5)
        with sessions() as session:
            pending = session.scalar(select(Delivery.id).where(Delivery.pending.is_(True)).limit(1))
            left = session.scalar(select(Reminder.id).where(Reminder.due_at.is_not(None)).limit(1))
        if pending is None and left is None and datetime.now(UTC) > last_due:
            break
        if time.perf_counter() - t0 > 900:
            break
    await stop(house, nudges)
    with sessions() as session:
        rows = session.execute(select(Delivery.due_at, Delivery.delivered_at)).all()
    engine.dispose()
    lateness = [(d - due).total_seconds() for due, d in rows if d is not None]
    seen = connector_stats(connector_url)
    every = sorted(t for times in seen.values() for t in times)
    by_tenant: dict[str, list[float]] = {}
    for c, times in seen.items():
        tenant = f"tenant-{int(c.split('-')[1].split('@')[0]) % tenants}"
        by_tenant.setdefault(tenant, []).extend(times)
    result: dict[str, float] = {
        "reminders": count,
        "delivered": len(lateness),
        "lateness_p50_s": round(percentile(lateness, 50), 3),
        "lateness_p99_s": round(percentile(lateness, 99), 3),
        "lateness_max_s": round(max(lateness, default=float("nan")), 3),
        "sends_per_s_peak": max_in_window(every, 1.0),
        "sends_per_s_mean": round(len(every) / max(every[-1] - every[0], 1e-9), 1)
        if len(every) > 1
        else 0,
    }
    if limited:
        result["max_per_conversation_1s"] = max(max_in_window(t, 1.0) for t in seen.values())
        result["max_per_conversation_30s"] = max(max_in_window(t, 30.0) for t in seen.values())
        result["max_per_tenant_1s"] = max(max_in_window(t, 1.0) for t in by_tenant.values())
    return result


def bot_process_ready(url: str) -> float:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PORT": str(port),
        "LOAD_DEMO_DATA": "no",
        "LOG_LEVEL": "WARNING",
    }
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "bot.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", 120)
        return round(time.perf_counter() - started, 2)
    finally:
        process.terminate()
        process.wait(timeout=10)


async def main_async(args: argparse.Namespace) -> None:
    random.seed(1)
    port = free_port()
    connector = subprocess.Popen([sys.executable, __file__, "--serve-connector", str(port)])
    connector_url = f"http://127.0.0.1:{port}"
    work = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    try:
        wait_for(f"{connector_url}/stats")
        ready_db = f"sqlite:///{work / 'ready.db'}"
        figures = {}
        if args.only in ("", "start"):
            figures["start"] = await start_to_ready(ready_db, connector_url, args.pending)
            if args.process:
                figures["start"]["bot_process_ready_s"] = bot_process_ready(ready_db)
            print(json.dumps(figures["start"]), flush=True)
        if args.only in ("", "unlimited"):
            figures["unlimited"] = await burst(
                f"sqlite:///{work / 'burst.db'}", connector_url, args.burst, False, 500, 10, 60.0
            )
            print(json.dumps(figures["unlimited"]), flush=True)
        if args.only not in ("", "limited"):
            return
        figures["limited"] = await burst(
            f"sqlite:///{work / 'limited.db'}", connector_url, args.limited, True, 20, 2, 5.0
        )
        print(json.dumps(figures["limited"]), flush=True)
    finally:
        connector.terminate()
        connector.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--limited", type=int, default=3_000)
    parser.add_argument("--only", choices=["", "start", "unlimited", "limited"], default="")
    parser.add_argument("--process", action="store_true", help="also time `python bot.py`")
    parser.add_argument("--serve-connector", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_connector:
        serve_connector(args.serve_connector)
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
