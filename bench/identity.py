"""What the identity lookup costs a turn: Bot Connector lookups per user, and the time a cached
answer takes (the hot path when COORDINATORS names someone by e-mail).

    PYTHONPATH=. python bench/identity.py [--turns 20000] [--users 50]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from edge.identity import Identities


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def main(turns: int, users: int) -> None:
    asked: list[str] = []

    async def lookup(_: TurnContext, user_id: str) -> tuple[str | None, str | None]:
        asked.append(user_id)
        await asyncio.sleep(0)
        return f"{user_id[3:]}@example.org", f"aad-{user_id[3:]}"

    identities = Identities(FixedClock(), lookup=lookup)
    contexts = []
    for n in range(turns):
        user = f"29:user{n % users}"
        activity = Activity(
            type="message",
            channel_id="msteams",
            from_property=ChannelAccount(id=user, aad_object_id=f"aad-user{n % users}"),
            conversation=ConversationAccount(id=f"personal-{user}", tenant_id="t"),
            channel_data={"tenant": {"id": "t"}},
        )
        contexts.append(TurnContext(object(), activity))  # type: ignore[arg-type]
    started = time.perf_counter()
    for context in contexts:
        await identities.of(context)
    elapsed = time.perf_counter() - started
    print(f"turns: {turns}, users: {users}, Bot Connector lookups: {len(asked)}")
    print(f"mean time per turn, lookups included: {elapsed / turns * 1e6:.1f} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=20000)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.users))
