"""The reminders' words in Swedish: what RemindMe (dialogs/reminders.py) says, its help."""

from __future__ import annotations

from dialogs.turn import HelpEntry


class Texts:
    HELP_REMIND = HelpEntry(
        "Påminna dig eller gruppen", "påminn mig imorgon kl 9 om att skicka enkäten"
    )
    HELP_LIST = HelpEntry("Se och ta bort dina påminnelser", "mina påminnelser")
    HELP_WATCH = HelpEntry("Bevaka nya utbildningar", "bevaka kurser om demens")
    # One example close to what was asked, not a list of everything (Teams runs lines together).
    EXAMPLES = "Skriv till exempel ”påminn mig imorgon kl 9 om att skicka enkäten”."
    NO_TIME = "Jag förstod inte när jag ska påminna. " + EXAMPLES
    # The parser's own words say what was wrong; one time as it could be written, no list.
    BAD_TIME = "{error} Skriv tiden till exempel som ”imorgon kl 9” eller ”fredag kl 14”."
    NO_WHAT = "Vad ska jag påminna om? " + EXAMPLES
    ASK_WHAT = "Vad ska jag påminna om?"
    ASK_WHEN = (
        "När ska jag påminna om ”{what}”? Skriv till exempel ”imorgon kl 9” eller ”fredag kl 14”."
    )
    NO_AUDIENCE = "Vem ska jag påminna? Skriv ”mig”, ”oss” eller ”gruppen Namn”."
    SET_ME = "Okej! Jag påminner dig {when}: ”{what}”."
    SET_US = "Okej! Jag påminner er här i chatten {when}: ”{what}”."
    SET_GROUP = (
        "Okej! Jag påminner var och en i **{group}** ({count}) personligen {when}: ”{what}”."
    )
    PERSON = "{n} person"
    PEOPLE = "{n} personer"
    RECURRING_WHEN = "{description}, första gången {first}"
    ASSUMED = " ({assumed})"
    NOT_IN_GROUP = "Bara medlemmar i {group} och samordnare kan påminna gruppen."
    NO_GROUP = "Jag hittar ingen arbetsgrupp som heter ”{name}”."
    GROUPS_OFFERED = "Menade du: {names}?"
    TOO_MANY = (
        "Du har redan {limit} kommande påminnelser, så många som går. Ta bort några du inte "
        "behöver (”mina påminnelser”) och försök igen."
    )
    TOO_MANY_HERE = (
        "I den här chatten har det redan gjorts {limit} påminnelser det senaste dygnet, så många "
        "som går på ett dygn. Försök igen i morgon."
    )
    MORE = "Visa fler"
    MORE_TEXT = "… och {count} till."
    LIST_TITLE = "Dina påminnelser"
    LIST_EMPTY = "Du har inga kommande påminnelser. " + EXAMPLES
    LIST_ROW = "{n}. {when} – {text}{where}"
    LIST_ROW_RECURRING = "{n}. {description} (nästa {when}) – {text}{where}"
    WHERE_CHAT = " (i chatten)"
    WHERE_GROUP = " (till {group})"
    LIST_HINT = (
        "Ta bort med ”ta bort påminnelse 2”, flytta med ”ändra påminnelse 2 till imorgon kl 10”."
    )
    DELETE = "Ta bort"
    NO_SUCH_NUMBER = "Du har ingen påminnelse nummer {n}. Skriv ”mina påminnelser” för att se dem."
    DELETED = "Borttagen: ”{text}”."
    ALREADY_DELETED = "”{text}” är redan borttagen."
    DELETED_RECURRING = "Stoppad: ”{text}”. Den kommer inte fler gånger."
    MOVED = "Flyttad: ”{text}” kommer {when}."
    NOT_YOURS = "Den påminnelsen finns inte längre, eller så är det någon annans."
    ONLY_OWNER_STOPS = (
        "Bara den som skapade påminnelsen, gruppens skapare och samordnare kan stoppa den för "
        "alla. Vill du slippa den själv, tryck **Tysta för mig** på påminnelsen."
    )
    # a group's reminders
    HELP_GROUP = HelpEntry("Se och stoppa en grupps påminnelser", "påminnelser för gruppen RSS")
    HELP_MUTE = HelpEntry("Slippa en grupps återkommande påminnelse", "tysta påminnelsen om mötet")
    SAME_EXISTS = (
        "**{group}** har redan den påminnelsen: ”{text}” {when}, satt av {owner}. "
        "Jag lägger inte in den två gånger."
    )
    SAME_EXISTS_HINT = " Gruppens påminnelser ser du med ”påminnelser för gruppen {group}”."
    SOMEONE = "någon i gruppen"
    GROUP_LIST_TITLE = "Påminnelser till {group}"
    GROUP_LIST_EMPTY = "**{group}** har inga kommande påminnelser."
    GROUP_LIST_ROW = "{n}. {when} – {text} (satt av {owner})"
    GROUP_LIST_ROW_RECURRING = "{n}. {description} (nästa {when}) – {text} (satt av {owner})"
    GROUP_LIST_HINT = "Tryck **Stoppa** för att stoppa en påminnelse för hela gruppen."
    GROUP_LIST_ONLY_MANAGERS = (
        "Bara gruppens skapare och samordnare kan se och stoppa alla gruppens påminnelser. "
        "Dina egna ser du med ”mina påminnelser”."
    )
    STOP_BUTTON = "Stoppa"
    MUTED = (
        "Okej, du får inte fler påminnelser om ”{text}” till {group}. Resten av gruppen får den "
        "som vanligt."
    )
    ALREADY_MUTED = "Du har redan tystat ”{text}” till {group}."
    MUTE_NONE = "Jag hittar ingen återkommande påminnelse till dina grupper om ”{what}”."
    MUTE_NONE_AT_ALL = "Du får inga återkommande påminnelser till någon grupp."
    MUTE_WHICH_TITLE = "Vilken påminnelse vill du slippa?"
    MUTE_ROW = "{n}. {description} – {text} (till {group})"
    MUTE_BUTTON = "Tysta"
    # an occurrence on a day off, the organiser's choice
    DAY_OFF_MOVED = "Flyttad: ”{text}” kommer {when} i stället för {day}."
    DAY_OFF_SKIPPED = "Inställd: ”{text}” kommer inte {day}. Nästa gång kommer den som vanligt."
    DAY_OFF_KEPT = "Behålls: ”{text}” kommer som vanligt {when}."
    DAY_OFF_DECIDED = "Redan bestämt. "
    DAY_OFF_PASSED = "Den gången har redan varit."
    DAY_OFF_TOO_LATE = "Föregående vardag, {day}, har redan varit. Välj en annan knapp."
    SNOOZED = "Okej, jag påminner igen {when}: ”{text}”."
    DONE = "Bra! Markerad som klar."
    ALREADY_DONE = "Den är redan markerad som klar."
    ALREADY_SNOOZED = "Redan ordnat: jag påminner igen {when}: ”{text}”."
    GONE = "Den påminnelsen finns inte längre."
    UNKNOWN_BUTTON = "Den knappen känner jag inte igen. Skriv ”mina påminnelser” för att se dina."
    # watches
    WATCH_SET = (
        "Okej! Jag säger till dig när det kommer en ny utbildning om ”{topic}”. "
        "Se dina bevakningar med ”mina bevakningar”."
    )
    WATCH_EXISTS = "Du bevakar redan ”{topic}”."
    WATCH_LIST_TITLE = "Dina bevakningar"
    WATCH_ROW = "• {topic}"
    WATCH_NONE = "Du bevakar inget ämne än. Skriv till exempel ”bevaka kurser om demens”."
    WATCH_HINT = "Sluta med ”sluta bevaka demens”."
    WATCH_REMOVED = "Okej, jag bevakar inte ”{topic}” längre."
    WATCH_TOO_LONG = "Ett ämne att bevaka får vara högst {limit} tecken. Skriv ett kortare."
    WATCH_NOT_FOUND = "Du bevakar inget som heter ”{topic}”. Skriv ”mina bevakningar”."
