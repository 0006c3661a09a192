"""Our thin wrapper over Bot Framework's TurnContext: what a capability needs, nothing more."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.dialogs import Dialog, DialogContext
from botbuilder.schema import Activity, ActivityTypes, Attachment

from dialogs.reading import Memory
from edge.identity import IDENTITY_KEY
from scheduler.clock import zone_named
from scheduler.delivery import RateLimiter
from storage import people

# Channels whose clients render Adaptive Cards; elsewhere (Slack via Azure Bot Service, ...)
# the same content goes out as text.
CARD_CHANNELS = frozenset({"msteams", "webchat", "emulator", "directline", "test"})

# Where a turn leaves the card an Action.Execute is answered with (dialogs/invokes.py reads it).
INVOKE_CARD_KEY = "natverksboten.invoke_card"
# Set on a card's automatic refresh (Teams asking for someone's view, not a press).
REFRESH_KEY = "natverksboten.refresh"

_SPACES = re.compile(r"\s+")
_AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Person:
    """Someone in the conversation: the sender, or someone @mentioned."""

    id: str
    name: str
    aad_object_id: str | None = None

    @property
    def person(self) -> people.Person:
        """The same someone as storage keeps people (groups, polls, reminders)."""
        return people.Person(self.id, self.name, self.aad_object_id)


@dataclass(frozen=True)
class HelpEntry:
    what: str  # Swedish: what the capability does
    example: str  # Swedish: a message that uses it


class SentCard(dict[str, Any]):
    """A card as sent: botbuilder deep-copies every outgoing activity, and a card is most of one.

    Cards are built fresh for each message and never changed after sending, so the copy may share
    this one instead of duplicating it.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> SentCard:
        return self


class Turn:
    """One incoming activity, as capabilities see it."""

    def __init__(
        self,
        context: TurnContext,
        *,
        now: datetime,
        coordinators: frozenset[str],
        dialog_context: DialogContext | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.context = context
        self._limiter = limiter
        self.activity: Activity = context.activity
        self.now = now
        self._coordinators = coordinators
        self.dialog_context = dialog_context
        self.reading: Any = None  # dialogs.reading.Reading, set by the bot before routing
        sender = self.activity.from_property
        self.user = Person(
            id=sender.id if sender else "",
            name=(sender.name or "") if sender else "",
            aad_object_id=getattr(sender, "aad_object_id", None) if sender else None,
        )
        self.text = clean_text(self.activity)
        self.mentions = _mentions(self.activity)
        # What the last answer in this conversation was about (read before the turn, kept after).
        self.memory = Memory()
        self.new_memory: Memory | None = None
        self.question_settled = False  # ask() or forget_question() was called this turn

    # --- the conversation's memory --------------------------------------------------------
    def remember(self, **fields: Any) -> None:
        """What this answer was about, for follow-ups (replaces the previous memory)."""
        self.new_memory = Memory(**fields, at=self.now.isoformat())

    def ask(self, asked: str, pending: str, choices: Sequence[str] = ()) -> None:
        """The bot asked a question whose answer the next message may be."""
        base = self.new_memory or self.memory
        self.new_memory = replace(
            base, asked=asked, pending=pending, choices=tuple(choices), at=self.now.isoformat()
        )
        self.question_settled = True

    def forget_question(self) -> None:
        base = self.new_memory or self.memory
        self.new_memory = replace(base, asked="", pending="", choices=())
        self.question_settled = True

    # --- where we are -------------------------------------------------------------------
    @property
    def value(self) -> dict[str, Any] | None:
        """Adaptive Card submit data, if this turn is a card button press."""
        value = self.activity.value
        return value if isinstance(value, dict) else None

    @property
    def action(self) -> str | None:
        value = self.value
        action = value.get("action") if value else None
        return action if isinstance(action, str) else None

    @property
    def zone(self) -> ZoneInfo:
        """The user's time zone as their Teams client says (`localTimezone`), else Stockholm."""
        return zone_named(getattr(self.activity, "local_timezone", None))

    @property
    def is_invoke(self) -> bool:
        """An Action.Execute (Teams' universal actions): Teams waits for the card to show."""
        return bool(self.activity.type == ActivityTypes.invoke)

    @property
    def is_refresh(self) -> bool:
        """Teams refreshing a card as someone looks at it: not a message they sent."""
        return bool(self.context.turn_state.get(REFRESH_KEY))

    @property
    def conversation_id(self) -> str:
        conversation_id: str = self.activity.conversation.id
        return conversation_id

    @property
    def conversation_type(self) -> str:
        return (
            (self.activity.conversation.conversation_type or "personal")
            if (self.activity.conversation)
            else "personal"
        )

    @property
    def is_personal(self) -> bool:
        return self.conversation_type == "personal"

    @property
    def channel_id(self) -> str:
        return self.activity.channel_id or ""

    @property
    def tenant_id(self) -> str | None:
        return tenant_of(self.activity)

    @property
    def supports_cards(self) -> bool:
        return self.channel_id in CARD_CHANNELS

    @property
    def email(self) -> str | None:
        """The sender's e-mail / UPN as Teams gave it, once looked up this turn (else None)."""
        identity = self.context.turn_state.get(IDENTITY_KEY)
        email = getattr(identity, "email", None)
        return email if isinstance(email, str) else None

    @property
    def is_coordinator(self) -> bool:
        # Coordinators named by e-mail match through the looked-up identity (the bot looks it
        # up before answering when COORDINATORS holds an address), never a typed one.
        ids = {self.user.id.lower(), (self.user.aad_object_id or "").lower()}
        if self.email:
            ids.add(self.email.lower())
        ids.discard("")
        return bool(ids & self._coordinators)

    @property
    def attachments(self) -> list[Attachment]:
        return list(self.activity.attachments or [])

    # --- answering ----------------------------------------------------------------------
    async def reply(self, text: str) -> str | None:
        response = await self.context.send_activity(MessageFactory.text(text))
        return response.id if response else None

    async def reply_card(self, card: dict[str, Any], fallback: str) -> str | None:
        """An Adaptive Card where the client renders them, else the same content as text."""
        if not self.supports_cards:
            return await self.reply(fallback)
        message = MessageFactory.attachment(CardFactory.adaptive_card(SentCard(card)))
        message.summary = fallback[:200]
        response = await self.context.send_activity(message)
        return response.id if response else None

    async def update_card(self, activity_id: str, card: dict[str, Any]) -> None:
        if self._limiter is not None:  # Teams counts updates like messages
            await self._limiter.acquire(self.conversation_id, self.tenant_id or "-")
        message = MessageFactory.attachment(CardFactory.adaptive_card(card))
        message.id = activity_id
        await self.context.update_activity(message)

    async def show_pressed(self, card: dict[str, Any], *, for_everyone: bool = True) -> None:
        """The card whose button was pressed, changed to this one.

        An Action.Execute is answered with the card, which Teams shows the presser at once; in a
        shared chat the message is also updated for the others unless `for_everyone` is False
        (a card with a view per person refreshes itself). A submit updates the message
        (`replyToId`) for everyone, where the client renders cards.
        """
        if self.is_invoke:
            self.context.turn_state[INVOKE_CARD_KEY] = card
            if self.is_personal or not for_everyone:
                return
        pressed_on = self.activity.reply_to_id
        if pressed_on and self.supports_cards:
            await self.update_card(pressed_on, card)

    async def typing(self) -> None:
        await self.context.send_activity(Activity(type=ActivityTypes.typing))

    async def begin_dialog(self, dialog_id: str, options: Any = None) -> None:
        if self.dialog_context is None:
            raise RuntimeError("no dialog context on this turn")
        await self.dialog_context.begin_dialog(dialog_id, options)


class Capability(Protocol):
    """A module of dialogs/: its handlers are reached through the routing table
    (dialogs/routes.py), one per intent or card action; it never matches text itself."""

    name: str
    help: Sequence[HelpEntry]

    def dialogs(self) -> Sequence[Dialog]: ...


def tenant_of(activity: Activity) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant") if isinstance(data.get("tenant"), dict) else None
    tenant_id = tenant.get("id") if tenant else None
    if isinstance(tenant_id, str):
        return tenant_id
    conversation = activity.conversation
    return getattr(conversation, "tenant_id", None) if conversation else None


def clean_text(activity: Activity) -> str:
    """The user's words without the @mention of the bot, with whitespace collapsed."""
    text = activity.text or ""
    recipient = activity.recipient
    for entity in activity.entities or []:
        if getattr(entity, "type", None) != "mention":
            continue
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned") or {}
        if recipient and mentioned.get("id") == recipient.id:
            mention_text = props.get("text")
            if isinstance(mention_text, str) and mention_text:
                text = text.replace(mention_text, " ")
    # Leftover <at> tags of other mentions keep their name as plain text.
    text = _AT_TAG.sub(lambda m: re.sub(r"</?at>", "", m.group(0), flags=re.I), text)
    text = text.replace("&nbsp;", " ")
    return _SPACES.sub(" ", text).strip()


def _mentions(activity: Activity) -> list[Person]:
    people: list[Person] = []
    recipient_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        if getattr(entity, "type", None) != "mention":
            continue
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned") or {}
        if not isinstance(mentioned, dict) or mentioned.get("id") in (None, recipient_id):
            continue
        people.append(
            Person(
                id=str(mentioned["id"]),
                name=str(mentioned.get("name") or ""),
                aad_object_id=mentioned.get("aadObjectId"),
            )
        )
    return people
