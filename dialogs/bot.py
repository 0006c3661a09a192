"""The bot: welcome, @mention rules, retry dedupe, then one reading of each message and one routing
table (dialogs/reading/, dialogs/routes.py); a question inside a dialog is answered there."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import replace

from botbuilder.core import ActivityHandler, ConversationState, TurnContext, UserState
from botbuilder.dialogs import DialogContext, DialogSet, DialogTurnStatus
from botbuilder.schema import ChannelAccount, InvokeResponse

from dialogs.cancel_and_help import HELP_WORDS, plain_words
from dialogs.invokes import answer_invoke
from dialogs.limits import Guard
from dialogs.reading import Intent, Memory, Reader
from dialogs.routes import Routes
from dialogs.small_talk import SmallTalk
from dialogs.small_talk import Texts as SmallTalkTexts
from dialogs.turn import Capability, HelpEntry, Turn, tenant_of
from edge.identity import Identities
from edge.wire import to_wire
from scheduler.clock import Clock, wall_time_in
from scheduler.delivery import RateLimiter
from scheduler.metrics import Metrics
from scheduler.references import encode_reference
from storage.conversations import ConversationRepository, Reference

logger = logging.getLogger(__name__)

FILE_DOWNLOAD = "application/vnd.microsoft.teams.file.download.info"

# An answer slower than this gets a typing indicator first.
TYPING_AFTER_SECONDS = 1.0

CAPABILITY_KEY = "natverksboten.capability"
# Intents that, asked in the middle of a dialog, are answered there and then (the dialog waits).
INTERRUPTS = frozenset(
    {
        Intent.HELP,
        Intent.ABOUT_BOT,
        Intent.FIND_COURSE,
        Intent.FIND_CONTACT,
        Intent.LIST_REMINDERS,
        Intent.SET_REMINDER,
        Intent.SHOW_MY_DATA,
        Intent.UNANSWERED_QUESTIONS,
        Intent.WATCH_COURSES,
        Intent.MANAGE_GROUP,
    }
)
# The bot's own questions it keeps waiting for across another question (their answers, a time
# or a choice of hour, cannot be mistaken for anything else).
KEPT_QUESTIONS = frozenset({"time", "clock"})


class Texts:
    WELCOME = (
        "Hej! Jag är **Nätverksboten**, nätverkets assistent i Teams. Jag hittar kostnadsfria "
        "utbildningar och kollegor med rätt kompetens, påminner om möten och deadlines och hjälper "
        "till att hitta en mötestid. Skriv **hjälp** för att se vad jag kan."
    )


class NatverksBot(ActivityHandler):  # type: ignore[misc]  # botbuilder is untyped
    def __init__(
        self,
        capabilities: Sequence[Capability],
        conversations: ConversationRepository,
        conversation_state: ConversationState,
        user_state: UserState,
        clock: Clock,
        coordinators: frozenset[str],
        *,
        routes: Routes,
        reader: Reader,
        small_talk: SmallTalk,
        typing_after: float = TYPING_AFTER_SECONDS,
        metrics: Metrics | None = None,
        guard: Guard | None = None,
        identities: Identities | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._limiter = limiter
        self.guard = guard or Guard(clock)
        self._identities = identities
        # Coordinators named by e-mail are recognised only through Teams' member lookup.
        self._coordinator_emails = any("@" in c for c in coordinators)
        self._metrics = metrics
        self._capabilities = list(capabilities)
        self.routes = routes
        self._reader = reader
        self._small_talk = small_talk
        self._memory = conversation_state.create_property("Memory")
        self._conversations = conversations
        self._conversation_state = conversation_state
        self._user_state = user_state
        self._clock = clock
        self._coordinators = coordinators
        self._typing_after = typing_after
        self._dialog_state = conversation_state.create_property("DialogState")
        self._dialogs = DialogSet(self._dialog_state)
        for capability in self._capabilities:
            for dialog in capability.dialogs():
                self._dialogs.add(dialog)

    def warm_up(self) -> None:
        """Starts loading what reading a message needs, so the first question does not wait."""
        self._reader.warm_up_in_background()

    @property
    def capabilities(self) -> list[Capability]:
        return self._capabilities

    async def on_turn(self, turn_context: TurnContext) -> None:
        started = time.perf_counter()
        activity = turn_context.activity
        if activity.conversation and activity.service_url:
            await self._remember(turn_context)
        try:
            await super().on_turn(turn_context)
            await self._conversation_state.save_changes(turn_context)
            await self._user_state.save_changes(turn_context)
        except Exception:
            if self._metrics:
                self._metrics.errors.inc()
            raise
        finally:
            capability = turn_context.turn_state.get(CAPABILITY_KEY) or activity.type or "-"
            elapsed = time.perf_counter() - started
            if self._metrics:
                self._metrics.turns.labels(capability).inc()
                self._metrics.turn_seconds.observe(elapsed)
            # One line per turn; ids and timings only, never what was written.
            logger.info(
                "turn",
                extra={
                    "activity_id": activity.id,
                    "conversation_id": activity.conversation.id if activity.conversation else None,
                    "activity_type": activity.type,
                    "capability": capability,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )

    async def _remember(self, context: TurnContext) -> None:
        activity = context.activity
        reference = TurnContext.get_conversation_reference(activity)
        reference.activity_id = None  # proactive messages start new threads, not replies
        sender = activity.from_property
        ref = Reference(
            conversation_id=activity.conversation.id,
            channel_id=activity.channel_id or "",
            service_url=activity.service_url,
            tenant_id=tenant_of(activity),
            conversation_type=activity.conversation.conversation_type,
            user_id=sender.id if sender else None,
            aad_object_id=getattr(sender, "aad_object_id", None) if sender else None,
            user_name=sender.name if sender else None,
            reference=encode_reference(reference, as_json=to_wire),
        )
        if not self._conversations.is_known(ref):
            await asyncio.to_thread(self._conversations.upsert, ref, self._clock.now())

    # --- welcome ----------------------------------------------------------------------
    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in members_added):
            await self._welcome_once(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._welcome_once(turn_context)

    async def _welcome_once(self, context: TurnContext) -> None:
        first = await asyncio.to_thread(
            self._conversations.mark_welcomed, context.activity.conversation.id, self._clock.now()
        )
        if first:
            await context.send_activity(Texts.WELCOME)

    # --- invokes: Action.Execute goes through the same handlers as a submit -------------
    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        return await answer_invoke(turn_context, self.on_message_activity)

    # --- messages ---------------------------------------------------------------------
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        is_group = (activity.conversation.conversation_type or "personal") != "personal"
        if is_group and not activity.value and not _mentions_bot(turn_context):
            return  # in groups the bot speaks only when spoken to
        turn = Turn(
            turn_context,
            now=self._clock.now(),
            coordinators=self._coordinators,
            limiter=self._limiter,
        )
        if self._identities and self._coordinator_emails and not turn.is_coordinator:
            await self._identities.of(turn_context)  # cached: one lookup per user an hour
        typing = asyncio.create_task(self._type_if_slow(turn))
        try:
            # Too long, a NUL, too many at once, a value too long to keep: refused in Swedish.
            # Times are read and written in the user's zone for this turn.
            with wall_time_in(turn.zone):
                refused = await self.guard.run(turn, self._answer)
            if refused:
                turn_context.turn_state[CAPABILITY_KEY] = f"refused:{refused}"
        finally:
            typing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await typing

    async def _type_if_slow(self, turn: Turn) -> None:
        await asyncio.sleep(self._typing_after)
        if not turn.context.responded:
            await turn.typing()

    async def _answer(self, turn: Turn) -> None:
        state = turn.context.turn_state
        if plain_words(turn.text) in HELP_WORDS and not turn.value:
            # the same answer in any dialog: the conversation's state is not read
            state[CAPABILITY_KEY] = Intent.HELP
            await self._small_talk.show_help(turn)
            return
        dialog_context = await self._dialogs.create_context(turn.context)
        turn.dialog_context = dialog_context
        turn.memory = Memory.from_json(await self._memory.get(turn.context, dict))
        try:
            state[CAPABILITY_KEY] = await self._route(turn, dialog_context)
        finally:
            await self._keep_memory(turn)

    async def _route(self, turn: Turn, dialog_context: DialogContext) -> str:
        in_dialog = dialog_context.active_dialog is not None
        reading = await self._reader.read(
            turn.text,
            turn.memory,
            now=turn.now,
            mentions=len(turn.mentions),
            has_file=_has_file(turn),
            in_dialog=in_dialog,
        )
        turn.reading = reading
        if turn.action:
            return await self.routes.dispatch_action(turn, reading)
        if in_dialog and reading.intent != Intent.CANCEL:
            if reading.intent in INTERRUPTS and (reading.by == "rule" or reading.is_question):
                # A question in the middle of a dialog: answered, then the dialog goes on.
                name = await self.routes.dispatch(turn, reading)
                await turn.reply(SmallTalkTexts.CONTINUE)
                await dialog_context.reprompt_dialog()
                return name
            result = await dialog_context.continue_dialog()
            if result.status != DialogTurnStatus.Empty:
                turn.forget_question()
                return Intent.ANSWER
        return await self.routes.dispatch(turn, reading)

    async def _keep_memory(self, turn: Turn) -> None:
        memory = turn.new_memory
        old = turn.memory
        # A question asked while the bot waits for a time ("när ska jag påminna?") is answered
        # and the bot goes on waiting: a time is recognisable whenever it comes.
        waits = (
            old.asked in KEPT_QUESTIONS
            and not turn.question_settled
            and old.is_fresh(turn.now)
            and turn.reading is not None
            and turn.reading.intent in INTERRUPTS
            and (turn.reading.is_question or turn.reading.by == "rule")
        )
        if memory is None:
            if not old.asked:
                return
            memory = old if waits else replace(old, asked="", pending="", choices=())
        elif waits:
            memory = replace(memory, asked=old.asked, pending=old.pending, choices=old.choices)
        await self._memory.set(turn.context, memory.to_json())

    def help_entries(self) -> list[tuple[str, list[HelpEntry]]]:
        """Each capability's help entries, in the routing table's order (the Teams menu)."""
        return self.routes.menu()


def _has_file(turn: Turn) -> bool:
    return any(a.content_type == FILE_DOWNLOAD for a in turn.attachments)


def _mentions_bot(context: TurnContext) -> bool:
    recipient = context.activity.recipient
    for entity in context.activity.entities or []:
        if getattr(entity, "type", None) != "mention":
            continue
        mentioned = (entity.additional_properties or {}).get("mentioned") or {}
        if recipient and mentioned.get("id") == recipient.id:
            return True
    return False
