"""The bad-input table: every entry gets a 4xx or a clear Swedish answer, never a 5xx or
"något gick fel", and nothing damaged is stored; on SQLite and on PostgreSQL (issue 14.6)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot import SORRY, House, Settings, build_app, compose, prepare
from storage.deadlines import Deadline
from storage.groups import WorkingGroup
from storage.models import ConversationRef, ProcessedActivity
from storage.reminders import TopicWatch
from tests.fakes import FakeClock, FakeConnector
from tests.helpers import message

LONG = "x" * 300
SECRET = "Hemlig Hemligsson 070-1234567"  # must never reach a log line


@dataclass(frozen=True)
class Bad:
    """One bad input: how to make the activity, and what answer shows it was handled."""

    name: str
    make: Callable[[str, int], dict[str, Any]]  # (service url, row number) -> activity
    status: int | None = None  # a 4xx refusal; None: answered (200/201) with `reply`
    reply: str | None = None  # a piece of the Swedish answer


def act(text: str, **changes: Any) -> Callable[[str, int], dict[str, Any]]:
    """A message from a member of its own (so the rate limit never mixes rows up)."""

    def make(url: str, n: int) -> dict[str, Any]:
        options: dict[str, Any] = {
            "service_url": url,
            "user": f"29:bad-{n}",
            "aad": f"aad-bad-{n}",
            "conversation": f"personal-bad-{n}",
        }
        options.update({k: v for k, v in changes.items() if k in ("value", "mentions", "name")})
        activity = message(text, **options)
        for path, value in changes.items():
            if "." in path or path in ("id", "serviceUrl", "channelId", "replyToId"):
                *parents, last = path.split(".")
                target = activity
                for part in parents:
                    target = target[part]
                target[last] = value(url) if callable(value) else value
        return activity

    return make


def mentioned_id(long_id: str) -> Callable[[str, int], dict[str, Any]]:
    def make(url: str, n: int) -> dict[str, Any]:
        activity = act("ny arbetsgrupp Långa med", mentions=[("29:maria", "Maria")])(url, n)
        activity["entities"][0]["mentioned"]["id"] = long_id
        return activity

    return make


TABLE = [
    # ids the database keys on: refused at the door
    Bad("a 300-character activity id", act("hjälp", id=LONG), status=400),
    Bad("a NUL in the activity id", act("hjälp", id="act\x00-1"), status=400),
    Bad("a 500-character conversation id", act("hjälp", **{"conversation.id": "c" * 500}), 400),
    Bad("a 500-character user id", act("hjälp", **{"from.id": "u" * 500}), status=400),
    Bad("a 100-character AAD object id", act("hjälp", **{"from.aadObjectId": "a" * 100}), 400),
    Bad("a 100-character tenant id", act("hjälp", **{"channelData.tenant.id": "t" * 100}), 400),
    Bad("a 100-character channel id", act("hjälp", channelId="m" * 100), status=400),
    Bad("a 300-character replyToId", act("hjälp", replyToId=LONG), status=400),
    Bad(
        "a 500-character service URL",
        act("hjälp", serviceUrl=lambda url: f"{url}/{'s' * 500}"),
        status=400,
    ),
    Bad("a NUL in the sender's name", act("hjälp", name="Anna\x00"), status=400),
    Bad("a 500-character mentioned id", mentioned_id("29:" + "m" * 500), status=400),
    # what members type: answered in Swedish
    Bad("a NUL in the text", act(f"påminn mig imorgon kl 9 om {SECRET}\x00"), reply="nolltecken"),
    Bad("a 50,000-character word", act("a" * 50_000), reply="för långt"),
    Bad("a message over the limit", act("demens " * 500), reply="för långt"),
    Bad(
        "a 300-character group name",
        act(f"ny arbetsgrupp {LONG} med", mentions=[("29:maria", "Maria")]),
        reply="Gruppens namn får vara högst 200 tecken",
    ),
    Bad(
        "a 300-character watch topic",
        act(f"bevaka kurser om {LONG}"),
        reply="Ett ämne att bevaka får vara högst 200 tecken",
    ),
    Bad(
        "a NUL in a card submit",
        act("", value={"action": "reminders.snooze", "delivery": "1\x00", "note": SECRET}),
        reply="nolltecken",
    ),
    # forged values on the deadline buttons (added this push): a clear answer, nothing changed
    Bad(
        "a deadline move with a day no calendar has",
        act("", value={"action": "deadlines.move", "deadline": 1, "day": "2026-13-45", "at": ""}),
        reply="Den knappen känner jag inte igen",
    ),
    Bad(
        "a deadline move with an infinite id",
        act("", value={"action": "deadlines.move", "deadline": 1e999, "day": "2026-12-15"}),
        reply="Den knappen känner jag inte igen",
    ),
    Bad(
        "a deadline keep with a text id",
        act("", value={"action": "deadlines.keep", "deadline": LONG}),
        reply="Den knappen känner jag inte igen",
    ),
    Bad(
        "a deadline done with a negative id",
        act("", value={"action": "reminders.deadline_done", "deadline": -5}),
        reply="Den knappen känner jag inte igen",
    ),
    # Teams' own values that are merely long: shortened, and answered as usual
    Bad("a 300-character display name", act("hjälp", name="N" * 300), reply=None),
]


@pytest.fixture
async def bad_client(
    db_url: str, clock: FakeClock, settings: Settings
) -> AsyncIterator[tuple[House, TestClient]]:
    house = compose(replace(settings, database_url=db_url), clock)
    prepare(house)
    async with TestClient(TestServer(build_app(house), host="127.0.0.1")) as client:
        yield house, client
    house.engine.dispose()


async def test_the_bad_input_table(
    bad_client: tuple[House, TestClient],
    connector: FakeConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    house, client = bad_client
    caplog.set_level(logging.INFO)
    problems: list[str] = []
    for n, bad in enumerate(TABLE):
        connector.clear()
        activity = bad.make(connector.url, n)
        response = await client.post(
            "/api/messages",
            data=json.dumps(activity),
            headers={"Content-Type": "application/json"},
        )
        texts = [m.text for m in connector.messages()] + [
            json.dumps(card, ensure_ascii=False) for m in connector.messages() for card in m.cards
        ]
        said = [t[:100] for t in texts if t]
        if bad.status is not None:
            if response.status != bad.status:
                problems.append(f"{bad.name}: {response.status}, not {bad.status}")
            if texts:
                problems.append(f"{bad.name}: refused, yet answered {said}")
            continue
        if response.status not in (200, 201):
            problems.append(f"{bad.name}: {response.status}")
        if any(SORRY in t for t in texts) or not texts:
            problems.append(f"{bad.name}: answered {said or 'nothing'}")
        elif bad.reply and not any(bad.reply in t for t in texts):
            problems.append(f"{bad.name}: expected ”{bad.reply}”, got {said}")
    assert not problems, "\n".join(problems)

    # nothing damaged was kept
    with house.sessions() as session:
        assert session.scalars(select(WorkingGroup)).all() == []
        assert session.scalars(select(TopicWatch)).all() == []
        names = session.scalars(select(ConversationRef.user_name)).all()
        assert "N" * 200 in names
        assert all(len(name or "") <= 200 for name in names)
        assert all(len(a) <= 200 for a in session.scalars(select(ProcessedActivity.activity_id)))
    # and no log line failed a turn, nor carried what was written
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert all(SECRET not in r.getMessage() for r in caplog.records)


async def test_a_300_character_role_is_asked_again(
    bad_client: tuple[House, TestClient], connector: FakeConnector
) -> None:
    _, client = bad_client

    async def say(text: str) -> list[str]:
        connector.clear()
        body = message(text, service_url=connector.url)
        response = await client.post(
            "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        assert response.status in (200, 201)
        return connector.texts()

    # Who Anna is comes from Teams' member lookup, which the fake connector answers.
    connector.people["29:anna"] = {"aadObjectId": "aad-anna", "email": "anna@kungalv.example.se"}
    first = await say("registrera mig i kompetensbanken")
    assert any("kommun" in t for t in first), first
    assert any("roll" in t for t in await say("Kungälv"))
    answer = await say(LONG)
    assert any("högst 200 tecken" in t for t in answer), answer
    # the prompt is still waiting for the role
    assert any("kompetens" in t.lower() for t in await say("Distriktssköterska"))


def test_a_failed_statement_carries_no_values(db_url: str) -> None:
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table WHERE x = :x"), {"x": SECRET})
    except Exception as error:
        assert SECRET not in str(error)
    else:
        raise AssertionError("the statement should have failed")
    finally:
        engine.dispose()


def test_an_unchecked_value_is_refused_before_the_database(house: House, clock: FakeClock) -> None:
    from storage.inputs import InputRejected

    row = WorkingGroup(
        name=LONG, name_key="k", tenant_key="", created_by="29:x", created_at=clock.now()
    )
    with pytest.raises(InputRejected) as refused, house.sessions.begin() as session:
        session.add(row)
    assert (refused.value.field, refused.value.limit) == ("working_group.name", 200)


async def test_a_too_long_deadline_name_is_answered_and_stores_nothing(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    coordinator = {"user": "29:coord", "name": "Cecilia", "aad": "aad-coordinator"}
    chat = {"conversation": "19:bad-deadline@thread.v2", "conversation_type": "groupChat"}

    async def say(text: str, **options: Any) -> list[str]:
        connector.clear()
        body = message(
            text, service_url=connector.url, mention_bot=True, **coordinator, **chat, **options
        )
        response = await client.post(
            "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        assert response.status in (200, 201)
        return [m.text for m in connector.messages()]

    [made] = await say("ny arbetsgrupp Civilsamhälle med", mentions=[("29:maria", "Maria")])
    assert "är skapad" in made
    answers = await say(f"deadline {LONG} 15 december för gruppen Civilsamhälle")
    assert answers and not any(SORRY in a for a in answers)
    assert any("högst 200 tecken" in a for a in answers), answers
    with house.sessions() as session:
        assert session.scalars(select(Deadline)).all() == []
