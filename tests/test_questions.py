"""Combined questions: courses first, then people, through the bot's capability order."""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.core import ConversationState, UserState
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from sqlalchemy.orm import Session, sessionmaker

from dialogs.bot import NatverksBot
from dialogs.contacts import CompetenceBank
from dialogs.courses import CourseQuestions
from dialogs.questions import Questions
from dialogs.questions import Texts as QuestionTexts
from edge.state import SqlStorage
from storage.contacts import ContactDirectory, ContactRepository, load_demo_contacts_if_empty
from storage.conversations import ConversationRepository, StateRepository
from storage.courses import CourseCatalogue, CourseRepository, load_demo_courses_if_empty
from tests.cardcheck import assert_valid_card
from tests.fakes import FakeClock


@pytest.fixture
def adapter(sessions: sessionmaker[Session], clock: FakeClock) -> TestAdapter:
    load_demo_contacts_if_empty(sessions, now=clock.now())
    load_demo_courses_if_empty(sessions, now=clock.now())
    catalogue = CourseCatalogue(CourseRepository(sessions))
    catalogue.refresh()
    courses = CourseQuestions(catalogue)
    bank = CompetenceBank(ContactDirectory(ContactRepository(sessions)), clock)
    storage = SqlStorage(StateRepository(sessions), clock)
    bot = NatverksBot(
        [bank, Questions(courses, bank), courses],
        ConversationRepository(sessions),
        ConversationState(storage),
        UserState(storage),
        clock,
        frozenset(),
    )
    template = Activity(
        channel_id="msteams",
        service_url="https://smba.example.test/",
        from_property=ChannelAccount(id="29:tova", name="Tova Testsson", aad_object_id="aad-t"),
        recipient=ChannelAccount(id="28:natverksboten", name="Nätverksboten"),
        conversation=ConversationAccount(
            id="personal-tova", conversation_type="personal", tenant_id="tenant-gr"
        ),
    )
    return TestAdapter(bot.on_turn, template)


def _title(activity: Activity) -> str:
    assert activity.attachments, activity.text
    card: dict[str, Any] = activity.attachments[0].content
    assert_valid_card(card)
    return str(card["body"][0]["text"])


async def test_courses_first_then_people(adapter: TestAdapter) -> None:
    flow = await adapter.send("något om demens?")
    flow = await flow.assert_reply(lambda a, _=None: _assert(_title(a).startswith("Kostnadsfria")))
    await flow.assert_reply(lambda a, _=None: _assert(_title(a).startswith("Kollegor som kan")))


async def test_people_question_gets_people_only(adapter: TestAdapter) -> None:
    flow = await adapter.send("vem kan diabetes i Kungälv?")
    flow = await flow.assert_reply(lambda a, _=None: _assert("Kungälv" in _title(a)))
    flow = await flow.send("hej")  # nothing else was queued after the contact card
    await flow.assert_reply("Hej", is_substring=True)


async def test_course_question_gets_courses_only(adapter: TestAdapter) -> None:
    flow = await adapter.send("finns det någon gratis kurs om demens?")
    flow = await flow.assert_reply(lambda a, _=None: _assert(_title(a).startswith("Kostnadsfria")))
    flow = await flow.send("hej")
    await flow.assert_reply("Hej", is_substring=True)


async def test_neither(adapter: TestAdapter) -> None:
    flow = await adapter.send("något om astrofysik?")
    await flow.assert_reply(
        QuestionTexts.NONE.format(q="astrofysik") + " " + QuestionTexts.NONE_HINT
    )


def _assert(condition: bool) -> None:
    assert condition
