"""A shortened crash test: a sender dies mid-burst, a new one takes over; nothing lost.

The full version kills `python bot.py` with SIGKILL (bench/crash_reminders.py); here the first
service is cancelled mid-send, which leaves the database exactly as a kill would: leases held,
some sends made but not recorded. The subprocess version runs with CRASH_BENCH=1.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections import Counter

import pytest

from bot import House
from scheduler.delivery import Outgoing, Sender, SendResult, TeamsSender
from scheduler.nudges import NudgeService
from storage.reminders import CONVERSATION, NewReminder, Person, ReminderRepository
from tests.fakes import FakeClock, FakeConnector
from tests.test_reminders_delivery import TENANT, close, store_chat

MARK = re.compile(r"crash-(\d+)\b")


def counts(connector: FakeConnector) -> Counter[int]:
    found: Counter[int] = Counter()
    for sent in connector.messages():
        match = MARK.search(str(sent.body))
        if match:
            found[int(match.group(1))] += 1
    return found


async def test_a_sender_killed_mid_burst_loses_nothing(
    house: House, connector: FakeConnector, clock: FakeClock
) -> None:
    for c in range(10):
        store_chat(house, connector, f"chat-{c}")
    reminders = ReminderRepository(house.sessions)
    owner = Person("29:anna", "Anna", "aad-anna")
    total = 300
    reminders.add_many(
        [
            NewReminder(
                owner=owner,
                audience=CONVERSATION,
                conversation_id=f"chat-{i % 10}",
                text=f"crash-{i} påminnelse",
                due_at=clock.now(),
                tenant_id=TENANT,
            )
            for i in range(total)
        ],
        clock.now(),
    )

    def sender() -> TeamsSender:
        made = TeamsSender(house.adapter, "", house.conversations, clock)
        made.limiter.conversation_limits = ()
        made.limiter.tenant_limits = ()
        return made

    freezing = Freezing(sender(), after=40)
    first = NudgeService(ReminderRepository(house.sessions), None, freezing, clock)
    running = asyncio.create_task(first.deliver_due())
    await freezing.frozen.wait()
    running.cancel()  # the kill: sends on the wire or made but not recorded, leases held
    with pytest.raises(asyncio.CancelledError):
        await running
    assert sum(counts(connector).values()) < total

    # The restart: a new process (a new lease owner) catches up.
    second = NudgeService(ReminderRepository(house.sessions), None, sender(), clock)
    await second.catch_up()
    delivered = counts(connector)
    lost = [i for i in range(total) if delivered[i] == 0]
    doubled = sum(n - 1 for n in delivered.values() if n > 1)
    assert lost == []
    # At most what was in flight at the kill: the 32 sends on the wire, plus those finished but
    # waiting for the group commit that records them.
    assert doubled <= 64
    assert (await second.deliver_due()).sent == 0
    await close(house)


class Freezing:
    """A sender whose process dies after `after` sends: later sends reach the connector, then
    never return, as if the bot were killed between sending and recording."""

    def __init__(self, inner: Sender, after: int) -> None:
        self.inner = inner
        self.after = after
        self.done = 0
        self.frozen = asyncio.Event()

    async def send(self, message: Outgoing) -> SendResult:
        result = await self.inner.send(message)
        self.done += 1
        if self.done > self.after:
            self.frozen.set()
            await asyncio.Event().wait()
        return result


@pytest.mark.skipif(
    not os.environ.get("CRASH_BENCH"), reason="kills real bot processes; set CRASH_BENCH=1"
)
def test_sigkill_bench_short() -> None:
    from bench.crash_reminders import main

    assert main(["--reminders", "200", "--kills", "5", "--conversations", "40"]) == 0
