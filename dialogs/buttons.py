"""Card buttons as Teams' universal actions, with a fallback for clients without them.

A button is an `Action.Execute` (Adaptive Cards 1.5): Teams sends it as an `adaptiveCard/action`
invoke and shows the card the bot answers with in place of the pressed one, at once. A client
without universal actions renders the `fallback`, an `Action.Submit` with the same data, which
arrives as a message. Both carry `{"action": "<capability>.<verb>", ...}` and reach the same
route in dialogs/routes.py (dialogs/invokes.py unwraps the invoke).

`refresh` asks Teams to fetch each listed person's own view of a card shared in a group chat or
channel when they look at it (an `adaptiveCard/action` invoke with `trigger: "automatic"`).
Teams runs it automatically for at most 60 listed people; with an empty list nobody gets it
automatically and the card's menu offers "Refresh card" instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Teams refreshes a card automatically for at most this many listed people.
MAX_REFRESH_USERS = 60


def button(title: str, action: str, **data: Any) -> dict[str, Any]:
    """A card button: Action.Execute, falling back to an Action.Submit with the same data."""
    payload = {"action": action, **data}
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": action,
        "data": payload,
        "fallback": {"type": "Action.Submit", "title": title, "data": dict(payload)},
    }


def is_view(action: str) -> bool:
    """A refresh's verb names a view ("<capability>.view"): it shows a card, changes nothing."""
    return action.endswith(".view")


def refresh(action: str, user_ids: Iterable[str], **data: Any) -> tuple[dict[str, Any], bool]:
    """A card's `refresh` clause for these people; and whether Teams will run it automatically
    (False: more people than Teams refreshes, so the card needs a button to refresh by hand)."""
    if not is_view(action):  # refreshes are not rate-limited, so they may only show
        raise ValueError(f"a refresh must be a view, not {action}")
    people = list(dict.fromkeys(u for u in user_ids if u))
    automatic = 0 < len(people) <= MAX_REFRESH_USERS
    clause = {
        "action": {"type": "Action.Execute", "verb": action, "data": {"action": action, **data}},
        "userIds": people if automatic else [],
    }
    return clause, automatic
