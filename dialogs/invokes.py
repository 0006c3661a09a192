"""Invokes: the one kind of activity Teams waits on for an answer in the HTTP response.

Our card buttons are Action.Execute with an Action.Submit fallback (dialogs/buttons.py). An
`adaptiveCard/action` invoke (a pressed Action.Execute, or a card's `refresh`) goes through
exactly the same handlers, and with them the same ownership and value checks, as the submit
would; Teams then shows the card the handler left (`Turn.show_pressed`) in place of the pressed
one. Anything else gets a 4xx-shaped answer, never a 501.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import InvokeResponse

from dialogs.buttons import is_view
from dialogs.turn import INVOKE_CARD_KEY, REFRESH_KEY

ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
ERROR_TYPE = "application/vnd.microsoft.error"


class Texts:
    DONE = "Klart. Svaret kommer i chatten."
    BAD_ACTION = "Den knappen känner jag inte igen."
    NOT_SUPPORTED = "Det här stöder inte Nätverksboten."


async def answer_invoke(
    context: TurnContext, on_submit: Callable[[TurnContext], Awaitable[None]]
) -> InvokeResponse:
    activity = context.activity
    if activity.name != ADAPTIVE_CARD_ACTION:
        return InvokeResponse(
            status=int(HTTPStatus.BAD_REQUEST),
            body={"code": "NotSupported", "message": Texts.NOT_SUPPORTED},
        )
    data = _submit_data(activity.value)
    if data is None:
        return _card_answer(
            HTTPStatus.BAD_REQUEST,
            ERROR_TYPE,
            {"code": "BadRequest", "message": Texts.BAD_ACTION},
        )
    if activity.value.get("trigger") == "automatic" and is_view(data["action"]):
        # Teams fetching a card's view as someone looks at it: nobody pressed anything
        context.turn_state[REFRESH_KEY] = True
    activity.value = data  # read by the handlers exactly as an Action.Submit's data
    await on_submit(context)
    card = context.turn_state.get(INVOKE_CARD_KEY)
    if isinstance(card, dict):
        return _card_answer(HTTPStatus.OK, CARD_TYPE, card)
    return _card_answer(HTTPStatus.OK, MESSAGE_TYPE, Texts.DONE)


def _submit_data(value: Any) -> dict[str, Any] | None:
    """The data of an Action.Execute, with its verb as our action name when the data has none."""
    if not isinstance(value, dict) or not isinstance(value.get("action"), dict):
        return None
    action = value["action"]
    data = action.get("data")
    data = dict(data) if isinstance(data, dict) else {}
    if not isinstance(data.get("action"), str):
        verb = action.get("verb")
        if not isinstance(verb, str) or not verb:
            return None
        data["action"] = verb
    return data


def _card_answer(status: int, kind: str, value: Any) -> InvokeResponse:
    # Universal Actions: HTTP 200 always; the outcome is in the body's statusCode.
    return InvokeResponse(
        status=HTTPStatus.OK, body={"statusCode": int(status), "type": kind, "value": value}
    )
