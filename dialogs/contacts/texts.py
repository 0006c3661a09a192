"""Every word the competence bank says."""

from __future__ import annotations

from dialogs.turn import HelpEntry
from storage.contacts import ImportReport


class Texts:
    HELP_FIND = HelpEntry("Hitta en kollega med rätt kompetens", "vem kan diabetes i Kungälv?")
    HELP_ADD = HelpEntry("Dela din kompetens i kompetensbanken", "lägg till mig i kompetensbanken")
    HELP_MINE = HelpEntry("Se, ändra eller ta bort dina uppgifter", "visa mina uppgifter")

    TITLE_HERE = "Kollegor som kan ”{topic}” i {place}"
    TITLE_ANYWHERE = "Kollegor som kan ”{topic}”"
    NONE_HERE = "Jag hittade ingen i {place} i kompetensbanken som kan ”{topic}”."
    ELSEWHERE = "Närmaste träffar i andra kommuner:"
    ELSEWHERE_TAG = "Annan kommun: {place}"
    NONE = "Jag hittade ingen i kompetensbanken som kan ”{topic}”."
    NONE_HINT = "Prova ett annat ord, eller fråga utan kommun."
    NO_MORE = "Det finns inga fler i kompetensbanken som kan ”{topic}”."
    NO_SUCH = "Jag visade {count}; skriv till exempel ”den första” eller ”nr 2”."
    NO_TOPIC = (
        "Vad ska kollegan kunna? Skriv till exempel ”vem kan diabetes i Kungälv?” eller "
        "”vem är expert på BPSD?”."
    )
    NOT_FOR_YOU = "Kompetensbanken visas bara för medlemmar i nätverket."
    PERSONAL_ONLY = (
        "Det gör vi i en personlig chatt med mig, så att dina uppgifter inte syns för andra. "
        "Skriv till mig direkt."
    )
    ROW = "• **{name}**, {role}, {place}. Kan: {competences}. E-post: {email}{phone}"
    ROW_PHONE = ", telefon: {phone}"
    EMAIL = "E-post"
    PHONE = "Ring"
    CHAT = "Chatta i Teams"
    COMPETENCES = "Kan"
    PHONE_FACT = "Telefon"

    IMPORT_OK = "Kompetensbanken är inläst: {added} nya, {updated} ändrade, {unchanged} oförändrade"
    IMPORT_ERASED = ", {erased} borttagna"
    IMPORT_BAD = "Inget ändrades. Rätta {count} fel i filen och försök igen:"
    IMPORT_MORE_PROBLEMS = "… och {count} till."

    # self-service
    TOO_LONG = "Det får vara högst {limit} tecken. Skriv kortare."
    ASK_NAME = "Vad heter du? (för- och efternamn, så som kollegor ska se det)"
    ASK_MUNICIPALITY = "I vilken kommun arbetar du?"
    ASK_MUNICIPALITY_EDIT = (
        "I vilken kommun arbetar du? (nu: {current} – skriv ”behåll” för att behålla)"
    )
    BAD_MUNICIPALITY = (
        "Den kommunen känner jag inte igen. Skriv kommunens namn, till exempel ”Lerum”."
    )
    ASK_ROLE = "Vilken roll eller titel har du? (till exempel distriktssköterska)"
    ASK_ROLE_EDIT = "Vilken roll har du? (nu: {current} – skriv ”behåll” för att behålla)"
    ASK_COMPETENCES = (
        "Vilka kompetenser vill du dela med kollegor? Skriv dem med kommatecken emellan, till "
        "exempel ”diabetes, sårvård, palliativ vård”."
    )
    ASK_COMPETENCES_EDIT = (
        "Vilka kompetenser vill du dela? (nu: {current} – skriv ”behåll” för att behålla)"
    )
    BAD_COMPETENCES = "Skriv minst en kompetens, till exempel ”diabetes”."
    NO_IDENTITY = (
        "Jag kunde inte få fram din e-postadress från Teams just nu, och det är den som kopplar "
        "kompetensbanken till dig. Försök igen om en stund."
    )
    ASK_PHONE = (
        "Vilket telefonnummer kan kollegor ringa? Skriv ”hoppa över” om du inte vill ange något."
    )
    ASK_PHONE_EDIT = (
        "Telefonnummer? (nu: {current} – skriv ”behåll” för att behålla, ”inget” för att ta bort)"
    )
    BAD_PHONE = "Skriv ett telefonnummer, till exempel ”031-123 45 67”, eller ”hoppa över”."
    CONSENT = (
        "**Samtycke.** Jag samtycker till att mitt namn, min kommun, roll, mina kompetenser, min "
        "e-postadress och mitt telefonnummer sparas i nätverkets kompetensbank och visas för "
        "medlemmar i nätverket som söker kollegor med viss kompetens. Jag kan när som helst se "
        "mina uppgifter (”visa mina uppgifter”), ändra dem (”ändra mina uppgifter”) eller ta "
        "bort dem (”ta bort mig”); då raderas de direkt.\n\n"
        "Samtycker du? Svara **Ja** eller **Nej**. Skriv ”avbryt” om du vill lämna utan att "
        "spara något."
    )
    YES_OR_NO = "Svara **Ja** eller **Nej**, eller skriv ”avbryt” för att lämna utan att spara."
    YES = "Ja"
    NO = "Nej"
    SUMMARY = "• {name}, {role}, {place}\n• Kompetenser: {competences}\n• E-post: {email}{phone}"
    SUMMARY_PHONE = "\n• Telefon: {phone}"
    SAVED = "Tack! Nu finns du i kompetensbanken:\n{summary}"
    UPDATED = "Klart, dina uppgifter är ändrade:\n{summary}"
    NOT_SAVED = "Okej, jag sparade ingenting. Utan samtycke kan du inte finnas i kompetensbanken."
    UNPUBLISHED = (
        "Okej. Utan ditt samtycke visas du inte längre i kompetensbanken, från och med nu. "
        "Ändringarna sparade jag inte. Dina uppgifter finns kvar men syns inte för någon: skriv "
        "”ta bort mig” om du vill att jag raderar dem, eller ”ändra mina uppgifter” om du vill "
        "samtycka igen."
    )
    CANCELLED = "Okej, jag avbröt. Inget ändrades."
    NOT_IN_BANK = (
        "Du finns inte i kompetensbanken. Skriv ”lägg till mig i kompetensbanken” om du vill dela "
        "din kompetens."
    )
    CONFIRM_ERASE = (
        "Vill du att jag tar bort dig ur kompetensbanken? Allt om dig där raderas direkt och kan "
        "inte återställas. Svara **Ja** eller **Nej**."
    )
    ERASED = "Klart. Du är borttagen ur kompetensbanken."
    NOT_ERASED = "Okej, jag tog inte bort något."
    ERASE_REASON_SELF = "egen begäran"
    ERASE_REASON_COORDINATOR = "begäran via samordnare"
    COORDINATOR_ONLY = "Bara nätverkets samordnare kan ta bort någon annan ur kompetensbanken."
    COORDINATOR_ERASED = "Klart. Posten för {email} är borttagen ur kompetensbanken."
    COORDINATOR_NOT_FOUND = "Ingen post i kompetensbanken har e-postadressen {email}."
    COORDINATOR_BAD = "Skriv så här: ”ta bort kontakt namn@kommun.se”."

    # what we store
    MINE_TITLE = "Det här har jag sparat om dig"
    MINE_CONTACT = (
        "**Kompetensbanken**\n• Namn: {name}\n• Kommun: {place}\n• Roll: {role}\n"
        "• Kompetenser: {competences}\n• E-post: {email}\n• Telefon: {phone}\n"
        "• Teams-koppling: {teams}\n• Samtycke: {consent}\n• Tillagd: {added_at} ({added_by})\n"
        "• Senast ändrad: {updated_at}"
    )
    MINE_NO_CONTACT = "**Kompetensbanken**\n• Du finns inte i kompetensbanken."
    MINE_CONVERSATIONS = (
        "**Konversationer**\n• Jag har sparat hur jag når dig i {count} konversation(er) "
        "({kinds}), med ditt visningsnamn ”{name}”, för att kunna svara och påminna."
    )
    MINE_OTHER = "**Annat jag har sparat om dig**"
    FOOTPRINT = {
        "reminder": "påminnelser du har skapat: {count} (skriv ”mina påminnelser”)",
        "deadline_member": "deadlines du är med i: {count}",
        "group_member": "arbetsgrupper du är med i: {count} (skriv ”visa arbetsgrupper”)",
        "topic_watch": "ämnen du bevakar: {count}",
    }
    MINE_FOOTER = "Skriv ”ändra mina uppgifter” eller ”ta bort mig” om du vill ändra eller ta bort."
    CONSENT_YES = "ja, sedan {when}"
    CONSENT_NO = "nej (posten visas inte för någon)"
    TEAMS_YES = "ja"
    TEAMS_NO = "nej"
    NOT_GIVEN = "(inget)"
    BY_SELF = "av dig själv"
    BY_IMPORT = "av samordnare, via import"
    BY_OTHER = "av samordnare"
    KINDS = {"personal": "personlig chatt", "groupChat": "gruppchatt", "channel": "kanal"}


def describe_contact_import(report: ImportReport, limit: int = 40) -> str:
    """The import report, for the CLI (and any chat import later)."""
    if report.ok:
        text = Texts.IMPORT_OK.format(
            added=report.added, updated=report.updated, unchanged=report.unchanged
        )
        if report.erased:
            text += Texts.IMPORT_ERASED.format(erased=report.erased)
        return text + "."
    lines = [Texts.IMPORT_BAD.format(count=len(report.errors))]
    lines += [f"• {problem}" for problem in report.errors[:limit]]
    if len(report.errors) > limit:
        lines.append(Texts.IMPORT_MORE_PROBLEMS.format(count=len(report.errors) - limit))
    return "\n".join(lines)
