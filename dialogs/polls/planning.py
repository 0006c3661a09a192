"""The planning dialog: title, length, place, slots and the last day to answer."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import (
    Dialog,
    DialogContext,
    DialogTurnResult,
    PromptOptions,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)

from dialogs.cancel_and_help import CancelAndHelpDialog
from dialogs.polls.proposals import asks_for_proposals
from dialogs.polls.texts import Texts
from dialogs.turn import Turn, clean_text
from scheduler.clock import Clock
from scheduler.swedish import format_span, format_when
from scheduler.timing import default_poll_deadline, local_day, poll_deadline_on
from scheduler.when import WhenError, parse, parse_duration
from storage.people import Person
from storage.polls import TEAMS_MEETING, NewPoll

if TYPE_CHECKING:
    from dialogs.polls.capability import Polls

PLAN_DIALOG = "polls.plan"
DEFAULT_LENGTH_MINUTES = 120

OK_WORDS = frozenset({"ok", "okej", "ja", "japp", "bra", "det blir bra", "standard"})
TEAMS_WORDS = frozenset({"teams", "teams-möte", "teamsmöte", "teams möte", "digitalt", "online"})


def _words(context: TurnContext) -> str:
    return clean_text(context.activity).strip()


def _is_ok(text: str) -> bool:
    return text.strip().lower().rstrip(".!") in OK_WORDS


def _length(text: str) -> int | None:
    """Minutes from "2 timmar", "90 minuter", "1,5 h", a bare "2" (hours) or "ok"."""
    if _is_ok(text):
        return DEFAULT_LENGTH_MINUTES
    plain = text.strip().replace(",", ".")
    if re.fullmatch(r"\d+(?:\.\d+)?", plain):
        number = float(plain)
        minutes = number * 60 if number <= 8 else number
    else:
        found = parse_duration(text)
        if found is None:
            return None
        minutes = found.total_seconds() / 60
    return int(minutes) if 15 <= minutes <= 8 * 60 else None


def deadline_from_text(
    text: str, now: datetime, first_start: datetime
) -> tuple[datetime | None, str | None]:
    if _is_ok(text):
        default = default_poll_deadline(first_start, now)
        return (default, None) if default else (None, Texts.DEADLINE_PAST)
    try:
        parsed = parse(text, now)
    except WhenError as error:
        return None, Texts.BAD_DEADLINE.format(error=error)
    if parsed is None:
        return None, Texts.BAD_DEADLINE.format(error="Jag hittade inget datum.")
    value = parsed.value
    at = getattr(value, "at", None) or getattr(value, "start", None)
    if at is None:
        return None, Texts.BAD_DEADLINE.format(error="Jag hittade inget datum.")
    if getattr(value, "all_day", False):
        at = poll_deadline_on(local_day(at))
    if at <= now:
        return None, Texts.DEADLINE_PAST
    if at > first_start:
        return None, Texts.DEADLINE_AFTER_SLOT.format(first=format_when(first_start))
    return at, None


class PlanPollDialog(CancelAndHelpDialog):
    """Title, length, place, slots, last day to answer; then the poll goes out."""

    def __init__(self, polls: Polls, clock: Clock) -> None:
        super().__init__(PLAN_DIALOG)
        self._polls = polls
        self._clock = clock
        self.add_dialog(TextPrompt("polls.title", self._any_text))
        self.add_dialog(TextPrompt("polls.length", self._is_length))
        self.add_dialog(TextPrompt("polls.place", self._any_text))
        self.add_dialog(TextPrompt("polls.slots", self._are_slots))
        self.add_dialog(TextPrompt("polls.deadline", self._is_deadline))
        self.add_dialog(
            WaterfallDialog(
                "polls.plan.steps",
                [
                    self.ask_title,
                    self.ask_length,
                    self.ask_place,
                    self.ask_slots,
                    self.ask_deadline,
                    self.open_poll,
                ],
            )
        )
        self.initial_dialog_id = "polls.plan.steps"

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        # A card submit in the same chat (someone answering another poll) is not a reply to
        # this dialog's question: answer it and keep waiting.
        value = inner_dc.context.activity.value
        if isinstance(value, dict) and isinstance(value.get("action"), str):
            turn = Turn(
                inner_dc.context, now=self._clock.now(), coordinators=self._polls.coordinators
            )
            await self._polls.submit(turn)
            return Dialog.end_of_turn
        return await super().on_continue_dialog(inner_dc)

    # validators
    async def _any_text(self, prompt: PromptValidatorContext) -> bool:
        return bool(_words(prompt.context))

    async def _is_length(self, prompt: PromptValidatorContext) -> bool:
        if _length(_words(prompt.context)) is None:
            await prompt.context.send_activity(Texts.BAD_LENGTH)
            return False
        return True

    async def _are_slots(self, prompt: PromptValidatorContext) -> bool:
        options = prompt.options.validations or {}
        _, error = await self._polls.slots_from_text(
            _words(prompt.context), timedelta(minutes=options["length"]), options["group_id"]
        )
        if error:
            await prompt.context.send_activity(error)
            return False
        return True

    async def _is_deadline(self, prompt: PromptValidatorContext) -> bool:
        first = datetime.fromisoformat((prompt.options.validations or {})["first_start"])
        _, error = deadline_from_text(_words(prompt.context), self._clock.now(), first)
        if error:
            await prompt.context.send_activity(error)
            return False
        return True

    # steps
    async def ask_title(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values.update(dict(step.options or {}))
        text = Texts.ASK_TITLE.format(group=step.values["group_name"], title=step.values["title"])
        return await step.prompt("polls.title", PromptOptions(prompt=MessageFactory.text(text)))

    async def ask_length(self, step: WaterfallStepContext) -> DialogTurnResult:
        answer = _words(step.context)
        if not _is_ok(answer):
            step.values["title"] = answer[:200]
        return await step.prompt(
            "polls.length", PromptOptions(prompt=MessageFactory.text(Texts.ASK_LENGTH))
        )

    async def ask_place(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["length"] = _length(_words(step.context)) or DEFAULT_LENGTH_MINUTES
        return await step.prompt(
            "polls.place", PromptOptions(prompt=MessageFactory.text(Texts.ASK_PLACE))
        )

    async def ask_slots(self, step: WaterfallStepContext) -> DialogTurnResult:
        place = _words(step.context)
        step.values["place"] = (
            TEAMS_MEETING if place.lower().rstrip(".") in TEAMS_WORDS | OK_WORDS else place[:300]
        )
        return await step.prompt(
            "polls.slots",
            PromptOptions(
                prompt=MessageFactory.text(Texts.ASK_SLOTS),
                validations={"length": step.values["length"], "group_id": step.values["group_id"]},
            ),
        )

    async def ask_deadline(self, step: WaterfallStepContext) -> DialogTurnResult:
        text = _words(step.context)
        slots, _ = await self._polls.slots_from_text(
            text, timedelta(minutes=step.values["length"]), step.values["group_id"]
        )
        step.values["slots"] = [[s.start.isoformat(), s.end.isoformat()] for s in slots]
        first = slots[0].start
        default = default_poll_deadline(first, self._clock.now())
        lines = []
        if asks_for_proposals(text):
            rows = "\n".join(f"• {format_span(s.start, s.end)}" for s in slots)
            lines.append(Texts.PROPOSED.format(slots=rows))
        lines.append(Texts.ASK_DEADLINE.format(default=format_when(default) if default else "–"))
        return await step.prompt(
            "polls.deadline",
            PromptOptions(
                prompt=MessageFactory.text("\n\n".join(lines)),
                validations={"first_start": first.isoformat()},
            ),
        )

    async def open_poll(self, step: WaterfallStepContext) -> DialogTurnResult:
        values = step.values
        slots = tuple(
            (datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in values["slots"]
        )
        deadline, _ = deadline_from_text(_words(step.context), self._clock.now(), slots[0][0])
        assert deadline is not None  # the validator let only good answers through
        await self._polls.open_poll(
            step.context,
            NewPoll(
                group_id=values["group_id"],
                group_name=values["group_name"],
                tenant_id=values.get("tenant_id"),
                title=values["title"],
                length_minutes=values["length"],
                place=values["place"],
                deadline=deadline,
                creator=Person(
                    values["creator_id"],
                    values.get("creator_name") or "",
                    values.get("creator_aad"),
                ),
                slots=slots,
            ),
        )
        return await step.end_dialog()
