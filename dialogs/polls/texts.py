"""Every word the polls capability says: the dialog, cards, invitations and replies."""

from __future__ import annotations

from dialogs.turn import HelpEntry
from storage.polls import (
    IF_NEEDED,
    NO,
    YES,
)


class Texts:
    HELP_PLAN = HelpEntry(
        "Hitta en mötestid för en arbetsgrupp", "planera spånarmöte för Civilsamhälle"
    )
    HELP_REMIND = HelpEntry(
        "Påminna dem som inte svarat på tidsförslagen", "påminn de som inte svarat"
    )
    HOW_TO_PLAN = (
        "Skriv vilket möte och vilken arbetsgrupp, till exempel ”planera spånarmöte för "
        "Civilsamhälle”."
    )
    HELP_MOVE = HelpEntry("Flytta ett bokat möte", "flytta spånarmötet till tors 3/9 13-15")
    CHOICE = {YES: "Ja", IF_NEEDED: "Om det behövs", NO: "Nej"}

    # planning
    GROUP_NOT_FOUND = "Jag hittar ingen arbetsgrupp som heter ”{name}”. {known}"
    TOO_MANY_HERE = (
        "I den här chatten har det redan startats {limit} omröstningar om mötestid det senaste "
        "dygnet, så många som går på ett dygn. Försök igen i morgon."
    )
    KNOWN = "Grupperna som finns: {names}."
    NO_GROUPS = "Det finns inga arbetsgrupper än. Skapa en med ”ny arbetsgrupp Namn med @person”."
    ONLY_COORDINATORS = (
        "Bara samordnare och den som skapade **{group}** kan planera och boka möten för gruppen."
    )
    ASK_TITLE = (
        "Vi planerar ett möte för **{group}**. Vad ska mötet heta? Skriv ”ok” för ”{title}”."
    )
    ASK_LENGTH = (
        "Hur långt blir mötet? Skriv till exempel ”90 "
        "minuter” eller ”3 timmar”, eller ”ok” för 2 timmar."
    )
    BAD_LENGTH = (
        "Jag förstod inte hur långt mötet blir. Skriv till "
        "exempel ”2 timmar” eller ”90 minuter” (högst 8 timmar)."
    )
    ASK_PLACE = "Var ses ni? Skriv en plats, till exempel ”Kommunhuset, sal 3”, eller ”Teams-möte”."
    ASK_SLOTS = (
        "Vilka tider kan gruppen välja mellan? Skriv dem, till exempel "
        "”tis 1/9 13-15, ons 2/9 9-11, tors 3/9 13-15”, eller be mig föreslå: "
        "”föreslå tre tider vecka 36 på förmiddagen”."
    )
    BAD_SLOTS = "{error} Skriv till exempel ”tis 1/9 13-15, ons 2/9 9-11”."
    NO_SLOTS = (
        "Jag hittade inga tider i det du skrev. Skriv till exempel ”tis 1/9 13-15, ons 2/9 9-11”."
    )
    NO_PROPOSALS = (
        "Jag hittade inga lediga tider {where}: bara vardagar som inte är helgdagar, klämdagar "
        "eller aftnar, kl. 08–17, och inte när gruppen redan har möte. Prova en annan vecka."
    )
    PROPOSED = "Jag föreslår:\n{slots}"
    ASK_DEADLINE = (
        "Vilken är sista dagen att svara? Till exempel ”fre 28/8”, eller ”ok” för {default}."
    )
    BAD_DEADLINE = "{error} Skriv till exempel ”fre 28/8”."
    DEADLINE_PAST = "Sista svarsdagen måste ligga efter nu."
    DEADLINE_AFTER_SLOT = "Sista svarsdagen måste vara före den första tiden ({first})."
    OPENED = (
        "Klart! Jag har skickat tidsförslagen för **{title}** till {people} i **{group}**. "
        "Svar senast {deadline}. {nudges}"
    )
    NUDGES_BOTH = "Jag påminner dem som inte svarat två dagar före och på morgonen sista dagen."
    NUDGES_MORNING = "Jag påminner dem som inte svarat på morgonen sista dagen."
    NUDGES_EARLY = "Jag påminner dem som inte svarat två dagar före sista dagen."
    NUDGES_NONE = (
        "Svarstiden är för kort för påminnelser; skriv ”påminn de som inte svarat” om det behövs."
    )
    UNREACHED = (
        "Jag kunde inte skicka kortet personligt till {names}; "
        "de kan svara på kortet i gruppens chatt."
    )

    # the poll card
    CARD_TITLE = "{title} – {group}"
    CARD_INTRO = (
        "Välj för varje tid om du kan och tryck **Skicka "
        "svar**. Du kan ändra ditt svar fram till sista svarsdagen."
    )
    FACT_LENGTH = "Längd"
    FACT_PLACE = "Plats"
    FACT_DEADLINE = "Svara senast"
    FACT_BY = "Planeras av"
    ANSWER_ROW = "{choice} ({count}): {names}"
    NOBODY = "–"
    NOT_ANSWERED = "Har inte svarat ({count}): {names}"
    ALL_ANSWERED = "Alla har svarat."
    SUBMIT = "Skicka svar"
    PICK_FOR = "Ditt svar för {when}"
    YOUR_ANSWER = "Ditt svar: {choice}"
    YOU_ANSWERED = "Du har svarat. Du kan ändra ditt svar fram till sista svarsdagen."
    YOU_NOT_ANSWERED = "Du har inte svarat än."
    BOOK_THIS = "Boka den här tiden"
    MY_VIEW = "Visa mina svar"
    STATE_CLOSED = "Svarstiden är slut."
    STATE_BOOKED = "Bokat: {when}, {place}."
    STATE_CANCELLED = "Omröstningen är inställd."
    HOURS = "{hours} timmar"
    HOUR = "1 timme"
    MINUTES = "{minutes} minuter"

    # answering
    THANKS = "Tack {name}! Ditt svar för **{title}** är sparat:\n{rows}"
    THANKS_ROW = "• {when}: {choice}"
    YOUR_ANSWERS = "Dina svar för **{title}**:\n{rows}"
    NO_ANSWERS_YET = "Du har inte svarat på **{title}** än."
    NO_CHOICES = (
        "Välj Ja, Om det behövs eller Nej för minst en av tiderna och tryck **Skicka svar** igen."
    )
    NOT_MEMBER = (
        "Tack för att du vill svara! Den här omröstningen är för arbetsgruppen **{group}**. "
        "Hör av dig till {creator} om du vill vara med."
    )
    LATE = (
        "Svarstiden för **{title}** gick ut {deadline}, så jag kan "
        "inte ta emot fler svar. Så här blev det:\n{rows}"
    )
    NOW_BOOKED = "**{title}** är redan bokat: {when}, {place}."
    NOW_CANCELLED = "Omröstningen om **{title}** är inställd."
    GONE = "Den omröstningen finns inte längre."
    NUDGE = (
        "Du har inte svarat på tidsförslagen för **{title}** ({group}). Svara på kortet jag "
        "skickade senast {deadline}."
    )
    NUDGE_NOW = (
        "Påminnelse från {who}: svara gärna på tidsförslagen för **{title}** senast {deadline}."
    )
    REMINDED = "Jag påminde {people}: {names}."
    NOBODY_MISSING = "Alla i **{group}** har redan svarat på **{title}**."
    NO_OPEN_POLL = (
        "Jag hittar ingen öppen omröstning här. "
        "Starta en med ”planera spånarmöte för Civilsamhälle”."
    )

    # result and booking
    RESULT_TITLE = "Resultat: {title} – {group}"
    RESULT_ALL = "Alla {count} har svarat."
    RESULT_DEADLINE = "Svarstiden gick ut {deadline}. {answered} av {count} har svarat."
    RESULT_SO_FAR = "{answered} av {count} har svarat hittills."
    RESULT_BOOKED = "Bokat: {when}, {place}. {answered} av {count} svarade."
    RESULT_ROW = "{n}. {when}: Ja {yes}, Om det behövs {if_needed}, Nej {no}"
    RESULT_PICK = "Tryck **Boka** vid den tid som passar bäst."
    BOOK = "Boka"
    CANCEL = "Ställ in"
    BOOKED = (
        "Bokat! **{title}** blir {when}, {place}. Jag har skickat inbjudan till {people} "
        "och påminner alla dagen före kl. 16.00 och en timme innan."
    )
    ALREADY_BOOKED = (
        "**{title}** är redan bokat: {when}. Skriv ”flytta {lower} till ...” för att byta tid."
    )
    ANNOUNCE = "**{title}** för {group} är bokat: {when}, {place}. Inbjudan kommer personligen."
    INVITE_TITLE = "Inbjudan: {title}"
    INVITE_MOVED_TITLE = "Ny tid: {title}"
    INVITE_BODY = "{when}\n{place}\nArbetsgrupp: {group}"
    ADD_ICS = "Lägg till i kalendern (.ics)"
    OPEN_OUTLOOK = "Öppna i Outlook"
    ICS_DESCRIPTION = "Bokat av Nätverksboten för arbetsgruppen {group}."

    # cancel and move
    CANCELLED = "Okej, **{title}** är inställt. Jag har meddelat gruppen."
    ANNOUNCE_CANCELLED = "**{title}** för {group} är inställt."
    ALREADY_CANCELLED = "**{title}** är redan inställt."
    NO_POLL = "Jag hittar ingen omröstning eller inget bokat möte här."
    NOT_BOOKED = "**{title}** är inte bokat än, så det finns inget att flytta."
    MOVE_ONE = "Skriv en ny tid, till exempel ”flytta {lower} till tors 3/9 13-15”."
    MOVED = (
        "Okej, **{title}** är flyttat till {when}. Jag har meddelat alla och flyttat påminnelserna."
    )
    ANNOUNCE_MOVED = "**{title}** för {group} är flyttat till {when}, {place}."
    AND = " och "
    ONE_PERSON = "1 person"
    PEOPLE = "{count} personer"
