"""Teams' limits (issue 14.10): the budget is shared by every process through the database, card
updates count, and 412, 502, 503 and 504 are retried (with Retry-After when Teams gives one)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient

from bot import House, Settings, compose, prepare
from scheduler.delivery import GONE, RETRY, SENT, Outgoing, RateLimiter, Recipient, TeamsSender
from storage.budget import SendBudget
from tests.fakes import FakeClock, FakeConnector
from tests.test_reminders_delivery import TENANT, FakeTime, sender_for, store_chat


def shared_sender(house: House, clock: FakeClock, time: FakeTime) -> TeamsSender:
    """A process's sender: its own limiter, the database's budget, the test's time."""
    limiter = RateLimiter(
        monotonic=time.monotonic,
        sleep=time.sleep,
        wall=time.monotonic,
        budget=SendBudget(house.sessions),
    )
    return TeamsSender(
        house.adapter, "", house.conversations, clock, limiter=limiter, rand=lambda: 1.0
    )


def to(chat: str) -> Recipient:
    return Recipient(conversation_id=chat, tenant_id=TENANT)


async def test_a_busy_conversation_412_is_retried_after_retry_after(
    house: House, connector: FakeConnector, clock: FakeClock, client: TestClient
) -> None:
    store_chat(house, connector, "chat-1")
    connector.failures["chat-1"] += [(412, {"Retry-After": "2"}), (412, {})]
    time = FakeTime()
    result = await sender_for(house, clock, time).send(Outgoing(to("chat-1"), "hej"))
    assert result.outcome == SENT
    assert time.slept == [2.0, 2.0]  # Retry-After, then the backoff of a second try
    assert connector.texts("chat-1") == ["hej"]


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_answers_are_retried_after_retry_after(
    house: House, connector: FakeConnector, clock: FakeClock, client: TestClient, status: int
) -> None:
    store_chat(house, connector, "chat-1")
    # a short Retry-After is waited out within the call, and the message goes
    connector.failures["chat-1"] += [(status, {"Retry-After": "0.2"})]
    sender = sender_for(house, clock, FakeTime())
    assert (await sender.send(Outgoing(to("chat-1"), "hej"))).outcome == SENT
    assert connector.texts("chat-1") == ["hej"]
    # a long one goes back to the database as the next attempt's time, not a held lease
    connector.failures["chat-1"] += [(status, {"Retry-After": "120"})]
    result = await sender.send(Outgoing(to("chat-1"), "igen"))
    assert (result.outcome, result.status, result.retry_after) == (RETRY, status, 120.0)


async def test_other_client_errors_stay_final(
    house: House, connector: FakeConnector, clock: FakeClock, client: TestClient
) -> None:
    store_chat(house, connector, "chat-1")
    connector.failures["chat-1"] += [(400, {})]
    result = await sender_for(house, clock, FakeTime()).send(Outgoing(to("chat-1"), "hej"))
    assert result.outcome == GONE and result.status == 400


@pytest.fixture
def two_houses(db_url: str, settings: Settings, clock: FakeClock) -> Iterator[tuple[House, House]]:
    first = compose(replace(settings, database_url=db_url), clock)
    prepare(first)
    second = compose(replace(settings, database_url=db_url), clock)
    prepare(second)
    yield first, second
    first.engine.dispose()
    second.engine.dispose()


async def test_two_processes_share_one_conversation_budget(
    two_houses: tuple[House, House], connector: FakeConnector, clock: FakeClock
) -> None:
    first, second = two_houses
    store_chat(first, connector, "chat-1")
    time = FakeTime()
    one, other = shared_sender(first, clock, time), shared_sender(second, clock, time)
    sent_at: list[float] = []
    for n in range(12):  # the two processes take turns
        sender = one if n % 2 == 0 else other
        assert (await sender.send(Outgoing(to("chat-1"), f"m{n}"))).outcome == SENT
        sent_at.append(time.now)
    assert len(connector.texts("chat-1")) == 12
    # together they keep Teams' windows: 7 a second, 8 in 2 seconds (with our margin)
    assert max_within(sent_at, 1.0) <= 6
    assert max_within(sent_at, 2.0) <= 7
    assert time.now - sent_at[0] >= 2.0  # 12 sends cannot fit in two seconds


async def test_a_429_holds_off_the_other_process_too(
    two_houses: tuple[House, House], connector: FakeConnector, clock: FakeClock
) -> None:
    first, second = two_houses
    store_chat(first, connector, "chat-2")
    time = FakeTime()
    one, other = shared_sender(first, clock, time), shared_sender(second, clock, time)
    connector.failures["chat-2"] += [(429, {"Retry-After": "30"})]
    result = await one.send(Outgoing(to("chat-2"), "först"))
    assert result.outcome == RETRY and result.retry_after == 30.0
    before = time.now
    assert (await other.send(Outgoing(to("chat-2"), "sedan"))).outcome == SENT
    assert time.now - before >= 29.9  # the other process waited Teams' Retry-After out


async def test_card_updates_count_against_the_budget(
    two_houses: tuple[House, House], connector: FakeConnector, clock: FakeClock
) -> None:
    first, second = two_houses
    store_chat(first, connector, "chat-3")
    time = FakeTime()
    one, other = shared_sender(first, clock, time), shared_sender(second, clock, time)
    for n in range(7):
        await one.send(Outgoing(to("chat-3"), f"m{n}"))
    started = time.now
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "x"}]}
    result = await other.send(Outgoing(to("chat-3"), "x", card, replaces="sent-1"))
    assert result.outcome == SENT
    assert time.now > started  # it waited its turn after the seven messages
    [put] = [s for s in connector.sent if s.method == "PUT"]
    assert put.path.endswith("/activities/sent-1")


def max_within(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)
