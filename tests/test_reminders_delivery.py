"""TeamsSender against the fake Bot Connector: Teams' rate limits, 429 and Retry-After, backoff.

Time inside the sender is a fake monotonic clock that its fake sleep moves forward: no test sleeps.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient

from bot import House
from dialogs.reminder_cards import ReminderCards
from host.house import close as close_house
from scheduler.delivery import (
    GONE,
    SENT,
    Outgoing,
    RateLimiter,
    Recipient,
    TeamsSender,
)
from scheduler.nudges import NudgeService
from scheduler.timing import ReminderTiming
from storage.conversations import Reference
from storage.reminders import CONVERSATION, NewReminder, Person, ReminderRepository
from tests.fakes import FakeClock, FakeConnector

TENANT = "tenant-gr"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def store_chat(house: House, connector: FakeConnector, conversation_id: str) -> None:
    reference = {
        "activityId": "a1",
        "bot": {"id": "28:natverksboten", "name": "Nätverksboten"},
        "channelId": "msteams",
        "conversation": {
            "id": conversation_id,
            "conversationType": "groupChat",
            "tenantId": TENANT,
        },
        "serviceUrl": connector.url,
        "user": {"id": "29:anna", "name": "Anna"},
    }
    house.conversations.upsert(
        Reference(
            conversation_id=conversation_id,
            channel_id="msteams",
            service_url=connector.url,
            tenant_id=TENANT,
            conversation_type="groupChat",
            user_id="29:anna",
            aad_object_id="aad-anna",
            user_name="Anna",
            reference=json.dumps(reference),
        ),
        datetime(2026, 11, 23, tzinfo=UTC),
    )


async def close(house: House) -> None:
    """What the app's shutdown does, for tests that use the house without starting the app
    (a started app would run its own nudge service beside the test's)."""
    await close_house(house)


def sender_for(house: House, clock: FakeClock, time: FakeTime, **limits: object) -> TeamsSender:
    limiter = RateLimiter(monotonic=time.monotonic, sleep=time.sleep, **limits)  # type: ignore[arg-type]
    return TeamsSender(
        house.adapter, "", house.conversations, clock, limiter=limiter, rand=lambda: 1.0
    )


async def test_retry_after_is_waited_exactly(
    house: House, connector: FakeConnector, clock: FakeClock, client: TestClient
) -> None:
    store_chat(house, connector, "chat-1")
    connector.failures["chat-1"] += [(429, {"Retry-After": "3"}), (429, {"Retry-After": "2"})]
    time = FakeTime()
    result = await sender_for(house, clock, time).send(
        Outgoing(Recipient(conversation_id="chat-1", tenant_id=TENANT), "hej")
    )
    assert result.outcome == SENT
    assert time.slept == [3.0, 2.0]
    assert connector.texts("chat-1") == ["hej"]


async def test_without_retry_after_the_backoff_grows(
    house: House, connector: FakeConnector, clock: FakeClock, client: TestClient
) -> None:
    store_chat(house, connector, "chat-1")
    connector.failures["chat-1"] += [(429, {}), (429, {}), (429, {})]
    time = FakeTime()
    result = await sender_for(house, clock, time).send(
        Outgoing(Recipient(conversation_id="chat-1", tenant_id=TENANT), "hej")
    )
    assert result.outcome == SENT
    assert time.slept == [1.0, 2.0, 4.0]  # jitter pinned to its top by rand=1.0


async def test_forbidden_and_not_found_are_final(
    house: House, connector: FakeConnector, clock: FakeClock, client: TestClient
) -> None:
    store_chat(house, connector, "chat-1")
    connector.failures["chat-1"] += [(403, {})]
    time = FakeTime()
    result = await sender_for(house, clock, time).send(
        Outgoing(Recipient(conversation_id="chat-1", tenant_id=TENANT), "hej")
    )
    assert result.outcome == GONE and result.status == 403 and time.slept == []


async def test_teams_limits_per_conversation_and_tenant_hold(
    house: House, connector: FakeConnector, clock: FakeClock
) -> None:
    for i in range(3):
        store_chat(house, connector, f"chat-{i}")
    reminders = ReminderRepository(house.sessions, ReminderTiming())
    owner = Person("29:anna", "Anna", "aad-anna")
    reminders.add_many(
        [
            NewReminder(
                owner=owner,
                audience=CONVERSATION,
                conversation_id=f"chat-{i % 3}",
                text=f"r{i}",
                due_at=clock.now(),
                tenant_id=TENANT,
            )
            for i in range(150)
        ],
        clock.now(),
    )
    time = FakeTime()
    sends: dict[str, list[float]] = {}

    class Recording(RateLimiter):
        async def acquire_tenant(self, tenant: str) -> float:
            waited = await super().acquire_tenant(tenant)
            sends.setdefault("tenant", []).append(time.now)  # the send starts now
            return waited

        async def acquire_conversation(self, conversation: str) -> float:
            waited = await super().acquire_conversation(conversation)
            sends.setdefault(conversation, []).append(time.now)
            return waited

    limiter = Recording(monotonic=time.monotonic, sleep=time.sleep)
    sender = TeamsSender(house.adapter, "", house.conversations, clock, limiter=limiter)
    service = NudgeService(
        reminders, None, sender, clock, ReminderCards(), lease=timedelta(hours=1)
    )
    report = await service.deliver_due()
    await close(house)
    assert report.sent == 150
    everything = sends.pop("tenant")
    assert len(everything) == 150
    for times in sends.values():
        assert max_in_window(times, 1.0) <= 7
        assert max_in_window(times, 30.0) <= 60
    assert max_in_window(everything, 1.0) <= 50


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best = start = 0
    for end, moment in enumerate(times):
        while times[start] <= moment - window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_limiter_after_a_quiet_spell() -> None:
    time = FakeTime()
    limiter = RateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    for _ in range(6):
        await limiter.acquire("chat-1", TENANT)
    time.now += 31  # every earlier send has left the 30-second window
    assert await limiter.acquire("chat-1", TENANT) == 0.0
    assert await limiter.acquire("chat-1", TENANT) > 0  # evenly spaced, not a burst
