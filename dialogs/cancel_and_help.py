"""The words that cancel or ask for help anywhere, and the base dialog that honours them.

The bot catches both before any dialog state is read (dialogs/bot.py); the base dialog keeps a
dialog right when it runs on its own, and gives every multi-turn flow one place for them.
"""

from __future__ import annotations

import re

from botbuilder.dialogs import ComponentDialog, Dialog, DialogContext, DialogTurnResult

HELP_WORDS = frozenset({"hjälp", "hjalp", "help", "?", "vad kan du", "vad kan du göra", "meny"})
CANCEL_WORDS = frozenset({"avbryt", "cancel", "sluta", "stopp", "glöm det"})

_TRAILING_PUNCT = re.compile(r"[!.,;:]+$")


def plain_words(text: str) -> str:
    """Lower case without trailing punctuation ("Avbryt!" -> "avbryt"); "?" is kept."""
    return _TRAILING_PUNCT.sub("", text.strip().lower()).strip()


class Texts:
    CANCELLED = "Okej, jag avbröt."


class CancelAndHelpDialog(ComponentDialog):  # type: ignore[misc]  # botbuilder has no types
    """ "avbryt" ends the dialog, whatever step it is at; "hjälp" says what the dialog needs and
    asks its question again. Subclasses set `cancelled_text` and `help_text`."""

    cancelled_text: str = Texts.CANCELLED
    help_text: str | None = None

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        words = plain_words(inner_dc.context.activity.text or "")
        if words in CANCEL_WORDS:
            await inner_dc.context.send_activity(self.cancelled_text)
            return await inner_dc.cancel_all_dialogs()
        if words in HELP_WORDS and self.help_text is not None:
            await inner_dc.context.send_activity(self.help_text)
            await inner_dc.reprompt_dialog()
            return Dialog.end_of_turn
        return await super().on_continue_dialog(inner_dc)
