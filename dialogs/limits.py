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
from typing import Any

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
RATE_WINDOW = timedelta(minutes=1)
# Reminders still to come that one member may have ("mina påminnelser"), and working groups one
# member may create: far above what anyone uses, far below what fills a table or a card.
REMINDERS_PER_MEMBER = 100
GROUPS_PER_MEMBER = 20
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


class MessageRate:
    """Messages per member in a sliding minute, in this process (cheap: no database)."""

    def __init__(self, per_minute: int = MESSAGES_PER_MINUTE) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[datetime]] = {}

    def count(self, who: str, now: datetime) -> int:
        """Records a message and returns how many `who` sent in the window, this one included."""
        times = self._seen.get(who)
        if times is None:
            if len(self._seen) >= RATE_MEMORY:
                self._forget_quiet(now)
            times = self._seen[who] = deque()
        while times and now - times[0] >= RATE_WINDOW:
            times.popleft()
        times.append(now)
        # Past the limit only the length matters: keep the deque from growing with a flood.
        if len(times) > self.per_minute + 1:
            times.popleft()
            return self.per_minute + 2
        return len(times)

    def _forget_quiet(self, now: datetime) -> None:
        for who in [w for w, t in self._seen.items() if not t or now - t[-1] >= RATE_WINDOW]:
            del self._seen[who]


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

    async def _refuse(self, turn: Turn) -> str | None:
        who = turn.user.aad_object_id or turn.user.id
        sent = self.rate.count(who, self._clock.now())
        if sent > self.rate.per_minute:
            if sent == self.rate.per_minute + 1:  # told once a window, then quiet
                await turn.reply(Texts.SLOW_DOWN)
            return "rate"
        if len(turn.text) > self.max_chars:
            await turn.reply(Texts.TOO_LONG.format(count=len(turn.text), limit=self.max_chars))
            return "too_long"
        if has_forbidden_character(turn.text) or any(
            has_forbidden_character(s) for s in _strings(turn.value)
        ):
            await turn.reply(Texts.BAD_CHARACTER)
            return "bad_character"
        return None
