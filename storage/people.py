"""The one way the bot models a person: someone in Teams, by the ids Teams gives.

Groups keep their members, polls their voters and creators, reminders their owners and
recipients as this same value, so no capability converts one into another.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    user_id: str  # the Teams user id (29:...), what a personal chat is opened with
    name: str = ""
    aad_object_id: str | None = None  # the Entra ID object id, when Teams gave it
