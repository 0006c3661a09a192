"""Bad input and heavy use, refused before any work: activity fields at the edge, then per turn.

The edge (`activity_field_problems`) answers an activity whose ids cannot be stored with a 400.
The turn guard (`Guard`) answers, in Swedish and before any capability runs, a message that is
too long to read or carries a NUL character, and a member writing faster than anyone types; a
value a capability did not check and the database cannot hold (`InputRejected`) gets a Swedish
answer instead of "något gick fel".
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, Protocol

from dialogs.turn import Turn
from scheduler.clock import Clock
from storage import language
from storage.inputs import InputRejected, column_limit, has_forbidden_character
from storage.models import ConversationRef, ProcessedActivity

logger = logging.getLogger(__name__)

# A question, a reminder or a poll fits in a few hundred characters; a pasted document does not,
# and the Swedish analysis of a long text costs time every other member waits for.
MAX_MESSAGE_CHARS = 2000
# Shorter texts are analysed where they are read (a thread hop costs more than the analysis).
ANALYSE_ON_LOOP_CHARS = 200
# Messages (and card presses) one member may send per minute before the bot waits them out.
MESSAGES_PER_MINUTE = 30
# ... and everyone in one conversation together (a group chat, a channel): Teams lets the bot
# answer at most 60 times in 30 seconds in a conversation, and a crowd must not starve the rest.
CONVERSATION_MESSAGES_PER_MINUTE = 60
RATE_WINDOW = timedelta(minutes=1)
# Reminders still to come that one member may have ("mina påminnelser"), and working groups one
# member may create: far above what anyone uses, far below what fills a table or a card.
REMINDERS_PER_MEMBER = 100
GROUPS_PER_MEMBER = 20
# What one conversation (a group chat, a channel: many members, each within their own limits)
# may create per day, whoever in it asks: reminders (to anyone), working groups, polls, deadlines.
REMINDERS_PER_CONVERSATION = 200
GROUPS_PER_CONVERSATION = 20
POLLS_PER_CONVERSATION = 20
DEADLINES_PER_CONVERSATION = 20  # each nudges every member of its group several times
CONVERSATION_WINDOW = timedelta(days=1)
# Rows of a list card: Teams refuses cards over about 28 KB; ten rows of at most ROW_CHARS fit.
LIST_PAGE = 10
ROW_CHARS = 300
# Group names offered when a name is not found.
NAMES_OFFERED = 5
# Members remembered by the rate window before the quiet ones are forgotten.
RATE_MEMORY = 10_000
# Display names longer than their column are shortened (Entra ID allows 256 characters).
NAME_CHARS = column_limit(ConversationRef, "user_name")


class Texts:
    TOO_LONG = (
        "Ditt meddelande är för långt för mig ({count} tecken, jag läser högst {limit}). "
        "Skriv kortare, gärna en sak i taget."
    )
    BAD_CHARACTER = (
        "Ditt meddelande innehåller ett tecken som jag inte kan ta emot (ett så kallat "
        "nolltecken). Skriv det igen utan det."
    )
    TOO_LONG_TO_SAVE = (
        "Det blev för långt för att spara: högst {limit} tecken går. Korta det och försök igen."
    )
    SLOW_DOWN = (
        "Oj, nu kom det många meddelanden på kort tid. Vänta en minut och skriv sedan igen, "
        "så hinner jag med alla i nätverket."
    )
    SLOW_DOWN_HERE = (
        "Oj, nu kom det många meddelanden till mig i den här chatten på kort tid. Vänta en minut "
        "och skriv sedan igen, så hinner jag svara alla."
    )


# --- the edge: activity fields the database keys on --------------------------------------
_ID = column_limit(ProcessedActivity, "activity_id")
_CONVERSATION = column_limit(ProcessedActivity, "conversation_id")
_USER = column_limit(ConversationRef, "user_id")
_AAD = column_limit(ConversationRef, "aad_object_id")
_TENANT = column_limit(ConversationRef, "tenant_id")
_CHANNEL = column_limit(ConversationRef, "channel_id")
_SERVICE_URL = column_limit(ConversationRef, "service_url")
_CONVERSATION_TYPE = column_limit(ConversationRef, "conversation_type")


def _fields(body: dict[str, Any]) -> Iterator[tuple[str, Any, int]]:
    """(name, value, longest allowed) of every activity field that ends up in a key column."""
    yield "id", body.get("id"), _ID
    yield "replyToId", body.get("replyToId"), _ID
    yield "serviceUrl", body.get("serviceUrl"), _SERVICE_URL
    yield "channelId", body.get("channelId"), _CHANNEL
    conversation = body.get("conversation")
    if isinstance(conversation, dict):
        yield "conversation.id", conversation.get("id"), _CONVERSATION
        yield "conversation.tenantId", conversation.get("tenantId"), _TENANT
        yield (
            "conversation.conversationType",
            conversation.get("conversationType"),
            (_CONVERSATION_TYPE),
        )
    sender = body.get("from")
    if isinstance(sender, dict):
        yield "from.id", sender.get("id"), _USER
        yield "from.aadObjectId", sender.get("aadObjectId"), _AAD
    data = body.get("channelData")
    tenant = data.get("tenant") if isinstance(data, dict) else None
    if isinstance(tenant, dict):
        yield "channelData.tenant.id", tenant.get("id"), _TENANT
    for entity in _list(body.get("entities")):
        mentioned = entity.get("mentioned") if isinstance(entity, dict) else None
        if isinstance(mentioned, dict):
            yield "mentioned.id", mentioned.get("id"), _USER
            yield "mentioned.aadObjectId", mentioned.get("aadObjectId"), _AAD


def _people(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for name in ("from", "recipient"):
        if isinstance(body.get(name), dict):
            yield body[name]
    for entity in _list(body.get("entities")):
        mentioned = entity.get("mentioned") if isinstance(entity, dict) else None
        if isinstance(mentioned, dict):
            yield mentioned


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def activity_field_problems(body: dict[str, Any]) -> list[str]:
    """Ids too long for their columns or with a NUL: refused (400), not failed mid-turn.

    Display names are Teams' to choose: too long ones are shortened here, in place.
    """
    problems: list[str] = []
    for name, value, limit in _fields(body):
        if not isinstance(value, str):
            continue
        if len(value) > limit:
            problems.append(f"{name} longer than {limit} characters")
        elif has_forbidden_character(value):
            problems.append(f"{name} contains a NUL character")
    for person in _people(body):
        display = person.get("name")
        if isinstance(display, str):
            if has_forbidden_character(display):
                problems.append("a name contains a NUL character")
            elif len(display) > NAME_CHARS:
                person["name"] = display[:NAME_CHARS]
    return problems


# --- the turn ------------------------------------------------------------------------------
def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class RecentActivities(Protocol):
    """The activity ledger, as the message rate reads it (storage/conversations.py)."""

    @property
    def reads_never_wait(self) -> bool: ...

    def recent(
        self, sender: str, conversation_id: str, since: datetime, cap: int
    ) -> tuple[int, int]: ...


class LocalCounts:
    """Messages per key in a sliding minute, in this process: for activities the ledger did not
    record (no id, or a test driving the bot without HTTP)."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[datetime]] = {}

    def count(self, key: str, now: datetime, cap: int) -> int:
        """Records a message and returns how many `key` sent in the window, this one included."""
        times = self._seen.get(key)
        if times is None:
            if len(self._seen) >= RATE_MEMORY:
                self._forget_quiet(now)
            times = self._seen[key] = deque()
        while times and now - times[0] >= RATE_WINDOW:
            times.popleft()
        times.append(now)
        # Past the limit only the length matters: keep the deque from growing with a flood.
        if len(times) > cap:
            times.popleft()
        return len(times)

    def _forget_quiet(self, now: datetime) -> None:
        for key in [k for k, t in self._seen.items() if not t or now - t[-1] >= RATE_WINDOW]:
            del self._seen[key]


class MessageRate:
    """Messages per member and per conversation in the last minute, whichever process took them.

    The edge records every activity addressed to the bot in the ledger, with its sender, before
    the turn (to acknowledge Teams' retries once), so counting them is one indexed read of rows
    every process writes: no write of its own, about 0.1 ms on SQLite (read on the loop, as the
    bot state is), a round trip on a thread on PostgreSQL.
    """

    def __init__(
        self,
        per_minute: int = MESSAGES_PER_MINUTE,
        per_conversation: int = CONVERSATION_MESSAGES_PER_MINUTE,
        ledger: RecentActivities | None = None,
    ) -> None:
        self.per_minute = per_minute
        self.per_conversation = per_conversation
        self._ledger = ledger
        self._local = LocalCounts()
        # Past the limit the exact figure does not matter, only "the first one over" does.
        self._cap = max(per_minute, per_conversation) + 2

    async def count(self, who: str, conversation_id: str, now: datetime) -> tuple[int, int]:
        """(the member's, the conversation's) messages in the window, this one included."""
        if self._ledger is not None:
            recent, since = self._ledger.recent, now - RATE_WINDOW
            if self._ledger.reads_never_wait:
                mine, here = recent(who, conversation_id, since, self._cap)
            else:
                mine, here = await asyncio.to_thread(recent, who, conversation_id, since, self._cap)
            if mine:  # else this activity was not recorded: count it here
                return mine, here
        return (
            self._local.count("u:" + who, now, self._cap),
            self._local.count("c:" + conversation_id, now, self._cap),
        )


class Guard:
    """What every message passes before a capability sees it."""

    def __init__(
        self,
        clock: Clock,
        *,
        max_chars: int = MAX_MESSAGE_CHARS,
        rate: MessageRate | None = None,
    ) -> None:
        self._clock = clock
        self.max_chars = max_chars
        self.rate = rate or MessageRate()

    async def run(self, turn: Turn, answer: Callable[[Turn], Awaitable[None]]) -> str | None:
        """Answers `turn` through `answer` unless it is refused; the refusal's name, or None."""
        refusal = await self._refuse(turn)
        if refusal is not None:
            return refusal
        if len(turn.text) > ANALYSE_ON_LOOP_CHARS:
            # The capabilities read the text on the loop; its analysis (cached per text and per
            # word) is worked out here on a thread, so a long message never stalls other turns.
            await asyncio.to_thread(language.analyze, turn.text)
        try:
            await answer(turn)
        except InputRejected as rejected:
            logger.info("refused a value the database cannot hold: %s", rejected.field)
            if rejected.limit is None:
                await turn.reply(Texts.BAD_CHARACTER)
            else:
                await turn.reply(Texts.TOO_LONG_TO_SAVE.format(limit=rejected.limit))
            return "rejected"
        return None

    async def _too_many(self, turn: Turn) -> str | None:
        who = turn.user.aad_object_id or turn.user.id
        mine, here = await self.rate.count(who, turn.conversation_id, self._clock.now())
        if mine > self.rate.per_minute:
            if mine == self.rate.per_minute + 1:  # told once a window, then quiet
                await turn.reply(Texts.SLOW_DOWN)
            return "rate"
        if here > self.rate.per_conversation:
            if here == self.rate.per_conversation + 1:
                await turn.reply(Texts.SLOW_DOWN_HERE)
            return "conversation_rate"
        return None

    async def _refuse(self, turn: Turn) -> str | None:
        # A card's automatic refresh (Teams showing someone their view) is nothing they wrote.
        refused = None if turn.is_refresh else await self._too_many(turn)
        if refused is not None:
            return refused
        if len(turn.text) > self.max_chars:
            await turn.reply(Texts.TOO_LONG.format(count=len(turn.text), limit=self.max_chars))
            return "too_long"
        if has_forbidden_character(turn.text) or any(
            has_forbidden_character(s) for s in _strings(turn.value)
        ):
            await turn.reply(Texts.BAD_CHARACTER)
            return "bad_character"
        return None
