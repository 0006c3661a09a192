"""Teams' limits (issue 14.10): the budget is shared by every process through the database, card
updates count, and 412, 502, 503 and 504 are retried (with Retry-After when Teams gives one)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot import House, Settings, compose, prepare
from scheduler.delivery import GONE, RETRY, SENT, Outgoing, RateLimiter, Recipient, TeamsSender
from storage.budget import SendBlock, SendBudget, SendSlot
from tests.fakes import FakeClock, FakeConnector, Sent
from tests.test_polls import (
    AUGUST,
    CAROLINE,
    MARIA,
    in_group,
    make_group,
    personal_chat,
    plan,
)
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


# --- every proactive message of the composed bot goes through the one Sender ------------------
def posted(connector: FakeConnector, conversation: str) -> list[Sent]:
    return [s for s in connector.sent if s.method == "POST" and s.conversation_id == conversation]


def keys(user_id: str) -> list[str]:
    """The budget's keys for a person's personal chat: before the bot has opened it, sends to
    it count under the person ("new:<user id>"), afterwards under the chat's id."""
    return [f"c:personal-{user_id}", f"c:new:{user_id}"]


def slots_taken(house: House, user_id: str) -> int:
    with house.sessions() as session:
        count = session.scalar(
            select(func.count()).select_from(SendSlot).where(SendSlot.key.in_(keys(user_id)))
        )
    return int(count or 0)


def blocked_until(house: House, user_id: str) -> float | None:
    with house.sessions() as session:
        return session.scalar(
            select(func.max(SendBlock.until)).where(SendBlock.key.in_(keys(user_id)))
        )


async def test_a_polls_invitation_is_held_off_by_a_429_and_counted_in_the_shared_budget(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    clock.current = AUGUST
    await make_group(client, connector, [MARIA, CAROLINE])
    maria = personal_chat(MARIA)["conversation"]
    connector.failures[maria].append((429, {"Retry-After": "5"}))
    started = clock.now()
    await plan(client, connector, "tis 31/8 13-15, ons 1/9 9-11")
    assert connector.failures[maria] == []  # Teams said 429 once
    # the invitation reached Maria after the wait Teams asked for, on the house's clock
    invitations = posted(connector, maria)
    assert invitations and "Spånarmöte" in json.dumps(invitations[0].body, ensure_ascii=False)
    assert clock.now() - started >= timedelta(seconds=5)
    # the 429 was written to the shared budget, and the send took its place there
    assert blocked_until(house, MARIA[0]) is not None
    assert slots_taken(house, MARIA[0]) >= 1


async def test_a_deadline_nudge_refused_with_429_is_sent_later_not_lost(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await make_group(client, connector, [MARIA, CAROLINE])
    maria = personal_chat(MARIA)["conversation"]
    [registered] = await in_group(
        client, connector, "deadline enkäten 23 november kl 16 för gruppen Civilsamhälle"
    )
    assert "enkäten" in registered
    # Teams asks the bot to wait two minutes in Maria's chat: longer than one send may hold
    connector.failures[maria].append((429, {"Retry-After": "120"}))
    connector.clear()
    await house.nudges.deliver_due()
    assert connector.failures[maria] == []
    assert posted(connector, maria) == []
    caroline = personal_chat(CAROLINE)["conversation"]
    assert posted(connector, caroline)  # the others are not held
    blocked = blocked_until(house, MARIA[0])
    assert blocked is not None and blocked >= clock.now().timestamp() + 119
    # before Retry-After has passed nothing is tried again; after it, the nudge arrives once
    clock.advance(seconds=60)
    await house.nudges.deliver_due()
    assert posted(connector, maria) == []
    clock.advance(seconds=61)
    await house.nudges.deliver_due()
    [nudge] = posted(connector, maria)
    assert "enkäten" in json.dumps(nudge.body, ensure_ascii=False)
    assert slots_taken(house, MARIA[0]) >= 1
    await house.nudges.deliver_due()
    assert len(posted(connector, maria)) == 1
