"""What the polls capability sends on its own: cards to members and to the group's chat, the
shared card kept current, results to the coordinator, meeting announcements and nudges."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from dialogs.polls.cards import (
    Viewer,
    invite_card,
    poll_card,
    poll_text,
    result_card,
    result_rows,
)
from dialogs.polls.invitations import ics_file_name, make_ics
from dialogs.polls.texts import Texts
from scheduler.clock import Clock
from scheduler.delivery import RETRY, SENT, Outgoing, Recipient, Sender
from scheduler.nudges import NudgeService
from scheduler.swedish import format_span, format_when
from scheduler.timing import poll_nudge_times
from storage.groups import Group, GroupRepository
from storage.people import Person
from storage.polls import (
    PollRepository,
    PollView,
)
from storage.reminders import NOTICE, PERSON, NewReminder

logger = logging.getLogger(__name__)


def nudge_key(poll_id: int, user_id: str) -> str:
    return f"poll:{poll_id}:nudge:{user_id}"


def meeting_key(poll_id: int) -> str:
    return f"poll:{poll_id}:meeting"


class Outbox:
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
    ) -> None:
        self._coordinators = coordinators
        self._polls = polls
        self._groups = groups
        self._nudges = nudges
        self._sender = sender
        self._clock = clock
        self._public_url = public_url.rstrip("/")
        # Shared-card refreshes in flight in this process, and polls changed meanwhile.
        self._refreshing: set[int] = set()
        self._dirty: set[int] = set()

    async def group(self, poll: PollView) -> Group | None:
        if poll.group_id is None:
            return None
        return await asyncio.to_thread(self._groups.get, poll.group_id)

    async def members(self, poll: PollView) -> list[Person]:
        group = await self.group(poll)
        return list(group.members) if group else []

    def to(self, member: Person, poll: PollView) -> Recipient:
        return Recipient(
            user_id=member.user_id,
            aad_object_id=member.aad_object_id,
            name=member.name,
            tenant_id=poll.tenant_id,
        )

    async def send_personally(
        self,
        poll: PollView,
        members: Sequence[Person],
        card: dict[str, Any] | Callable[[Person], dict[str, Any]],
        text: str,
        *,
        keep: bool = False,
    ) -> list[Person]:
        """The card (or each member's own card) to each member personally; returns who was
        not reached. With `keep`, each card is remembered to update when the poll ends."""

        async def one(member: Person) -> Person | None:
            own = card(member) if callable(card) else card
            try:
                result = await self._sender.send(Outgoing(self.to(member, poll), text, own))
            except Exception:  # one unreachable member must not stop the others
                logger.warning("could not send a poll card personally", exc_info=True)
                return member
            if result.outcome != SENT:
                return member
            if keep and result.activity_id and result.conversation_id:
                await asyncio.to_thread(
                    self._polls.keep_personal_card,
                    poll.id,
                    member.user_id,
                    result.conversation_id,
                    result.activity_id,
                )
            return None

        results = await asyncio.gather(*(one(m) for m in members))
        return [m for m in results if m is not None]

    async def plan_nudges(self, poll: PollView, members: Sequence[Person], now: datetime) -> None:
        moments = poll_nudge_times(poll.deadline, now)
        text = Texts.NUDGE.format(
            title=poll.title, group=poll.group_name, deadline=format_when(poll.deadline)
        )
        owner = poll.creator
        for member in members:
            for at in moments:
                await self._nudges.add(
                    NewReminder(
                        owner=owner,
                        audience=PERSON,
                        person=member,
                        kind=NOTICE,
                        text=text,
                        due_at=at,
                        tenant_id=poll.tenant_id,
                        key=nudge_key(poll.id, member.user_id),
                    )
                )

    async def cancel_nudges(self, poll: PollView, members: Sequence[Person]) -> None:
        for member in members:
            await self._nudges.cancel_key(nudge_key(poll.id, member.user_id))

    async def refresh_shared(self, poll_id: int) -> None:
        """Puts the newest state on the shared card.

        Races end on the newest state: in this process one refresh runs per poll and a change
        meanwhile makes it go round again; across processes, a refresh that finds the poll's
        version moved on after its PUT goes round again, so the last PUT always shows the last
        committed answer.
        """
        if poll_id in self._refreshing:
            self._dirty.add(poll_id)
            return
        self._refreshing.add(poll_id)
        try:
            while True:
                self._dirty.discard(poll_id)
                poll = await asyncio.to_thread(self._polls.get, poll_id)
                if poll is None or not poll.conversation_id or not poll.activity_id:
                    return
                members = await self.members(poll)
                await self._put_card(poll, members)
                current = await asyncio.to_thread(self._polls.version, poll_id)
                if current == poll.version and poll_id not in self._dirty:
                    return
        finally:
            self._refreshing.discard(poll_id)

    def viewer(self, member: Person, poll: PollView, group: Group | None) -> Viewer:
        """A member's view of a poll card sent to them personally."""
        manages = (
            member.user_id == poll.creator.user_id
            or bool({member.user_id, member.aad_object_id or ""} & self._coordinators)
            or (group is not None and group.is_creator(member.user_id, member.aad_object_id))
        )
        return Viewer(member.user_id, manages=manages)

    async def refresh_personal(self, poll_id: int) -> None:
        """Each member's personal card updated to the poll's state (closed, booked, cancelled),
        so no card in anyone's chat still offers to answer."""
        poll = await asyncio.to_thread(self._polls.get, poll_id)
        if poll is None:
            return
        group = await self.group(poll)
        members = list(group.members) if group else []
        by_id = {m.user_id: m for m in members}
        cards = await asyncio.to_thread(self._polls.personal_cards, poll_id)

        async def one(user_id: str, conversation_id: str, activity_id: str) -> None:
            member = by_id.get(user_id) or Person(user_id, "")
            card = poll_card(poll, members, viewer=self.viewer(member, poll, group))
            result = await self._sender.send(
                Outgoing(
                    Recipient(conversation_id=conversation_id, tenant_id=poll.tenant_id),
                    poll_text(poll, members),
                    card,
                    replaces=activity_id,
                )
            )
            if result.outcome != SENT:
                logger.warning(
                    "could not update a personal poll card", extra={"status": result.status}
                )

        await asyncio.gather(*(one(c.user_id, c.conversation_id, c.activity_id) for c in cards))

    async def _put_card(self, poll: PollView, members: Sequence[Person]) -> None:
        """The shared card updated in place, through the Sender and its limits like any send."""
        assert poll.conversation_id is not None and poll.activity_id is not None
        result = await self._sender.send(
            Outgoing(
                Recipient(conversation_id=poll.conversation_id, tenant_id=poll.tenant_id),
                poll_text(poll, members),
                poll_card(poll, members, shared=True),
                replaces=poll.activity_id,
            )
        )
        if result.outcome != SENT:
            logger.warning(
                "could not update a poll card",
                extra={
                    "conversation_id": poll.conversation_id,
                    "activity_id": poll.activity_id,
                    "status": result.status,
                },
            )

    async def post_in_group(self, poll: PollView, text: str) -> None:
        if not poll.conversation_id:
            return
        result = await self._sender.send(
            Outgoing(
                Recipient(conversation_id=poll.conversation_id, tenant_id=poll.tenant_id), text
            )
        )
        if result.outcome != SENT:
            logger.warning("could not post in the group's chat", extra={"status": result.status})

    async def send_result(self, poll: PollView, members: Sequence[Person], headline: str) -> None:
        """The result to the coordinator; recorded as delivered only when it arrived (or the
        coordinator is gone for good), else resend_results tries again."""
        card = result_card(poll, members, headline, bookable=True)
        text = "\n".join(
            [
                Texts.RESULT_TITLE.format(title=poll.title, group=poll.group_name),
                headline,
                *result_rows(poll),
            ]
        )
        result = await self._sender.send(Outgoing(self.to(poll.creator, poll), text, card))
        if result.outcome == RETRY:
            logger.warning("poll result not sent yet", extra={"status": result.status})
            return
        if result.outcome != SENT:
            logger.warning("poll result cannot be delivered", extra={"status": result.status})
        await asyncio.to_thread(self._polls.mark_result_delivered, poll.id, self._clock.now())

    async def announce_meeting(
        self, poll: PollView, members: Sequence[Person], *, moved: bool
    ) -> int:
        """Reminders, the shared card, the group's chat and an invite per member; returns how
        many members got their invite."""
        meeting = poll.meeting
        assert meeting is not None
        key = meeting_key(poll.id)
        await self._nudges.cancel_key(key)
        await self._nudges.add_meeting_reminders(
            key=key,
            title=poll.title,
            start=meeting.start,
            owner=poll.creator,
            group_id=poll.group_id,
            group_name=poll.group_name,
            tenant_id=poll.tenant_id,
            conversation_id=poll.conversation_id,
        )
        await self.refresh_shared(poll.id)
        await self.refresh_personal(poll.id)
        when = format_span(meeting.start, meeting.end)
        announce = (Texts.ANNOUNCE_MOVED if moved else Texts.ANNOUNCE).format(
            title=poll.title, group=poll.group_name, when=when, place=poll.place
        )
        await self.post_in_group(poll, announce)
        card = invite_card(poll, self.ics_url(meeting.ics_token), moved=moved)
        text = "\n".join([announce, self.ics_url(meeting.ics_token)])
        unreached = await self.send_personally(poll, members, card, text)
        return len(members) - len(unreached)

    def ics_url(self, token: str) -> str:
        return f"{self._public_url}/ics/{token}.ics"

    async def ics(self, token: str) -> tuple[tuple[str, str], bytes] | None:
        """The .ics of a booked meeting and its file name, for GET /ics/{token}.ics."""
        poll = await asyncio.to_thread(self._polls.by_token, token)
        if poll is None or poll.meeting is None:
            return None
        members = await self.members(poll)
        emails = await asyncio.to_thread(self._polls.emails, poll.id)
        return ics_file_name(poll), make_ics(poll, members, self._clock.now(), emails)
