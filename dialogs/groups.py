"""Working groups (issue 8 item 1): create from @mentions or the chat's roster, change, show."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Any

from botbuilder.core.teams import TeamsInfo
from botbuilder.dialogs import Dialog

from dialogs.access import may_manage
from dialogs.limits import (
    CONVERSATION_WINDOW,
    GROUPS_PER_CONVERSATION,
    GROUPS_PER_MEMBER,
    NAMES_OFFERED,
)
from dialogs.reading import Reading
from dialogs.turn import HelpEntry, Turn
from scheduler.clock import Clock
from storage.deadlines import DeadlineRepository
from storage.groups import Group, GroupExists, GroupRepository, WorkingGroup
from storage.inputs import column_limit
from storage.people import Person
from storage.tally import Tally

NAME_CHARS = column_limit(WorkingGroup, "name")

logger = logging.getLogger(__name__)


class Texts:
    HELP_CREATE = HelpEntry(
        "Skapa en arbetsgrupp", "ny arbetsgrupp Civilsamhälle med @Maria @Caroline @Marie"
    )
    HELP_SHOW = HelpEntry("Visa arbetsgrupperna", "visa arbetsgrupper")
    CREATED = "Arbetsgruppen **{name}** är skapad med {count}: {names}."
    EXISTS = "Det finns redan en arbetsgrupp som heter **{name}**. Skriv ”visa {name}”."
    NO_NAME = "Vad ska gruppen heta? Skriv till exempel ”ny arbetsgrupp Civilsamhälle med @Maria”."
    NO_MEMBERS = (
        "Vilka ska vara med? @nämn dem, till exempel ”ny arbetsgrupp {name} med @Maria @Caroline”, "
        "eller skriv ”ny arbetsgrupp {name} med alla i chatten”."
    )
    ROSTER_FAILED = (
        "Jag kunde inte läsa vilka som är med i chatten. @nämn medlemmarna i stället, "
        "till exempel ”ny arbetsgrupp {name} med @Maria @Caroline”."
    )
    NOT_FOUND = "Jag hittar ingen arbetsgrupp som heter ”{name}”. {known}"
    KNOWN = "Menade du: {names}?"
    TOO_MANY = (
        "Du har redan skapat {limit} arbetsgrupper, så många som går. Ta bort en du inte "
        "använder (”ta bort arbetsgruppen Namn”) och försök igen."
    )
    TOO_MANY_HERE = (
        "I den här chatten har det redan skapats {limit} arbetsgrupper det senaste dygnet, så "
        "många som går på ett dygn. Försök igen i morgon."
    )
    NONE_YET = "Det finns inga arbetsgrupper än. Skapa en med ”ny arbetsgrupp Namn med @person”."
    NOT_ALLOWED = "Bara samordnare och den som skapade gruppen ({creator}) kan ändra **{name}**."
    WHO_TO_ADD = "Vem ska läggas till? @nämn personen, till exempel ”lägg till @Maria i {name}”."
    ADDED = "Jag lade till {names} i **{name}**. Gruppen har nu {count}."
    ALREADY = "{names} är redan med i **{name}**."
    REMOVED = "Jag tog bort {names} från **{name}**. Gruppen har nu {count}."
    NOT_MEMBER = "{names} är inte med i **{name}**."
    LIST_TITLE = "Arbetsgrupper"
    LIST_ROW = "• **{name}** ({count})"
    SHOW_TITLE = "Arbetsgruppen {name}"
    SHOW_CREATED = "Skapad av {creator}."
    SHOW_MEMBERS = "Medlemmar ({count}): {names}"
    MEMBER = "{n} medlem"
    MEMBERS = "{n} medlemmar"
    DELETED = "Arbetsgruppen **{name}** är borttagen."
    NAME_TOO_LONG = "Gruppens namn får vara högst {limit} tecken. Välj ett kortare namn."
    AND = " och "


_EVERYONE = re.compile(
    r"\balla\s+(?:i|här\s+i)\s+(?:chatten|kanalen|gruppen)\b|\balla\s+här\b", re.I
)


class WorkingGroups:
    name = "working_groups"
    help: Sequence[HelpEntry] = (Texts.HELP_CREATE, Texts.HELP_SHOW)

    def __init__(
        self,
        groups: GroupRepository,
        clock: Clock,
        deadlines: DeadlineRepository | None = None,
        *,
        tally: Tally | None = None,
    ) -> None:
        self._deadlines = deadlines
        self._groups = groups
        self._clock = clock
        self._tally = tally

    def dialogs(self) -> Sequence[Dialog]:
        return ()

    # --- handlers (reached through dialogs/routes.py) -----------------------------------------
    async def create(self, turn: Turn, reading: Reading) -> None:
        """ "ny arbetsgrupp Civilsamhälle med @Maria @Caroline" (or "med alla i chatten")."""
        await self._create(turn, reading.slots.get("name", ""), reading.slots.get("who", ""))

    async def list(self, turn: Turn, reading: Reading) -> None:
        await self._list(turn)

    async def delete(self, turn: Turn, reading: Reading) -> None:
        await self._delete(turn, reading.slots.get("name", ""))

    async def add(self, turn: Turn, reading: Reading) -> None:
        """ "lägg till @Maria i Civilsamhälle"."""
        await self._add(turn, reading.slots.get("name", ""))

    async def remove(self, turn: Turn, reading: Reading) -> None:
        """ "ta bort @Maria från Civilsamhälle"."""
        await self._remove(turn, reading.slots.get("name", ""))

    async def show(self, turn: Turn, reading: Reading) -> bool:
        """ "visa Civilsamhälle": only when such a group exists (else not ours)."""
        group = await self._find(turn, reading.slots.get("name", ""))
        if group is None:
            return False
        await self._show(turn, group)
        return True

    # --- creating -----------------------------------------------------------------------------
    async def _create(self, turn: Turn, raw_name: str, who: str) -> None:
        name = _strip_mentions(raw_name, turn).strip(" ,:")
        if not name:
            await turn.reply(Texts.NO_NAME)
            return
        if len(name) > NAME_CHARS:
            await turn.reply(Texts.NAME_TOO_LONG.format(limit=NAME_CHARS))
            return
        created = await asyncio.to_thread(self._groups.count_created_by, turn.user.id)
        if created >= GROUPS_PER_MEMBER:
            await turn.reply(Texts.TOO_MANY.format(limit=GROUPS_PER_MEMBER))
            return
        bot_id = turn.activity.recipient.id if turn.activity.recipient else None
        if _EVERYONE.search(who):
            try:
                members = await _roster(turn, bot_id)
            except Exception:  # outside Teams, or the roster call was refused
                logger.warning("could not read the chat roster", exc_info=True)
                await turn.reply(Texts.ROSTER_FAILED.format(name=name))
                return
        else:
            members = [p.person for p in turn.mentions]
        if not members:
            await turn.reply(Texts.NO_MEMBERS.format(name=name))
            return
        creator = turn.user.person
        if self._tally is not None and not await asyncio.to_thread(
            self._tally.take,
            "group",
            turn.conversation_id,
            GROUPS_PER_CONVERSATION,
            CONVERSATION_WINDOW,
            turn.now,
        ):
            await turn.reply(Texts.TOO_MANY_HERE.format(limit=GROUPS_PER_CONVERSATION))
            return
        try:
            group = await asyncio.to_thread(
                lambda: self._groups.create(
                    name,
                    tenant_id=turn.tenant_id,
                    created_by=creator,
                    conversation_id=None if turn.is_personal else turn.conversation_id,
                    members=members,
                    now=self._clock.now(),
                )
            )
        except GroupExists:
            await turn.reply(Texts.EXISTS.format(name=name))
            return
        await turn.reply(
            Texts.CREATED.format(
                name=group.name, count=_members(len(group.members)), names=_names(group.members)
            )
        )

    # --- changing -----------------------------------------------------------------------------
    async def _add(self, turn: Turn, raw_name: str) -> None:
        group = await self._find_or_say(turn, _strip_mentions(raw_name, turn))
        if group is None or not await self._may_change(turn, group):
            return
        people = [p.person for p in turn.mentions]
        if not people:
            await turn.reply(Texts.WHO_TO_ADD.format(name=group.name))
            return
        updated, added = await asyncio.to_thread(self._groups.add_members, group.id, people)
        if added and self._deadlines is not None:
            await asyncio.to_thread(self._deadlines.join, group.id, added)
        if not added:
            await turn.reply(Texts.ALREADY.format(names=_names(people), name=group.name))
            return
        await turn.reply(
            Texts.ADDED.format(
                names=_names(added), name=group.name, count=_members(len(updated.members))
            )
        )

    async def _remove(self, turn: Turn, raw_name: str) -> None:
        group = await self._find_or_say(turn, _strip_mentions(raw_name, turn))
        if group is None or not await self._may_change(turn, group):
            return
        ids = [p.id for p in turn.mentions]
        updated, removed = await asyncio.to_thread(self._groups.remove_members, group.id, ids)
        if removed and self._deadlines is not None:
            await asyncio.to_thread(self._deadlines.leave, group.id, ids)
        names = _names([p.person for p in turn.mentions])
        if not removed:
            await turn.reply(Texts.NOT_MEMBER.format(names=names, name=group.name))
            return
        await turn.reply(
            Texts.REMOVED.format(names=names, name=group.name, count=_members(len(updated.members)))
        )

    async def _delete(self, turn: Turn, raw_name: str) -> None:
        group = await self._find_or_say(turn, raw_name)
        if group is None or not await self._may_change(turn, group):
            return
        await asyncio.to_thread(self._groups.delete, group.id)
        await turn.reply(Texts.DELETED.format(name=group.name))

    async def _may_change(self, turn: Turn, group: Group) -> bool:
        if may_manage(turn, group):
            return True
        await turn.reply(
            Texts.NOT_ALLOWED.format(creator=group.created_by_name or "?", name=group.name)
        )
        return False

    # --- showing ------------------------------------------------------------------------------
    async def _list(self, turn: Turn) -> None:
        groups = await asyncio.to_thread(self._groups.all, turn.tenant_id)
        if not groups:
            await turn.reply(Texts.NONE_YET)
            return
        rows = [Texts.LIST_ROW.format(name=g.name, count=_members(len(g.members))) for g in groups]
        card = _card(Texts.LIST_TITLE, rows)
        await turn.reply_card(card, "\n".join([f"**{Texts.LIST_TITLE}**", *rows]))

    async def _show(self, turn: Turn, group: Group) -> None:
        title = Texts.SHOW_TITLE.format(name=group.name)
        lines = [
            Texts.SHOW_MEMBERS.format(count=len(group.members), names=_names(group.members)),
            Texts.SHOW_CREATED.format(creator=group.created_by_name or "?"),
        ]
        await turn.reply_card(_card(title, lines), "\n".join([f"**{title}**", *lines]))

    async def _find(self, turn: Turn, name: str) -> Group | None:
        return await asyncio.to_thread(self._groups.find, name.strip(), turn.tenant_id)

    async def _find_or_say(self, turn: Turn, name: str) -> Group | None:
        group = await self._find(turn, name)
        if group is None:
            await turn.reply(await self.not_found(turn, name))
        return group

    async def not_found(self, turn: Turn, name: str) -> str:
        names = await asyncio.to_thread(
            self._groups.closest_names, name.strip(), turn.tenant_id, NAMES_OFFERED
        )
        known = Texts.KNOWN.format(names=", ".join(names)) if names else Texts.NONE_YET
        return Texts.NOT_FOUND.format(name=name.strip(), known=known)


async def _roster(turn: Turn, bot_id: str | None) -> list[Person]:
    accounts: list[Any] = await TeamsInfo.get_members(turn.context)
    return [
        Person(
            user_id=account.id,
            name=account.name or "",
            aad_object_id=_aad_object_id(account),
        )
        for account in accounts
        if account.id and account.id != bot_id
    ]


def _aad_object_id(account: Any) -> str | None:
    # The roster answer may name the Entra object id "objectId" rather than "aadObjectId"
    # (the Agents Playground does); botbuilder keeps only the latter as an attribute.
    value = getattr(account, "aad_object_id", None)
    if not value:
        extra = getattr(account, "additional_properties", None) or {}
        value = extra.get("objectId") or extra.get("aadObjectId")
    return str(value) if value else None


def _members(n: int) -> str:
    return (Texts.MEMBER if n == 1 else Texts.MEMBERS).format(n=n)


def _strip_mentions(text: str, turn: Turn) -> str:
    for person in turn.mentions:
        if person.name:
            text = text.replace(person.name, " ")
    return " ".join(text.split())


def _names(members: Sequence[Person]) -> str:
    names = [m.name or m.user_id for m in members]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + Texts.AND + names[-1]


def _card(title: str, lines: list[str]) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": [
            {
                "type": "TextBlock",
                "text": title,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            },
            *({"type": "TextBlock", "text": line, "wrap": True} for line in lines),
        ],
    }
