"""Turns per second and per-turn latency of the real bot answering `hjälp`, against Microsoft's
stock CloudAdapter echo bot measured the same way in the same run.

Each bot runs as its own process pinned to one core (taskset); this process runs the load and a
fake Bot Connector on the other core. N activities come from C concurrent senders; then a run at
concurrency 1 gives the single-turn latency: from sending the activity until both the bot's HTTP
answer and its reply at the connector have arrived (the whole turn, state saved and all). The same
figures for a bare aiohttp bot making the same two HTTP hops (bench/http_floor_bot.py) show the
part of that latency that is the machine's and the harness's, not the bot's.

    python bench/throughput.py [--n 2000] [--concurrency 50] [--single 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


def server_side_ms(log: Path, last: int) -> list[float]:
    """The bot's own per-turn durations (its JSON log line per turn) for the last `last` turns."""
    durations = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == "turn" and "duration_ms" in record:
            durations.append(float(record["duration_ms"]))
    return sorted(durations[-last:])


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


async def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
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
    text: str,
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

            async def send(i: int) -> float:
                body = json.dumps(activity(offset + i, service_url, text))
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

            for i in range(50):  # warm-up
                await send(10_000_000 + i)
            replies_before = connector.replies
            cpu_before = cpu_seconds(process.pid)
            queue = list(range(args.n))
            started = time.perf_counter()

            async def sender() -> None:
                while queue:
                    await send(queue.pop())

            await asyncio.gather(*(sender() for _ in range(args.concurrency)))
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(process.pid) - cpu_before
            assert connector.replies - replies_before == args.n
            latencies = [await send(20_000_000 + i) for i in range(args.single)]
        latencies.sort()
        server = server_side_ms(Path(log.name), args.single)
        return {
            "server_p50_ms": statistics.median(server) if server else float("nan"),
            "turns_per_s": args.n / elapsed,
            "cpu_ms_per_turn": cpu * 1000 / args.n,
            "single_p50_ms": statistics.median(latencies) * 1000,
            "single_p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        }
    finally:
        process.terminate()
        process.wait(timeout=30)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--single", type=int, default=300)
    args = parser.parse_args()
    if shutil.which("taskset"):
        os.sched_setaffinity(
            0, {1 % os.cpu_count()}
        )  # the load and the connector on the other core

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
            "natverksboten (hjälp)",
            [sys.executable, str(ROOT / "bot.py")],
            ours_env,
            "hjälp",
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
                script, command, {"CWD": scratch}, "hello", args, connector, service_url, offset
            )

        stock = await bench_bot("stock_echo_bot.py", 100_000_000)
        floor = await bench_bot("http_floor_bot.py", 200_000_000)
    await runner.cleanup()

    print(
        f"N={args.n} activities, {args.concurrency} concurrent senders; each bot pinned to one "
        f"core; single-turn latency over {args.single} turns at concurrency 1"
    )
    print(
        f"{'bot':28} {'turns/s':>9} {'CPU ms/turn':>12} {'p50 ms (c=1)':>13} "
        f"{'p99 ms (c=1)':>13} {'in-bot p50 ms':>14}"
    )
    rows = (
        ("natverksboten: hjälp", ours),
        ("stock echo bot (4.17.1)", stock),
        ("bare aiohttp, same 2 hops", floor),
    )
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
    print(
        f"throughput ratio (natverksboten / stock echo): "
        f"{ours['turns_per_s'] / stock['turns_per_s']:.2f}x (target >= 4x)"
    )


if __name__ == "__main__":
    asyncio.run(main())
