"""The polls capability: what a member writes or presses, and the answer to it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import (
    Dialog,
)

from dialogs.access import may_manage
from dialogs.limits import CONVERSATION_WINDOW, POLLS_PER_CONVERSATION
from dialogs.polls.cards import (
    ANSWER,
    BOOK,
    CANCEL,
    VIEW,
    Viewer,
    name_list,
    people,
    poll_card,
    poll_text,
    result_card,
    result_rows,
    text_block,
    unanswered,
)
from dialogs.polls.deadlines import PollDeadlines
from dialogs.polls.outbox import Outbox, meeting_key, nudge_key
from dialogs.polls.planning import PLAN_DIALOG, PlanPollDialog
from dialogs.polls.proposals import asks_for_proposals, proposal_request, propose_slots
from dialogs.polls.texts import Texts
from dialogs.reading import Reading
from dialogs.turn import HelpEntry, Turn
from dialogs.values import card_id
from edge.identity import Identities
from scheduler.clock import STOCKHOLM, Clock
from scheduler.delivery import SENT, Outgoing, Recipient, Sender
from scheduler.jobs import Jobs
from scheduler.nudges import NudgeService
from scheduler.swedish import format_span, format_when
from scheduler.timing import local_day, poll_nudge_times
from scheduler.when import Span, WhenError, parse_slots
from storage.groups import Group, GroupRepository
from storage.people import Person
from storage.polls import (
    BOOKED,
    CANCELLED,
    CHOICES,
    CLOSED,
    NO,
    OPEN,
    AlreadyBooked,
    NewPoll,
    PollClosed,
    PollNotFound,
    PollRepository,
    PollView,
)
from storage.tally import Tally

logger = logging.getLogger(__name__)


class Polls:
    name = "polls"
    help: Sequence[HelpEntry] = (Texts.HELP_PLAN, Texts.HELP_REMIND, Texts.HELP_MOVE)

    def __init__(
        self,
        polls: PollRepository,
        groups: GroupRepository,
        nudges: NudgeService,
        sender: Sender,
        clock: Clock,
        *,
        public_url: str,
        coordinators: frozenset[str] = frozenset(),
        jobs: Jobs | None = None,
        tally: Tally | None = None,
        identities: Identities | None = None,
    ) -> None:
        self._tally = tally
        self._identities = identities
        self._polls = polls
        self._groups = groups
        self._nudges = nudges
        self._sender = sender
        self._clock = clock
        self._coordinators = coordinators
        self._out = Outbox(
            polls,
            groups,
            nudges,
            sender,
            clock,
            public_url=public_url,
            coordinators=coordinators,
        )
        self._deadlines = PollDeadlines(polls, self._out, clock, jobs)

    @property
    def coordinators(self) -> frozenset[str]:
        return self._coordinators

    def dialogs(self) -> Sequence[Dialog]:
        return (PlanPollDialog(self, self._clock),)

    # --- lifetime ------------------------------------------------------------------------
    async def close_due(self) -> int:
        return await self._deadlines.close_due()

    async def resend_results(self) -> int:
        return await self._deadlines.resend_results()

    async def ics(self, token: str) -> tuple[tuple[str, str], bytes] | None:
        """The .ics of a booked meeting and its file name (ASCII, as written), for the bot's
        GET /ics/{token}.ics route."""
        return await self._out.ics(token)

    # --- handlers (reached through dialogs/routes.py) -----------------------------------------
    async def plan(self, turn: Turn, reading: Reading) -> None:
        """plan_meeting: "planera spånarmöte för Civilsamhälle"."""
        slots = reading.slots
        if "what" not in slots or "group" not in slots:
            await turn.reply(Texts.HOW_TO_PLAN)
            return
        await self._plan(turn, slots["what"], slots["group"])

    async def remind_missing(self, turn: Turn, reading: Reading) -> None:
        """ "påminn de som inte svarat"."""
        await self._remindunanswered(turn)

    async def result(self, turn: Turn, reading: Reading) -> bool:
        """ "visa resultatet"."""
        return await self._show_result(turn)

    async def move(self, turn: Turn, reading: Reading) -> None:
        """ "flytta mötet till torsdag kl 10"."""
        await self._move(turn, reading.slots.get("when", ""))

    async def cancel_meeting(self, turn: Turn, reading: Reading) -> None:
        """ "ställ in mötet"."""
        await self._cancel_latest(turn)

    async def submit(self, turn: Turn) -> None:
        """A poll card's button, whichever it is (the planning dialog hands these on)."""
        await self._on_submit(turn, turn.action or "", turn.value or {})

    async def on_answer(self, turn: Turn, reading: Reading) -> None:
        await self._on_submit(turn, ANSWER, turn.value or {})

    async def on_book(self, turn: Turn, reading: Reading) -> None:
        await self._on_submit(turn, BOOK, turn.value or {})

    async def on_cancel(self, turn: Turn, reading: Reading) -> None:
        await self._on_submit(turn, CANCEL, turn.value or {})

    async def on_view(self, turn: Turn, reading: Reading) -> None:
        """A shared poll card's refresh (or its "Visa mina svar"): the presser's own view."""
        await self._on_submit(turn, VIEW, turn.value or {})

    async def _on_submit(self, turn: Turn, action: str, value: dict[str, Any]) -> None:
        # Card data is the presser's to write: ids are checked here, membership and the right to
        # book or cancel in each handler, and a poll of another tenant is as good as none.
        poll_id = card_id(value.get("poll"))
        poll = await asyncio.to_thread(self._polls.get, poll_id) if poll_id is not None else None
        if poll is None or (poll.tenant_id or "") != (turn.tenant_id or ""):
            if not (action == VIEW and turn.is_invoke):  # a refresh never writes in the chat
                await turn.reply(Texts.GONE)
            return
        if action == VIEW:
            await self._view(turn, poll)
        elif action == ANSWER:
            await self._answer(turn, poll, value)
        elif action == BOOK:
            await self._book(turn, poll, card_id(value.get("slot")))
        elif action == CANCEL:
            await self._cancel(turn, poll)
        else:
            await turn.reply(Texts.GONE)

    # --- planning ------------------------------------------------------------------------
    async def _plan(self, turn: Turn, what: str, group_name: str) -> None:
        group = await asyncio.to_thread(self._groups.find, group_name.strip(), turn.tenant_id)
        if group is None:
            groups = await asyncio.to_thread(self._groups.all, turn.tenant_id)
            known = (
                Texts.KNOWN.format(names=", ".join(g.name for g in groups))
                if groups
                else Texts.NO_GROUPS
            )
            await turn.reply(Texts.GROUP_NOT_FOUND.format(name=group_name.strip(), known=known))
            return
        if not may_manage(turn, group):
            await turn.reply(Texts.ONLY_COORDINATORS.format(group=group.name))
            return
        if self._tally is not None and not await asyncio.to_thread(
            self._tally.take,
            "poll",
            turn.conversation_id,
            POLLS_PER_CONVERSATION,
            CONVERSATION_WINDOW,
            turn.now,
        ):
            await turn.reply(Texts.TOO_MANY_HERE.format(limit=POLLS_PER_CONVERSATION))
            return
        title = what.strip()
        await turn.begin_dialog(
            PLAN_DIALOG,
            {
                "group_id": group.id,
                "group_name": group.name,
                "title": title[:1].upper() + title[1:],
                "tenant_id": turn.tenant_id,
                "creator_id": turn.user.id,
                "creator_name": turn.user.name,
                "creator_aad": turn.user.aad_object_id,
            },
        )

    async def slots_from_text(
        self, text: str, length: timedelta, group_id: int
    ) -> tuple[list[Span], str | None]:
        """Written slots, or the bot's proposals when asked; else the reason for the user."""
        now = self._clock.now()
        if asks_for_proposals(text):
            request = proposal_request(text, now)
            window_start = datetime.combine(request.first_day, time(0), tzinfo=STOCKHOLM)
            window_end = datetime.combine(
                request.last_day + timedelta(days=1), time(0), tzinfo=STOCKHOLM
            )
            busy = await asyncio.to_thread(
                self._polls.booked_meetings, group_id, window_start, window_end
            )
            slots = propose_slots(request, length, now, busy)
            if not slots:
                return [], Texts.NO_PROPOSALS.format(where=request.where)
            return slots, None
        try:
            slots = parse_slots(text, now, default_length=length)
        except WhenError as error:
            return [], Texts.BAD_SLOTS.format(error=error)
        if not slots:
            return [], Texts.NO_SLOTS
        return sorted(set(slots), key=lambda s: s.start), None

    async def open_poll(self, context: TurnContext, new: NewPoll) -> None:
        """Stores the poll, posts the shared card, sends it to each member, plans the nudges."""
        now = self._clock.now()
        poll = await asyncio.to_thread(self._polls.create, new, now)
        group = await asyncio.to_thread(self._groups.get, new.group_id)
        members = list(group.members) if group else []
        turn = Turn(context, now=now, coordinators=self._coordinators)
        here = context.activity.conversation.id
        target = group.conversation_id if group and group.conversation_id else here
        # The card in the group's chat refreshes into each member's own view.
        shared = target != here or not turn.is_personal
        card, fallback = poll_card(poll, members, shared=shared), poll_text(poll, members)
        if target == here:
            activity_id = await turn.reply_card(card, fallback)
        else:
            sent = await self._sender.send(
                Outgoing(Recipient(conversation_id=target, tenant_id=new.tenant_id), fallback, card)
            )
            activity_id = sent.activity_id if sent.outcome == SENT else None
        await asyncio.to_thread(self._polls.set_card, poll.id, target, activity_id)
        unreached = await self._out.send_personally(
            poll,
            members,
            lambda m: poll_card(poll, members, viewer=self.viewer(m, poll, group)),
            fallback,
            keep=True,
        )
        await self._out.plan_nudges(poll, members, now)
        await turn.reply(
            Texts.OPENED.format(
                title=poll.title,
                people=people(len(members)),
                group=poll.group_name,
                deadline=format_when(poll.deadline),
                nudges=_nudges_promised(poll.deadline, now),
            )
        )
        if unreached:
            await turn.reply(
                Texts.UNREACHED.format(names=name_list([m.name or m.user_id for m in unreached]))
            )

    # --- answering -----------------------------------------------------------------------
    async def _answer(self, turn: Turn, poll: PollView, value: dict[str, Any]) -> None:
        group = await self._out.group(poll)
        members = list(group.members) if group else []
        if group is None or not group.has_member(turn.user.id, turn.user.aad_object_id):
            await turn.reply(
                Texts.NOT_MEMBER.format(
                    group=poll.group_name, creator=poll.creator.name or poll.creator.user_id
                )
            )
            return
        choices: dict[int, str] = {}
        slots = {slot.id for slot in poll.slots}  # never another poll's slots
        for key, choice in value.items():
            slot_id = card_id(key[len("slot_") :]) if key.startswith("slot_") else None
            if slot_id in slots and isinstance(choice, str) and choice in CHOICES:
                choices[slot_id] = choice
        if not choices:
            await turn.reply(Texts.NO_CHOICES)
            return
        # The member as the group knows them: the same person from another client or chat.
        member = next(
            (
                m
                for m in members
                if m.user_id == turn.user.id
                or (turn.user.aad_object_id and m.aad_object_id == turn.user.aad_object_id)
            ),
            turn.user.person,
        )
        voter = member if member.name else replace(member, name=turn.user.name)
        try:
            submitted = await asyncio.to_thread(
                self._polls.submit, poll.id, voter, choices, self._clock.now()
            )
        except PollClosed as closed:
            await turn.reply(self._closed_text(closed.poll))
            return
        except PollNotFound:
            await turn.reply(Texts.GONE)
            return
        poll = submitted.poll
        if submitted.first_time:
            await self._nudges.cancel_key(nudge_key(poll.id, member.user_id))
        if submitted.changed:
            await self._out.refresh_shared(poll.id)
        # The answer acknowledged in the card the presser answered on, choices as given.
        await self._show_view(turn, poll, group)
        if turn.is_personal:
            rows = [
                Texts.THANKS_ROW.format(
                    when=format_span(s.start, s.end),
                    choice=Texts.CHOICE[poll.choice_of(member.user_id, s.id) or NO],
                )
                for s in poll.slots
                if poll.choice_of(member.user_id, s.id)
            ]
            first = (turn.user.name or member.name).split(" ")[0]
            await turn.reply(
                Texts.THANKS.format(name=first, title=poll.title, rows="\n".join(rows))
            )
        if members and not unanswered(poll, members):
            claimed = await asyncio.to_thread(self._polls.claim_result, poll.id, self._clock.now())
            if claimed is not None:
                await self._out.send_result(
                    claimed, members, Texts.RESULT_ALL.format(count=len(members))
                )

    # --- views per person ----------------------------------------------------------------
    def viewer(self, member: Person, poll: PollView, group: Group | None) -> Viewer:
        return self._out.viewer(member, poll, group)

    async def _view(self, turn: Turn, poll: PollView) -> None:
        group = await self._out.group(poll)
        if turn.is_invoke:
            await self._show_view(turn, poll, group)
            return
        # "Visa mina svar" from a client without universal actions: the answers as text.
        member = self._member(turn, group)
        rows = [
            Texts.THANKS_ROW.format(when=format_span(s.start, s.end), choice=Texts.CHOICE[choice])
            for s in poll.slots
            if member is not None and (choice := poll.choice_of(member.user_id, s.id))
        ]
        if rows:
            await turn.reply(Texts.YOUR_ANSWERS.format(title=poll.title, rows="\n".join(rows)))
        else:
            await turn.reply(Texts.NO_ANSWERS_YET.format(title=poll.title))

    def _member(self, turn: Turn, group: Group | None) -> Person | None:
        for m in group.members if group else ():
            if m.user_id == turn.user.id or (
                turn.user.aad_object_id and m.aad_object_id == turn.user.aad_object_id
            ):
                return m
        return None

    async def _show_view(self, turn: Turn, poll: PollView, group: Group | None) -> None:
        """The presser's own view in place of the card pressed: an Action.Execute's answer, or
        the personal card updated. The shared card of a group chat is never overwritten with
        one person's view (refresh_shared keeps it common; Teams refreshes it per person)."""
        if not (turn.is_invoke or turn.is_personal):
            return
        members = list(group.members) if group else []
        manages = may_manage(turn, group, planned_by=poll.creator.user_id)
        member = self._member(turn, group)
        viewer = (
            Viewer(member.user_id if member else turn.user.id, manages=manages)
            if member is not None or manages
            else None  # a stranger sees what the chat sees
        )
        card = poll_card(poll, members, viewer=viewer, shared=not turn.is_personal)
        await turn.show_pressed(card, for_everyone=False)

    def _closed_text(self, poll: PollView) -> str:
        if poll.status == BOOKED and poll.meeting is not None:
            return Texts.NOW_BOOKED.format(
                title=poll.title,
                when=format_span(poll.meeting.start, poll.meeting.end),
                place=poll.place,
            )
        if poll.status == CANCELLED:
            return Texts.NOW_CANCELLED.format(title=poll.title)
        return Texts.LATE.format(
            title=poll.title, deadline=format_when(poll.deadline), rows="\n".join(result_rows(poll))
        )

    # --- nudging by hand -----------------------------------------------------------------
    async def _remindunanswered(self, turn: Turn) -> None:
        poll = await asyncio.to_thread(
            lambda: self._polls.latest_open(
                turn.tenant_id, conversation_id=turn.conversation_id, user_id=turn.user.id
            )
        )
        if poll is None:
            await turn.reply(Texts.NO_OPEN_POLL)
            return
        group = await self._out.group(poll)
        if not may_manage(turn, group, planned_by=poll.creator.user_id):
            await turn.reply(Texts.ONLY_COORDINATORS.format(group=poll.group_name))
            return
        members = list(group.members) if group else []
        missing = unanswered(poll, members)
        if not missing:
            await turn.reply(Texts.NOBODY_MISSING.format(group=poll.group_name, title=poll.title))
            return
        nudge = text_block(
            Texts.NUDGE_NOW.format(
                who=turn.user.name or poll.creator.name,
                title=poll.title,
                deadline=format_when(poll.deadline),
            ),
            color="Attention",
        )

        def card_for(member: Person) -> dict[str, Any]:
            card = poll_card(poll, members, viewer=self.viewer(member, poll, group))
            card["body"].insert(0, nudge)
            return card

        unreached = await self._out.send_personally(
            poll, missing, card_for, poll_text(poll, members), keep=True
        )
        reached = [m for m in missing if m not in unreached]
        await turn.reply(
            Texts.REMINDED.format(
                people=people(len(reached)), names=name_list([m.name or m.user_id for m in reached])
            )
        )

    # --- result and booking --------------------------------------------------------------
    async def _show_result(self, turn: Turn) -> bool:
        poll = await asyncio.to_thread(
            lambda: self._polls.latest_active(
                turn.tenant_id, conversation_id=turn.conversation_id, user_id=turn.user.id
            )
        )
        if poll is None:
            await turn.reply(Texts.NO_OPEN_POLL)
            return True
        group = await self._out.group(poll)
        members = list(group.members) if group else []
        answered = len([m for m in members if m.user_id in poll.answered()])
        headline = Texts.RESULT_SO_FAR.format(answered=answered, count=len(members))
        if poll.status == BOOKED and poll.meeting is not None:
            headline = Texts.RESULT_BOOKED.format(
                when=format_span(poll.meeting.start, poll.meeting.end),
                place=poll.place,
                answered=answered,
                count=len(members),
            )
        bookable = poll.status in (OPEN, CLOSED) and may_manage(
            turn, group, planned_by=poll.creator.user_id
        )
        card = result_card(poll, members, headline, bookable=bookable)
        await turn.reply_card(card, "\n".join([headline, *result_rows(poll)]))
        return True

    async def _book(self, turn: Turn, poll: PollView, slot_id: int | None) -> None:
        group = await self._out.group(poll)
        if not may_manage(turn, group, planned_by=poll.creator.user_id):
            await turn.reply(Texts.ONLY_COORDINATORS.format(group=poll.group_name))
            return
        if slot_id is None:
            await turn.reply(Texts.GONE)
            return
        try:
            booked, first = await asyncio.to_thread(
                self._polls.book, poll.id, slot_id, self._clock.now()
            )
        except AlreadyBooked as already:
            await turn.reply(self._already_booked(already.poll))
            return
        except PollClosed as closed:
            await turn.reply(Texts.ALREADY_CANCELLED.format(title=closed.poll.title))
            return
        except PollNotFound:
            await turn.reply(Texts.GONE)
            return
        if not first:
            await turn.reply(self._already_booked(booked))
            return
        members = list(group.members) if group else []
        await self._keep_emails(turn, booked, members)
        await self._out.cancel_nudges(booked, members)
        count = await self._out.announce_meeting(booked, members, moved=False)
        await self._show_view(turn, booked, group)
        if turn.conversation_id == booked.conversation_id:
            return  # the announcement in this chat is the one message about it
        meeting = booked.meeting
        assert meeting is not None
        await turn.reply(
            Texts.BOOKED.format(
                title=booked.title,
                when=format_span(meeting.start, meeting.end),
                place=booked.place,
                people=people(count),
            )
        )

    async def _keep_emails(self, turn: Turn, poll: PollView, members: Sequence[Person]) -> None:
        """The attendees' e-mail addresses as Teams gives them, for the invitation; looked up in
        the group's chat, where they all are (the booking may be pressed anywhere)."""
        if self._identities is None:
            return
        identities = self._identities
        where = poll.conversation_id or turn.conversation_id
        creator = Person(poll.creator.user_id, poll.creator.name, poll.creator.aad_object_id)
        people = list({m.user_id: m for m in [*members, creator]}.values())
        found = await asyncio.gather(
            *(identities.email_of(turn.context, where, m.user_id, m.aad_object_id) for m in people)
        )
        emails = {m.user_id: email for m, email in zip(people, found, strict=True) if email}
        await asyncio.to_thread(self._polls.keep_emails, poll.id, emails)

    def _already_booked(self, poll: PollView) -> str:
        meeting = poll.meeting
        assert meeting is not None
        return Texts.ALREADY_BOOKED.format(
            title=poll.title, when=format_span(meeting.start, meeting.end), lower=poll.title.lower()
        )

    # --- cancelling and moving -----------------------------------------------------------
    async def _cancel_latest(self, turn: Turn) -> None:
        poll = await asyncio.to_thread(
            lambda: self._polls.latest_active(
                turn.tenant_id, conversation_id=turn.conversation_id, user_id=turn.user.id
            )
        )
        if poll is None:
            await turn.reply(Texts.NO_POLL)
            return
        await self._cancel(turn, poll)

    async def _cancel(self, turn: Turn, poll: PollView) -> None:
        group = await self._out.group(poll)
        if not may_manage(turn, group, planned_by=poll.creator.user_id):
            await turn.reply(Texts.ONLY_COORDINATORS.format(group=poll.group_name))
            return
        try:
            cancelled = await asyncio.to_thread(self._polls.cancel, poll.id, self._clock.now())
        except PollClosed:
            await turn.reply(Texts.ALREADY_CANCELLED.format(title=poll.title))
            return
        members = list(group.members) if group else []
        await self._out.cancel_nudges(cancelled, members)
        await self._nudges.cancel_key(meeting_key(cancelled.id))
        await self._out.refresh_shared(cancelled.id)
        await self._out.refresh_personal(cancelled.id)
        await self._show_view(turn, cancelled, group)
        announce = Texts.ANNOUNCE_CANCELLED.format(
            title=cancelled.title, group=cancelled.group_name
        )
        await self._out.post_in_group(cancelled, announce)
        if cancelled.meeting is not None:
            # They may have the meeting in their calendars: the same URL now says CANCELLED.
            text = "\n".join([announce, self._out.ics_url(cancelled.meeting.ics_token)])
            await asyncio.gather(
                *(self._sender.send(Outgoing(self._out.to(m, cancelled), text)) for m in members)
            )
        if turn.conversation_id != cancelled.conversation_id:  # else the announcement says it
            await turn.reply(Texts.CANCELLED.format(title=cancelled.title))

    async def _move(self, turn: Turn, when_text: str) -> None:
        poll = await asyncio.to_thread(
            lambda: self._polls.latest_active(
                turn.tenant_id, conversation_id=turn.conversation_id, user_id=turn.user.id
            )
        )
        if poll is None:
            await turn.reply(Texts.NO_POLL)
            return
        group = await self._out.group(poll)
        if not may_manage(turn, group, planned_by=poll.creator.user_id):
            await turn.reply(Texts.ONLY_COORDINATORS.format(group=poll.group_name))
            return
        if poll.status != BOOKED:
            await turn.reply(Texts.NOT_BOOKED.format(title=poll.title))
            return
        try:
            slots = parse_slots(
                when_text, self._clock.now(), default_length=timedelta(minutes=poll.length_minutes)
            )
        except WhenError as error:
            await turn.reply(Texts.BAD_SLOTS.format(error=error))
            return
        if len(slots) != 1:
            await turn.reply(Texts.MOVE_ONE.format(lower=poll.title.lower()))
            return
        try:
            moved = await asyncio.to_thread(
                self._polls.move, poll.id, slots[0].start, slots[0].end, self._clock.now()
            )
        except PollClosed:
            await turn.reply(Texts.NOT_BOOKED.format(title=poll.title))
            return
        members = list(group.members) if group else []
        await self._keep_emails(turn, moved, members)
        await self._out.announce_meeting(moved, members, moved=True)
        await turn.reply(
            Texts.MOVED.format(title=moved.title, when=format_span(slots[0].start, slots[0].end))
        )


def _nudges_promised(deadline: datetime, now: datetime) -> str:
    """What the confirmation promises: only the nudges there is time for before the deadline."""
    moments = poll_nudge_times(deadline, now)
    last_day = local_day(deadline)
    early = any(local_day(at) < last_day for at in moments)
    morning = any(local_day(at) == last_day for at in moments)
    if early and morning:
        return Texts.NUDGES_BOTH
    if morning:
        return Texts.NUDGES_MORNING
    if early:
        return Texts.NUDGES_EARLY
    return Texts.NUDGES_NONE
