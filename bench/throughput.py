"""Turns per second and per-turn latency of the real bot, against Microsoft's stock CloudAdapter
echo bot measured the same way in the same run.

Each bot runs as its own process pinned to one core (taskset); this process runs the load and a
fake Bot Connector on the other core. N activities come from C concurrent senders; then a run at
concurrency 1 gives the single-turn latency: from sending the activity until both the bot's HTTP
answer and its reply at the connector have arrived (the whole turn, state saved and all). The same
figures for a bare aiohttp bot making the same two HTTP hops (bench/http_floor_bot.py) show the
part of that latency that is the machine's and the harness's, not the bot's.

What the bot is asked (--mode):
- help: `hjälp` every time (the cheapest turn: no state, no reading);
- course / contact: the team's course or contact questions (tests/data/course_questions.tsv,
  tests/contact_questions.tsv); the run at concurrency 1 asks each question once, so no answer
  comes from a cache of an earlier identical question;
- mixed: member traffic in turn: a course question, a contact question, a reminder set, "mina
  påminnelser", thanks, help. Target (issue 13): at least 4x the stock echo bot's turns/s.

The members are many enough that none passes the 30 messages a minute limit.

    python bench/throughput.py [--mode help|course|contact|mixed] [--n 2000] [--concurrency 50]
                               [--single 300] [--skip-floor]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Connector:
    """Counts replies; wakes whoever waits for the reply to a given conversation."""

    def __init__(self) -> None:
        self.replies = 0
        self.waiters: dict[str, asyncio.Future[None]] = {}

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.replies += 1
        waiter = self.waiters.pop(request.match_info.get("aid", ""), None)
        if waiter and not waiter.done():
            waiter.set_result(None)
        return web.json_response({"id": f"r{self.replies}"})


def activity(i: int, service_url: str, text: str, users: int = 50) -> dict[str, Any]:
    """Activity i of `users` people, each writing in their own personal chat with the bot."""
    conversation = f"personal-{i % users}"
    return {
        "type": "message",
        "id": f"bench-{i}",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {
            "id": f"29:user{i % users}",
            "name": "Bench User",
            "aadObjectId": f"aad-{i % users}",
        },
        "conversation": {"id": conversation, "conversationType": "personal", "tenantId": "t"},
        "recipient": {"id": "28:bot", "name": "Nätverksboten"},
        "text": text,
        "locale": "sv-SE",
        "channelData": {"tenant": {"id": "t"}},
    }


def questions(path: Path) -> list[str]:
    """The first column of a question file, comments skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0].strip() for line in lines if line.strip() and line[0] != "#"]


COURSES = ROOT / "tests" / "data" / "course_questions.tsv"
CONTACTS = ROOT / "tests" / "contact_questions.tsv"
SUBJECTS = ("ringa Lina", "skicka enkäten", "boka lokal", "läsa protokollet", "beställa material")
MIXED_KINDS = ("course", "contact", "remind", "list", "thanks", "help")


def traffic(mode: str) -> list[tuple[str, str]]:
    """(kind, text) in the order they are sent, cycled."""
    if mode == "help":
        return [("help", "hjälp")]
    if mode == "course":
        return [("course", q) for q in questions(COURSES)]
    if mode == "contact":
        return [("contact", q) for q in questions(CONTACTS)]
    courses, contacts = questions(COURSES), questions(CONTACTS)
    days = ("imorgon", "på fredag", "på måndag", "om två dagar")
    mixed = []
    for n in range(max(len(courses), len(contacts))):
        subject = SUBJECTS[n % len(SUBJECTS)]
        mixed += [
            ("course", courses[n % len(courses)]),
            ("contact", contacts[n % len(contacts)]),
            ("remind", f"påminn mig {days[n % len(days)]} kl {8 + n % 9} om att {subject}"),
            ("list", "mina påminnelser"),
            ("thanks", ("tack!", "tack så mycket", "tusen tack")[n % 3]),
            ("help", "hjälp"),
        ]
    return mixed


def server_side_ms(log: Path) -> list[float]:
    """The bot's own per-turn durations (its JSON log line per turn), in order."""
    durations = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == "turn" and "duration_ms" in record:
            durations.append(float(record["duration_ms"]))
    return durations


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def percentile(ordered: list[float], q: float) -> float:
    return ordered[max(0, math.ceil(len(ordered) * q) - 1)]


async def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300  # a loaded machine starts slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"bot exited: {process.stderr.read().decode() if process.stderr else ''}"
            )
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("bot did not start")


async def measure(
    name: str,
    command: list[str],
    env: dict[str, str],
    texts: list[tuple[str, str]],
    args: argparse.Namespace,
    connector: Connector,
    service_url: str,
    offset: int,
    port_in_argv: bool = True,  # the bench's own bots take the port as argument; bot.py, PORT
) -> dict[str, float]:
    port = free_port()
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (the bot process writes it; read after)
        prefix="bench-bot-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        [*pin, *command, *([str(port)] if port_in_argv else [])],
        env={**os.environ, **env, "PORT": str(port)},
        cwd=env.get("CWD", str(ROOT)),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        await wait_for_port(port, process)
        url = f"http://127.0.0.1:{port}/api/messages"
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=args.concurrency)
        ) as session:
            # Enough members that none passes 30 messages a minute (dialogs/limits.py).
            users = max(50, math.ceil((args.n + args.single + 50) / 20))

            async def send(i: int, text: str) -> float:
                body = json.dumps(activity(offset + i, service_url, text, users))
                loop = asyncio.get_running_loop()
                replied = loop.create_future()
                connector.waiters[f"bench-{offset + i}"] = replied
                started = time.perf_counter()
                async with session.post(
                    url, data=body, headers={"Content-Type": "application/json"}
                ) as response:
                    assert response.status in (200, 201), response.status
                await asyncio.wait_for(replied, 30)
                return time.perf_counter() - started

            for i in range(50):  # warm-up, on words the questions below do not use
                await send(10_000_000 + i, ("hej", "hjälp", "tack")[i % 3])
            # The run at concurrency 1 first, while each question is new to the bot's caches.
            single: dict[str, list[float]] = {}
            for i, (kind, text) in zip(range(args.single), itertools.cycle(texts), strict=False):
                single.setdefault(kind, []).append(await send(20_000_000 + i, text))
            replies_before = connector.replies
            cpu_before = cpu_seconds(process.pid)
            queue = list(zip(range(args.n), itertools.cycle(texts), strict=False))
            queue.reverse()
            started = time.perf_counter()

            async def sender() -> None:
                while queue:
                    i, (_, text) = queue.pop()
                    await send(i, text)

            await asyncio.gather(*(sender() for _ in range(args.concurrency)))
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(process.pid) - cpu_before
            assert connector.replies - replies_before >= args.n
        # the bot's own turn times in the run at concurrency 1 (after the 50 of the warm-up)
        server = sorted(server_side_ms(Path(log.name))[50 : 50 + args.single])
        latencies = sorted(t for times in single.values() for t in times)
        return {
            "server_p50_ms": statistics.median(server) if server else float("nan"),
            "turns_per_s": args.n / elapsed,
            "cpu_ms_per_turn": cpu * 1000 / args.n,
            "single_p50_ms": statistics.median(latencies) * 1000,
            "single_p99_ms": percentile(latencies, 0.99) * 1000,
            **{
                f"{kind}_{p}": percentile(sorted(times), q) * 1000
                for kind, times in single.items()
                for p, q in (("p50", 0.5), ("p99", 0.99))
            },
            **{f"{kind}_count": float(len(times)) for kind, times in single.items()},
        }
    finally:
        process.terminate()
        process.wait(timeout=30)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("help", "course", "contact", "mixed"), default="help")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--single", type=int, default=300)
    parser.add_argument("--skip-floor", action="store_true", help="no bare-aiohttp floor run")
    args = parser.parse_args()
    if shutil.which("taskset"):
        os.sched_setaffinity(
            0, {1 % os.cpu_count()}
        )  # the load and the connector on the other core
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    connector = Connector()
    app = web.Application()
    app.router.add_post("/v3/conversations/{cid}/activities/{aid}", connector.handle)
    app.router.add_post("/v3/conversations/{cid}/activities", connector.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    connector_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", connector_port).start()
    service_url = f"http://127.0.0.1:{connector_port}"

    with tempfile.TemporaryDirectory() as scratch:
        ours_env = {
            "DATABASE_URL": f"sqlite:///{scratch}/bench.db",
            "LOG_LEVEL": "INFO",
            "MicrosoftAppId": "",
            "CWD": scratch,
        }
        ours = await measure(
            f"natverksboten ({args.mode})",
            [sys.executable, str(ROOT / "bot.py")],
            ours_env,
            traffic(args.mode),
            args,
            connector,
            service_url,
            0,
            port_in_argv=False,
        )

        async def bench_bot(script: str, offset: int) -> dict[str, float]:
            """One of the bench's own bots (they take the port as argument), answering hello."""
            command = [sys.executable, str(ROOT / "bench" / script)]
            return await measure(
                script,
                command,
                {"CWD": scratch},
                [("hello", "hello")],
                args,
                connector,
                service_url,
                offset,
            )

        stock = await bench_bot("stock_echo_bot.py", 100_000_000)
        floor = None if args.skip_floor else await bench_bot("http_floor_bot.py", 200_000_000)
    await runner.cleanup()

    print(
        f"N={args.n} activities, {args.concurrency} concurrent senders; each bot pinned to one "
        f"core; single-turn latency over {args.single} turns at concurrency 1"
    )
    print(
        f"{'bot':28} {'turns/s':>9} {'CPU ms/turn':>12} {'p50 ms (c=1)':>13} "
        f"{'p99 ms (c=1)':>13} {'in-bot p50 ms':>14}"
    )
    rows = [(f"natverksboten: {args.mode}", ours), ("stock echo bot (4.17.1)", stock)]
    if floor is not None:
        rows.append(("bare aiohttp, same 2 hops", floor))
    for name, figures in rows:
        print(
            f"{name:28} {figures['turns_per_s']:9.1f} {figures['cpu_ms_per_turn']:12.2f} "
            f"{figures['single_p50_ms']:13.2f} {figures['single_p99_ms']:13.2f} "
            f"{figures['server_p50_ms']:14.2f}"
        )
    print(
        "p50/p99 (c=1): the activity sent until the bot's answer and its reply at the fake "
        "connector both arrived; in-bot: the bot's own turn time from its log (the others log none)"
    )
    kinds = [k for k in MIXED_KINDS if f"{k}_p50" in ours]
    if len(kinds) > 1 or args.mode in ("course", "contact"):
        for kind in kinds:
            print(
                f"   {kind:8} c=1: p50 {ours[f'{kind}_p50']:6.1f} ms  "
                f"p99 {ours[f'{kind}_p99']:6.1f} ms  ({ours[f'{kind}_count']:.0f} turns)"
            )
    print(
        f"throughput ratio (natverksboten {args.mode} / stock echo): "
        f"{ours['turns_per_s'] / stock['turns_per_s']:.2f}x (target >= 4x for mixed)"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main())
