"""Who may manage a working group's things: declared once, used by every capability."""

from __future__ import annotations

import asyncio
import re

from dialogs.limits import NAMES_OFFERED
from dialogs.turn import Turn
from storage.groups import Group, GroupRepository


def may_manage(turn: Turn, group: Group | None, *, planned_by: str | None = None) -> bool:
    """A coordinator, the group's creator, or (for a poll or meeting) whoever planned it."""
    if turn.is_coordinator or (planned_by is not None and turn.user.id == planned_by):
        return True
    return group is not None and group.is_creator(turn.user.id, turn.user.aad_object_id)


# Swedish definite singular endings a group's name gets in a sentence (-en common, -et neuter).
DEFINITE_ENDINGS = ("en", "et")


async def group_named(
    groups: GroupRepository, who: str, tenant_id: str | None
) -> tuple[Group | None, list[str]]:
    """The group a message names ("gruppen RSS Dalarna", "styrgruppen"), or the closest names."""
    name = stripped_group_name(who)
    group = await asyncio.to_thread(groups.find, name, tenant_id)
    if group is None and name.lower().endswith(DEFINITE_ENDINGS):
        # the definite form: "styrgruppen" for a group called "Styrgrupp", "laget" for "Lag"
        group = await asyncio.to_thread(groups.find, name[:-2], tenant_id)
    if group is not None:
        return group, []
    names = await asyncio.to_thread(groups.closest_names, name, tenant_id, NAMES_OFFERED)
    return None, list(names)


def stripped_group_name(who: str) -> str:
    return re.sub(r"^(?:arbets)?gruppen\s+", "", who, flags=re.I).strip()
