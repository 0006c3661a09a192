"""Small talk and the bot's own answers: help, thanks, greetings, who the bot is, cancel, and the
"didn't understand" fallback. Help is built from the routing table (dialogs/routes.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from botbuilder.dialogs import Dialog

from dialogs.reading import Reading
from dialogs.turn import HelpEntry, Turn


class Texts:
    GREETING = "Hej{name}! Vad kan jag hjälpa dig med? Skriv **hjälp** för exempel."
    THANKS = "Varsågod{name}! Säg till om det är något mer."
    ABOUT = (
        "Jag är **Nätverksboten**, nätverkets assistent i Teams – ett program, ingen människa. "
        "Jag hittar kostnadsfria utbildningar och kollegor med rätt kompetens i "
        "kompetensbanken, påminner om möten och deadlines och hjälper arbetsgrupper att hitta "
        "en mötestid. Jag svarar på svenska men förstår engelska också. "
        "Skriv **hjälp** för exempel."
    )
    HELP_TITLE = "Det här kan jag hjälpa till med"
    HELP_INTRO = "Skriv till mig som du skulle skriva till en kollega, på svenska eller engelska:"
    HELP_GROUP = "I gruppchattar och kanaler svarar jag när du @nämner mig."
    HELP_FOLLOW = (
        "Du kan fortsätta på ett svar: ”och i Alingsås?”, ”finns det något för "
        "undersköterskor?”, ”visa fler” eller ”den andra”."
    )
    HELP_ROW = "• {what}: ”{example}”"
    HELP_BASICS = HelpEntry("Avbryta det vi håller på med", "avbryt")
    UNKNOWN = (
        "Det där förstod jag tyvärr inte. Prova till exempel:\n"
        "• ”finns det någon gratis webbutbildning om demens?”\n"
        "• ”vem kan diabetes i Kungälv?”\n"
        "• ”påminn mig imorgon kl 9 om att skicka enkäten”\n"
        "Skriv **hjälp** för allt jag kan."
    )
    NO_QUESTION = "Okej! Vad kan jag hjälpa dig med? Skriv **hjälp** för exempel."
    CANCELLED = "Okej, jag avbröt. Skriv **hjälp** om du vill se vad jag kan."
    NOTHING_TO_CANCEL = "Det finns inget att avbryta just nu."
    NOTHING_MORE = (
        "Fler av vad? Fråga först, till exempel ”kurser om demens” eller ”vem kan sårvård?”, "
        "så kan du sedan skriva ”visa fler”."
    )
    CONTINUE = (
        "Vi var mitt i något. Svara på frågan nedan för att fortsätta, eller skriv **avbryt**."
    )
    CONTINUE_NO = "Okej, då låter vi det vara. Skriv **hjälp** om du vill se vad jag kan."


class SmallTalk:
    name = "small_talk"
    help: Sequence[HelpEntry] = (Texts.HELP_BASICS,)

    def __init__(self) -> None:
        self._help_entries: Callable[[], list[HelpEntry]] = lambda: []

    def use_help(self, entries: Callable[[], list[HelpEntry]]) -> None:
        """The routing table's help entries (set once the table is built)."""
        self._help_entries = entries

    def dialogs(self) -> Sequence[Dialog]:
        return ()

    async def greeting(self, turn: Turn, reading: Reading) -> None:
        await turn.reply(Texts.GREETING.format(name=_name(turn)))

    async def thanks(self, turn: Turn, reading: Reading) -> None:
        await turn.reply(Texts.THANKS.format(name=_name(turn)))

    async def about(self, turn: Turn, reading: Reading) -> None:
        await turn.reply(Texts.ABOUT)

    async def no_question(self, turn: Turn, reading: Reading) -> None:
        """ "ja", "nej", "ok" when the bot asked nothing: no search for the word itself."""
        await turn.reply(Texts.NO_QUESTION)

    async def not_understood(self, turn: Turn, reading: Reading) -> None:
        await turn.reply(Texts.UNKNOWN)

    async def nothing_more(self, turn: Turn, reading: Reading) -> None:
        await turn.reply(Texts.NOTHING_MORE)

    async def cancel(self, turn: Turn, reading: Reading) -> None:
        dialog_context = turn.dialog_context
        if dialog_context is not None and dialog_context.active_dialog is not None:
            await dialog_context.cancel_all_dialogs()
            turn.forget_question()
            await turn.reply(Texts.CANCELLED)
        elif turn.memory.asked and turn.memory.is_fresh(turn.now):
            turn.forget_question()
            await turn.reply(Texts.CANCELLED)
        else:
            await turn.reply(Texts.NOTHING_TO_CANCEL)

    async def continue_dialog(self, turn: Turn, reading: Reading) -> None:
        """ "ja"/"nej" to "shall we go on?" after a question asked inside a dialog."""
        turn.forget_question()
        dialog_context = turn.dialog_context
        if dialog_context is None or dialog_context.active_dialog is None:
            await turn.reply(Texts.NOTHING_TO_CANCEL)
            return
        if reading.yes_no:
            await dialog_context.reprompt_dialog()
        else:
            await dialog_context.cancel_all_dialogs()
            await turn.reply(Texts.CONTINUE_NO)

    async def show_help(self, turn: Turn, reading: Reading | None = None) -> None:
        entries = self._help_entries()
        lines = [Texts.HELP_ROW.format(what=e.what, example=e.example) for e in entries]
        footer = [Texts.HELP_FOLLOW] + ([] if turn.is_personal else [Texts.HELP_GROUP])
        text = "\n".join([f"**{Texts.HELP_TITLE}**", Texts.HELP_INTRO, *lines, *footer])
        card = {
            "type": "AdaptiveCard",
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": "1.5",
            "body": [
                {
                    "type": "TextBlock",
                    "text": Texts.HELP_TITLE,
                    "weight": "Bolder",
                    "size": "Medium",
                    "wrap": True,
                },
                {"type": "TextBlock", "text": Texts.HELP_INTRO, "wrap": True},
                {
                    "type": "FactSet",
                    "facts": [{"title": e.what, "value": f"”{e.example}”"} for e in entries],
                },
                *[{"type": "TextBlock", "text": f, "wrap": True, "isSubtle": True} for f in footer],
            ],
        }
        await turn.reply_card(card, text)


def _name(turn: Turn) -> str:
    first = turn.user.name.split()[0] if turn.user.name.strip() else ""
    return f" {first}" if first else ""
