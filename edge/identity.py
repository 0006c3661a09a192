"""Who is writing, as Teams knows them: e-mail / UPN from the Bot Connector's member lookup.

A message carries the sender's Teams user id and AAD object id, never an e-mail address. Where the
bot needs one (the competence bank's self-service, coordinators named by e-mail), it asks the Bot
Connector (GET /v3/conversations/{id}/members/{userId}, botbuilder's TeamsInfo.get_member) and
keeps the answer for a while. Nothing a person types is ever taken as who they are.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema.teams import TeamsChannelAccount

from scheduler.clock import Clock

logger = logging.getLogger(__name__)

# Where the sender's looked-up identity is left for the rest of the turn (dialogs/turn.py reads it).
IDENTITY_KEY = "natverksboten.identity"
KEEP = timedelta(hours=1)  # a changed address or a left tenant shows within the hour
KEEP_FAILURE = timedelta(minutes=2)  # a lookup that failed is tried again soon, not every turn
MAX_ENTRIES = 20_000


@dataclass(frozen=True)
class Identity:
    user_id: str
    aad_object_id: str | None
    email: str | None  # lower case; None when Teams did not say (or the lookup failed)


# (context, user id) -> (e-mail or UPN, AAD object id) as the Bot Connector answers, or None.
Lookup = Callable[[TurnContext, str], Awaitable[tuple[str | None, str | None] | None]]


async def teams_member_lookup(
    context: TurnContext, user_id: str
) -> tuple[str | None, str | None] | None:
    member: Any = await TeamsInfo.get_member(context, user_id)
    email = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
    return (email if isinstance(email, str) else None, getattr(member, "aad_object_id", None))


# (context, chat, user id) -> the same, for someone else in a chat the bot is in (a group's chat).
MemberLookup = Callable[[TurnContext, str, str], Awaitable[tuple[str | None, str | None] | None]]


async def teams_member_in(
    context: TurnContext, conversation_id: str, user_id: str
) -> tuple[str | None, str | None] | None:
    client: Any = context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
    if client is None:
        return None
    found: Any = await client.conversations.get_conversation_member(conversation_id, user_id)
    member = TeamsChannelAccount().deserialize(
        dict(found.serialize(), **(found.additional_properties or {}))
    )
    email = member.email or member.user_principal_name
    return (email if isinstance(email, str) else None, member.aad_object_id)


class Identities:
    """Looked-up identities, cached in memory per tenant and user with an expiry."""

    def __init__(
        self,
        clock: Clock,
        lookup: Lookup = teams_member_lookup,
        member_lookup: MemberLookup = teams_member_in,
    ) -> None:
        self._clock = clock
        self._lookup = lookup
        self._member_lookup = member_lookup
        self._cache: OrderedDict[tuple[str, str], tuple[datetime, Identity]] = OrderedDict()
        self._pending: dict[tuple[str, str], asyncio.Future[Identity]] = {}

    async def of(self, context: TurnContext) -> Identity:
        """The sender's identity: one lookup per user an hour at most, shared by turns at once."""
        known = context.turn_state.get(IDENTITY_KEY)
        if isinstance(known, Identity):
            return known
        activity = context.activity
        sender = activity.from_property
        user_id = (sender.id if sender else "") or ""
        aad = getattr(sender, "aad_object_id", None) if sender else None
        tenant = _tenant(activity)
        key = (tenant, aad or user_id)
        now = self._clock.now()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            identity = cached[1]
        elif not user_id or activity.channel_id != "msteams":
            identity = Identity(user_id, aad, None)  # only Teams vouches for an address
        elif key in self._pending:
            identity = await asyncio.shield(self._pending[key])
        else:
            identity = await self._look_up(context, key, user_id, aad)
        context.turn_state[IDENTITY_KEY] = identity
        return identity

    async def email_of(
        self, context: TurnContext, conversation_id: str, user_id: str, aad: str | None
    ) -> str | None:
        """Someone's e-mail / UPN as Teams gives it for a chat they are in (a calendar
        invitation's attendees), cached like the sender's; None when Teams does not say."""
        key = (_tenant(context.activity), aad or user_id)
        now = self._clock.now()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1].email
        if not user_id or context.activity.channel_id != "msteams":
            return None
        try:
            found = await self._member_lookup(context, conversation_id, user_id)
        except Exception as error:  # not in that chat, or the connector said no
            logger.info("member lookup failed: %s", type(error).__name__)
            found = None
        email, looked_up_aad = found if found else (None, None)
        if looked_up_aad and aad and looked_up_aad != aad:
            email = None  # another account than the member's: trust nothing
        identity = Identity(user_id, aad or looked_up_aad, email.strip().lower() if email else None)
        self._cache[key] = (now + (KEEP if found else KEEP_FAILURE), identity)
        self._cache.move_to_end(key)
        while len(self._cache) > MAX_ENTRIES:
            self._cache.popitem(last=False)
        return identity.email

    async def _look_up(
        self, context: TurnContext, key: tuple[str, str], user_id: str, aad: str | None
    ) -> Identity:
        future: asyncio.Future[Identity] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            try:
                found = await self._lookup(context, user_id)
            except Exception as error:  # the connector said no, or was unreachable
                logger.info("member lookup failed: %s", type(error).__name__)
                found = None
            email, looked_up_aad = found if found else (None, None)
            if looked_up_aad and aad and looked_up_aad != aad:
                email = None  # not the account that wrote: trust nothing
            identity = Identity(
                user_id, aad or looked_up_aad, email.strip().lower() if email else None
            )
            keep = KEEP if found else KEEP_FAILURE
            self._cache[key] = (self._clock.now() + keep, identity)
            self._cache.move_to_end(key)
            while len(self._cache) > MAX_ENTRIES:
                self._cache.popitem(last=False)
            future.set_result(identity)
            return identity
        finally:
            self._pending.pop(key, None)
            if not future.done():
                future.cancel()


def _tenant(activity: Any) -> str:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant") if isinstance(data.get("tenant"), dict) else None
    if tenant and isinstance(tenant.get("id"), str):
        return str(tenant["id"])
    return str(getattr(activity.conversation, "tenant_id", None) or "")
