"""Proactive delivery: the `Sender` protocol the nudge service uses, and Teams' implementation.

The only module of scheduler/ that knows Bot Framework. Stored conversation references are opaque
JSON (`TurnContext.get_conversation_reference(activity).serialize()`); they carry the serviceUrl,
so a reference written by a test's fake connector sends to that fake connector.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from botbuilder.core import BotAdapter, CardFactory, MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)

from scheduler.clock import Clock
from scheduler.references import bot_account_of, decode_reference, encode_reference
from storage.budget import SendBudget
from storage.conversations import ConversationRepository, Reference

logger = logging.getLogger(__name__)

SENT = "sent"
RETRY = "retry"
GONE = "gone"

# Teams' limits for a bot (rate limiting for agents, October 2026): per conversation 7 messages a
# second, 8 in 2 seconds, 60 in 30 seconds and 1800 an hour; about 50 a second per app and
# tenant. We stay a little below: Teams counts arrivals, and sends started evenly spaced can
# arrive bunched (measured: 62 per 30 s and 56 per second at the limits themselves). Messages and
# card updates (Outgoing.replaces) count alike, from every process (storage/budget.py).
CONVERSATION_LIMITS: tuple[tuple[int, float], ...] = (
    (6, 1.0),
    (7, 2.0),
    (55, 30.0),
    (1700, 3600.0),
)
TENANT_LIMITS: tuple[tuple[int, float], ...] = ((40, 1.0),)
# Answers worth asking again, after Retry-After when Teams gives one, else after a backoff:
# 412 (a conversation busy with another update), timeouts, throttling and gateway trouble.
RETRYABLE = frozenset({408, 412, 429, 500, 502, 503, 504})
# Sends to one tenant on the wire at once: after a stall of the event loop, requests that were
# started evenly apart would otherwise leave together and arrive as a burst.
TENANT_IN_FLIGHT = 8

# Retrying a 429 or a 5xx inside one send; a longer wait goes back to the database as a retry time
# so the lease is not held while we wait.
MAX_TRIES_PER_SEND = 4
MAX_WAIT_IN_SEND = 20.0
BACKOFF_BASE = 1.0
BACKOFF_CAP = 300.0


@dataclass(frozen=True)
class Recipient:
    """A chat to post in (`conversation_id`), or a person to reach in their personal chat."""

    conversation_id: str | None = None
    user_id: str | None = None
    aad_object_id: str | None = None
    name: str | None = None
    tenant_id: str | None = None


@dataclass(frozen=True)
class Outgoing:
    to: Recipient
    text: str
    card: dict[str, Any] | None = None
    # The id of a message the bot sent earlier in `to.conversation_id`: it is updated in place
    # (a poll's shared card) instead of a new message being sent; it counts against the limits.
    replaces: str | None = None


@dataclass(frozen=True)
class SendResult:
    outcome: str  # SENT, RETRY or GONE
    activity_id: str | None = None
    conversation_id: str | None = None
    retry_after: float | None = None  # seconds, for RETRY
    status: int | None = None
    error: str = ""


class Sender(Protocol):
    async def send(self, message: Outgoing) -> SendResult: ...


def backoff(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with full jitter: attempt 1 waits up to 1 s, 2 up to 2 s, 3 up to 4 s."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** max(attempt - 1, 0))
    return ceiling / 2 + rand() * ceiling / 2


@dataclass
class RateLimiter:
    """Sliding-window limits per key; `acquire` waits until every window has room."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    conversation_limits: tuple[tuple[int, float], ...] = CONVERSATION_LIMITS
    tenant_limits: tuple[tuple[int, float], ...] = TENANT_LIMITS
    # Shared by every process through the database; None: this process's own count only.
    budget: SendBudget | None = None
    wall: Callable[[], float] = time.time  # the budget's clock: comparable across processes
    _logs: dict[str, deque[float]] = field(default_factory=dict)
    _blocked: dict[str, float] = field(default_factory=dict)

    def _wait(self, key: str, limits: tuple[tuple[int, float], ...], now: float) -> float:
        wait = max(self._blocked.get(key, 0.0) - now, 0.0)
        log = self._logs.get(key)
        if not log or not limits:
            return wait
        longest = max(window for _, window in limits)
        while log and log[0] <= now - longest:
            log.popleft()
        if not log:
            return wait
        for count, window in limits:
            inside = [t for t in log if t > now - window] if window < longest else list(log)
            if len(inside) >= count:
                wait = max(wait, inside[-count] + window - now)
        # Evenly spaced, not in bursts: after a stall a window with room would otherwise let all
        # of it go at once, and network jitter then packs more than the limit into one second.
        count, window = min(limits, key=lambda limit: limit[1])
        wait = max(wait, log[-1] + window / count - now)
        return wait

    async def acquire(self, conversation: str, tenant: str) -> float:
        """Waits for room in the conversation's and the tenant's windows; returns the wait."""
        return await self.acquire_conversation(conversation) + await self.acquire_tenant(tenant)

    async def acquire_conversation(self, conversation: str) -> float:
        return await self._acquire(f"c:{conversation}", self.conversation_limits)

    async def acquire_tenant(self, tenant: str) -> float:
        return await self._acquire(f"t:{tenant}", self.tenant_limits)

    async def _acquire(self, key: str, limits: tuple[tuple[int, float], ...]) -> float:
        if self.budget is not None and limits:
            return await self._acquire_shared(key, limits)
        waited = 0.0
        while True:
            now = self.monotonic()
            wait = self._wait(key, limits, now)
            if wait <= 0:
                if limits:
                    self._logs.setdefault(key, deque()).append(now)
                return waited
            waited += wait
            await self.sleep(wait)

    def block(self, conversation: str, seconds: float) -> None:
        """Teams said 429: nothing more to this conversation until Retry-After has passed."""
        key = f"c:{conversation}"
        until = self.monotonic() + seconds
        self._blocked[key] = max(self._blocked.get(key, 0.0), until)

    async def _acquire_shared(self, key: str, limits: tuple[tuple[int, float], ...]) -> float:
        assert self.budget is not None
        waited = 0.0
        while True:
            wait = await asyncio.to_thread(self.budget.take, key, limits, self.wall())
            if wait <= 0:
                return waited
            waited += wait
            await self.sleep(wait)

    async def hold_off(self, conversation: str, seconds: float) -> None:
        """Teams said wait: this conversation waits `seconds`, in every process."""
        self.block(conversation, seconds)
        if self.budget is not None:
            until = self.wall() + seconds
            await asyncio.to_thread(self.budget.block, f"c:{conversation}", until)

    def forget_idle(self, older_than: float = 3600.0) -> None:
        now = self.monotonic()
        for key in [k for k, log in self._logs.items() if not log or log[-1] < now - older_than]:
            del self._logs[key]
        for key in [k for k, until in self._blocked.items() if until < now]:
            del self._blocked[key]


class _Refused(Exception):
    def __init__(self, status: int | None, retry_after: float | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class TeamsSender:
    """Sends through `adapter.continue_conversation` with the stored reference, or opens a
    personal chat in the tenant for someone the bot has not talked to yet."""

    def __init__(
        self,
        adapter: BotAdapter,
        app_id: str,
        conversations: ConversationRepository,
        clock: Clock,
        *,
        limiter: RateLimiter | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._conversations = conversations
        self._clock = clock
        self._limiter = limiter or RateLimiter()
        self._rand = rand
        self._sends = 0
        self._references: dict[str, tuple[float, Reference]] = {}
        self._parsed: dict[str, ConversationReference] = {}
        self._in_flight: dict[str, asyncio.Semaphore] = {}

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter

    async def send(self, message: Outgoing) -> SendResult:
        reference = self._cached_reference(message.to)
        if reference is None:
            reference = await asyncio.to_thread(self._find_reference, message.to)
        if reference is None and message.replaces is not None:
            return SendResult(GONE, status=404, error="no conversation to update a message in")
        spent = 0.0  # seconds this send has already waited on 429s and errors
        for attempt in range(1, MAX_TRIES_PER_SEND + 1):
            conversation_key = (
                reference.conversation_id if reference else f"new:{message.to.user_id}"
            )
            tenant = message.to.tenant_id or (reference.tenant_id if reference else None) or "-"
            # The conversation's turn first (it may be a long wait), then a place on the wire
            # and the tenant's turn, counted as late as possible so what Teams sees is what we
            # counted.
            await self._limiter.acquire_conversation(conversation_key)
            slots = self._in_flight.setdefault(tenant, asyncio.Semaphore(TENANT_IN_FLIGHT))
            try:
                async with slots:
                    await self._limiter.acquire_tenant(tenant)
                    if reference is not None:
                        activity_id = await self._continue(reference, message)
                        conversation_id = reference.conversation_id
                    else:
                        conversation_id, activity_id = await self._open_personal(message)
                self._sends += 1
                if self._sends % 1000 == 0:
                    self._limiter.forget_idle()
                return SendResult(SENT, activity_id=activity_id, conversation_id=conversation_id)
            except _Refused as refused:
                # A 429 or 5xx blocks the conversation in the limiter; the next acquire waits.
                result, wait = self._judge(refused, attempt, spent)
                if wait > 0:  # every process holds off this conversation, not just this send
                    await self._limiter.hold_off(conversation_key, wait)
                if result is not None:
                    return result
                spent += wait
        return SendResult(
            RETRY, retry_after=backoff(MAX_TRIES_PER_SEND, self._rand), error="gave up for now"
        )

    def _judge(
        self, refused: _Refused, attempt: int, spent: float
    ) -> tuple[SendResult | None, float]:
        """(None, wait) to try again after `wait` seconds; else what to tell the caller."""
        status = refused.status
        if status is not None and status < 500 and status not in RETRYABLE:
            # 401, 403, 404 and the other 4xx will not get better by asking again.
            return SendResult(GONE, status=status, error=str(refused)), 0.0
        if refused.retry_after is not None:
            wait = refused.retry_after
        else:
            wait = backoff(attempt, self._rand)
        if attempt >= MAX_TRIES_PER_SEND or spent + wait > MAX_WAIT_IN_SEND:
            # Too long to hold the lease: the wait goes to the database as the next attempt.
            return SendResult(RETRY, retry_after=wait, status=status, error=str(refused)), wait
        return None, wait

    def _cached_reference(self, to: Recipient) -> Reference | None:
        # A burst to one chat reads its reference once; the bot refreshes the row on every
        # incoming message, so a minute-old copy is recent enough.
        cached = self._references.get(to.conversation_id or "")
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        return None

    def _find_reference(self, to: Recipient) -> Reference | None:
        if to.conversation_id:
            found = self._conversations.get(to.conversation_id)
            if found is not None:
                if len(self._references) > 10_000:
                    self._references.clear()
                self._references[to.conversation_id] = (time.monotonic() + 60.0, found)
                return found
        if to.aad_object_id:
            return self._conversations.personal_chat_of(to.aad_object_id)
        return None

    async def _continue(self, reference: Reference, message: Outgoing) -> str | None:
        ref = self._parsed.get(reference.reference)
        if ref is None:
            ref = decode_reference(reference.reference)
            if len(self._parsed) > 10_000:
                self._parsed.clear()
            self._parsed[reference.reference] = ref
        holder: dict[str, Any] = {}

        async def callback(context: TurnContext) -> None:
            # Errors are caught here: from the adapter they would reach on_turn_error, which
            # answers "Något gick fel" into the very conversation we could not write to.
            try:
                activity = _activity(message)
                if message.replaces is not None:
                    activity.id = message.replaces
                    await context.update_activity(activity)
                    holder["id"] = message.replaces
                else:
                    response = await context.send_activity(activity)
                    holder["id"] = response.id if response else None
            except Exception as error:  # any connector error; judged by its status below
                holder["error"] = error

        await self._adapter.continue_conversation(ref, callback, bot_app_id=self._app_id)
        if "error" in holder:
            raise _refusal(holder["error"])
        return holder.get("id")

    async def _open_personal(self, message: Outgoing) -> tuple[str, str | None]:
        to = message.to
        anchor = await asyncio.to_thread(self._conversations.any_in_tenant, to.tenant_id)
        if anchor is None or not to.user_id:
            raise _Refused(404, None, "no conversation in the tenant to open a personal chat from")
        bot = bot_account_of(anchor.reference)
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=bot.get("id"), name=bot.get("name")),
            members=[ChannelAccount(id=to.user_id, name=to.name, aad_object_id=to.aad_object_id)],
            tenant_id=to.tenant_id,
            channel_data={"tenant": {"id": to.tenant_id}} if to.tenant_id else None,
        )
        holder: dict[str, Any] = {}

        async def callback(context: TurnContext) -> None:
            try:
                activity = context.activity
                holder["conversation_id"] = activity.conversation.id
                reference = TurnContext.get_conversation_reference(activity)
                reference.user = ChannelAccount(
                    id=to.user_id, name=to.name, aad_object_id=to.aad_object_id
                )
                reference.bot = ChannelAccount(id=bot.get("id"), name=bot.get("name"))
                holder["reference"] = reference
                response = await context.send_activity(_activity(message))
                holder["id"] = response.id if response else None
            except Exception as error:
                holder["error"] = error

        try:
            await self._adapter.create_conversation(
                self._app_id,
                callback,
                parameters,
                channel_id=anchor.channel_id or "msteams",
                service_url=anchor.service_url,
            )
        except Exception as error:  # the create call itself was refused
            raise _refusal(error) from error
        if "reference" in holder:
            await asyncio.to_thread(self._remember, holder["reference"], anchor, to)
        if "error" in holder:
            raise _refusal(holder["error"])
        return holder["conversation_id"], holder.get("id")

    def _remember(self, reference: ConversationReference, anchor: Reference, to: Recipient) -> None:
        self._conversations.upsert(
            Reference(
                conversation_id=reference.conversation.id,
                channel_id=anchor.channel_id,
                service_url=reference.service_url or anchor.service_url,
                tenant_id=to.tenant_id or anchor.tenant_id,
                conversation_type="personal",
                user_id=to.user_id,
                aad_object_id=to.aad_object_id,
                user_name=to.name,
                reference=encode_reference(reference),
            ),
            self._clock.now(),
        )


def _activity(message: Outgoing) -> Activity:
    if message.card is None:
        return MessageFactory.text(message.text)
    activity = MessageFactory.attachment(CardFactory.adaptive_card(message.card))
    activity.summary = message.text[:200]
    return activity


def _refusal(error: BaseException) -> _Refused:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    headers = getattr(response, "headers", None) or {}
    retry_after: float | None = None
    raw = headers.get("Retry-After") if hasattr(headers, "get") else None
    if raw is not None:
        try:
            retry_after = max(float(raw), 0.0)
        except ValueError:
            retry_after = None
    return _Refused(
        int(status) if isinstance(status, int) else None,
        retry_after,
        f"{type(error).__name__}: {status}",
    )
