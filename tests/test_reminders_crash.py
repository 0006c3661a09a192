"""A shortened crash test: a sender dies mid-burst, a new one takes over; nothing lost.

The full version kills `python bot.py` with SIGKILL: `PYTHONPATH=. python bench/crash_reminders.py
--reminders 200 --kills 5 --conversations 40` (a bench, minutes). Here the first service is
cancelled mid-send, which leaves the database exactly as a kill would: leases held, some sends
made but not recorded.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from bot import House
from dialogs.reminder_cards import ReminderCards
from scheduler.delivery import Outgoing, Sender, SendResult, TeamsSender
from scheduler.nudges import NudgeService
from scheduler.timing import ReminderTiming
from storage.reminders import CONVERSATION, Delivery, NewReminder, Person, ReminderRepository
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


def due_burst(
    house: House, connector: FakeConnector, clock: FakeClock, total: int
) -> ReminderRepository:
    """`total` reminders due now over ten group chats, marked crash-0, crash-1, ..."""
    for c in range(10):
        store_chat(house, connector, f"chat-{c}")
    reminders = ReminderRepository(house.sessions, ReminderTiming())
    owner = Person("29:anna", "Anna", "aad-anna")
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
    return reminders


def unlimited_sender(house: House, clock: FakeClock) -> TeamsSender:
    made = TeamsSender(house.adapter, "", house.conversations, clock)
    made.limiter.conversation_limits = ()
    made.limiter.tenant_limits = ()
    return made


async def test_a_sender_killed_mid_burst_loses_nothing(
    house: House, connector: FakeConnector, clock: FakeClock
) -> None:
    total = 300
    due_burst(house, connector, clock, total)

    def sender() -> TeamsSender:
        return unlimited_sender(house, clock)

    freezing = Freezing(sender(), after=40)
    first = NudgeService(
        ReminderRepository(house.sessions, ReminderTiming()), None, freezing, clock, ReminderCards()
    )
    running = asyncio.create_task(first.deliver_due())
    await freezing.frozen.wait()
    running.cancel()  # the kill: sends on the wire or made but not recorded, leases held
    with pytest.raises(asyncio.CancelledError):
        await running
    assert sum(counts(connector).values()) < total

    # The restart: a new process (a new lease owner) catches up.
    second = NudgeService(
        ReminderRepository(house.sessions, ReminderTiming()), None, sender(), clock, ReminderCards()
    )
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


async def test_a_graceful_stop_mid_burst_doubles_nothing_and_hands_back_the_rest(
    house: House, connector: FakeConnector, clock: FakeClock
) -> None:
    """SIGTERM (a deploy, a rolling restart): the sends on the wire finish and are recorded,
    what was claimed but not sent is handed back at once; the next process sends only that."""
    total = 300
    reminders = due_burst(house, connector, clock, total)

    def sender() -> TeamsSender:
        return unlimited_sender(house, clock)

    slow = Gated(sender(), free=40)
    first = NudgeService(
        ReminderRepository(house.sessions, ReminderTiming()), None, slow, clock, ReminderCards()
    )
    running = asyncio.create_task(first.deliver_due())
    await slow.waiting.wait()  # sends on the wire, held by a slow connector
    stopping = asyncio.create_task(first.stop())
    for _ in range(50):  # let every ready task run; the gate stays shut
        await asyncio.sleep(0)
    assert not stopping.done()  # it waits for the sends on the wire
    slow.gate.set()
    await stopping
    # The process exits after stop(): whatever still runs is cancelled. Nothing may be left.
    assert running.done()
    await running
    after_first = counts(connector)
    assert 40 < sum(after_first.values()) < total
    recorded = set(reminders.delivered_counts())
    assert {i + 1 for i in after_first} <= recorded  # every send is recorded (ids from 1)
    with house.sessions() as session:
        held = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.pending.is_(True), Delivery.lease_owner.is_not(None))
        )
    assert held == 0  # handed back: nobody waits for a lease to run out

    second = NudgeService(
        ReminderRepository(house.sessions, ReminderTiming()), None, sender(), clock, ReminderCards()
    )
    await second.catch_up()
    delivered = counts(connector)
    assert sorted(delivered) == list(range(total))
    assert set(delivered.values()) == {1}
    await close(house)


class Gated:
    """A sender whose connector is slow: after `free` sends, sends wait until `gate` opens."""

    def __init__(self, inner: Sender, free: int) -> None:
        self.inner = inner
        self.free = free
        self.started = 0
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def send(self, message: Outgoing) -> SendResult:
        self.started += 1
        if self.started > self.free:
            self.waiting.set()
            await self.gate.wait()
        return await self.inner.send(message)


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
