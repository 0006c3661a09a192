"""Who may manage a working group's things: declared once, used by every capability."""

from __future__ import annotations

from dialogs.turn import Turn
from storage.groups import Group


def may_manage(turn: Turn, group: Group | None, *, planned_by: str | None = None) -> bool:
    """A coordinator, the group's creator, or (for a poll or meeting) whoever planned it."""
    if turn.is_coordinator or (planned_by is not None and turn.user.id == planned_by):
        return True
    return group is not None and group.is_creator(turn.user.id, turn.user.aad_object_id)
