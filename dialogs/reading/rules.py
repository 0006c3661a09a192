"""The rules: the unambiguous command forms and the word helpers the reader uses on every message.

Patterns are matched against the message lowered and trimmed (`_plain`); `_rules` lists them in
the order they are tried.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dialogs.reading.model import Intent
from scheduler.when import Parsed
from storage import language


def _plain(text: str) -> str:
    text = text.strip().lower().replace("’", "'")
    return re.sub(r"[\s!?.,;:)(🙂😊👍]+$", "", text).strip()


# --- rules: the unambiguous command forms ------------------------------------------------------
_R = re.I | re.S
_CANCEL = re.compile(
    r"^(?:(?:nej|nä|no|okej|ok)[,!.]?\s+)?(?:avbryt|avsluta|cancel|sluta|stopp|stop|glöm det|"
    r"strunta i det|never ?mind|forget it|abort)(?:\s+(?:tack|thanks))?$",
    _R,
)
_HELP = re.compile(
    r"^(?:hjälp|hjalp|help|\?|meny|menu|kommandon|commands|"
    r"vad kan du(?: göra| hjälpa (?:mig |till )?"
    r"med)?|vad kan jag (?:fråga|skriva)(?: dig)?(?: om)?|hur funkar (?:du|det här|detta)|"
    r"what can you do|what can you help (?:me )?with|what can i ask(?: you)?|"
    r"how does (?:this|it) work|how do i use (?:you|this))$",
    _R,
)
_ABOUT = re.compile(
    r"^(?:(?:hej,? )?(?:vem|vad) är du(?: för (?:något|nåt|en))?|vad heter du|"
    r"(?:hej,? )?vad (?:gör|sysslar) du(?: med)?|vad är du till för|what do you do|"
    r"är du (?:en )?(?:robot|bot|människa|ai)|vem har (?:gjort|byggt|skapat) dig|"
    r"who are you|what are you|what is your name|what's your name|are you a (?:bot|robot|human)|"
    r"who (?:made|built) you)$",
    _R,
)
_THANKS_WORD = re.compile(r"\b(?:tack|tackar|tacksam|thanks|thank you|thx|ty|cheers)\b", _R)
# A message that only acknowledges an answer ("perfekt!", "toppen", "👍"): taken as thanks.
_ACKNOWLEDGE = re.compile(
    r"^(?:(?:vad\s+)?(?:perfekt|toppen|super|superbra|utmärkt|kanon|grymt|härligt|fint|bra|"
    r"jättebra|strålande|great|perfect|awesome|nice|excellent|cool)(?:\s+(?:då|så|det))?[\s,!.]*)+$",
    _R,
)
_GREETING_WORDS = frozenset(
    [
        "hej",
        "hejsan",
        "hejhej",
        "hallå",
        "halla",
        "tjena",
        "tjenare",
        "tja",
        "god",
        "morgon",
        "middag",
        "eftermiddag",
        "kväll",
        "dag",
        "hello",
        "hi",
        "hey",
        "there",
        "good",
        "morning",
        "afternoon",
        "evening",
        "där",
        "alla",
        "nätverksboten",
        "boten",
        "bot",
        "på",
        "dig",
        "hello!",
        "hi!",
    ]
)

_LIST_REMINDERS = re.compile(
    r"^(?:(?:visa|lista|show|list|se)\s+)?(?:(?:alla\s+)?mina\s+|(?:all\s+)?my\s+)?"
    r"(?:påminnelser|reminders)$|"
    r"^(?:vilka|vad har jag för) påminnelser(?: har jag)?$|^what reminders do i have$",
    _R,
)
_DELETE_REMINDER = re.compile(
    r"^(?:ta\s+bort|radera|stryk|stoppa|sluta\s+med|delete|remove|cancel)\s+"
    r"(?:min\s+|my\s+)?(?:påminnelse(?:n)?|reminder)\s+(?:nr\.?\s*|nummer\s+|number\s+|no\.?\s*|#)?"
    r"(?P<n>\d+)$",
    _R,
)
# "ta bort den första", "delete number 2": the reminders list is the numbered list one deletes from
_DELETE_PICK = re.compile(
    r"^(?:ta\s+bort|radera|stryk|delete|remove)\s+(?:den|det|nummer|nr\.?|number|no\.?|#|the)?\s*"
    r"(?P<n>första|forsta|andra|tredje|fjärde|femte|first|second|third|fourth|fifth|[1-9])"
    r"(?:\s+(?:påminnelsen|one|reminder))?$",
    _R,
)
_MOVE_REMINDER = re.compile(
    r"^(?:ändra|flytta|move|change)\s+(?:påminnelse(?:n)?|reminder)\s+"
    r"(?:nr\.?\s*|nummer\s+|number\s+|no\.?\s*|#)?(?P<n>\d+)\s+(?:till\s+|to\s+)?(?P<when>.+)$",
    _R,
)
# A group's reminders: "påminnelser för gruppen RSS", "visa styrgruppens påminnelser".
_GROUP_REMINDERS = re.compile(
    r"^(?:(?:visa|lista|se|show|list)\s+)?(?:alla\s+)?(?:påminnelser(?:na)?|reminders)\s+"
    r"(?:för|i|till|hos|for|of)\s+(?:arbets)?(?:gruppen\s+)?(?P<group>.+)$|"
    r"^(?:(?:visa|lista|se)\s+)?(?:alla\s+)?(?P<owner>\S+?)s\s+påminnelser$",
    _R,
)
# A member opting out of a group's recurring reminder for themselves.
_MUTE = re.compile(
    r"^(?:tysta|stäng\s+av|mute|sluta\s+få|avanmäl\s+mig\s+från)\s+"
    r"(?:gruppens\s+|den\s+)?(?:påminnelse(?:n|rna)?|reminder)"
    r"(?:\s+(?:om|för|från|till|about|for|from)\s+(?P<what>.+))?$|"
    r"^(?:sluta\s+påminna\s+mig|stop\s+reminding\s+me)(?:\s+(?:om|about)\s+(?P<what2>.+))?$",
    _R,
)
_WATCHES = re.compile(r"^(?:visa\s+|show\s+)?(?:mina\s+bevakningar|my\s+watches)$", _R)
_UNWATCH = re.compile(
    r"^(?:(?:sluta|slut)\s+bevaka|stop\s+watching)\s+(?:kurser\s+|utbildningar\s+|courses\s+)?"
    r"(?:om\s+|about\s+|on\s+)?(?P<topic>.+)$",
    _R,
)
_WATCH = re.compile(
    r"^(?:bevaka|watch)\s+(?:nya\s+|new\s+)?(?:kurser|utbildningar|courses|training)?\s*"
    r"(?:om|i|inom|kring|about|on|in)?\s*(?P<topic>.+)$",
    _R,
)
_DEADLINE = re.compile(
    r"^deadline\s+(?P<body>.+?)\s+för\s+(?:arbets)?(?:gruppen\s+)?(?P<group>.+?)"
    r"(?:\s*[,;]?\s+påminn\s+(?P<days>[\d\s,och]+?)\s+dag(?:ar)?\s+före)?$",
    _R,
)
_DEADLINE_ANY = re.compile(r"^deadline\b", _R)
_DEADLINE_LIST = re.compile(
    r"^(?:(?:visa|lista|se|show|list)\s+)?(?:(?P<scope>mina|alla|my|all)\s+)?"
    r"(?:deadlines|deadlinesen)(?:\s+(?:för|i|for)\s+(?:arbets)?(?:gruppen\s+|group\s+)?"
    r"(?P<group>.+))?$",
    _R,
)
_DEADLINE_MOVE = re.compile(
    r"^(?:flytta|ändra|skjut\s+upp|move)\s+deadline(?:n)?\s+(?P<name>.+?)\s+(?:till|to)\s+"
    r"(?P<when>.+)$",
    _R,
)
_DEADLINE_CANCEL = re.compile(
    r"^(?:ta\s+bort|radera|ställ\s+in|stryk|delete|cancel|remove)\s+deadline(?:n)?\s+"
    r"(?P<name>.+)$",
    _R,
)
# "Civilsamhälle ska lämna in enkäten senast fredag"
_DEADLINE_DUE = re.compile(
    r"^(?!.*\b(?:påminn|remind))(?!(?:jag|vi|du|ni|man|hon|han)\s)(?P<group>.+?)\s+ska\s+"
    r"(?:lämna\s+in|skicka\s+in|redovisa|rapportera(?:\s+in)?|ha\s+(?:lämnat|skickat)\s+in)\s+(?P<name>.+?)\s+(?:senast|innan|före)\s+(?P<when>.+)$",
    _R,
)
# "sista dag för nomineringen är 15 mars", optionally "... för gruppen X"
_DEADLINE_LAST_DAY = re.compile(
    r"^sista\s+(?:dag(?:en)?|datum(?:et)?)\s+(?:för|att)\s+(?P<name>.+?)\s+är\s+(?P<when>.+?)"
    r"(?:\s+för\s+(?:arbets)?gruppen\s+(?P<group>.+))?$",
    _R,
)
# "deadline for the report is Friday", optionally "... for group X"
_DEADLINE_ENGLISH = re.compile(
    r"^(?:the\s+)?deadline\s+for\s+(?P<name>.+?)\s+is\s+(?P<when>.+?)"
    r"(?:\s+for\s+(?:the\s+)?(?:working\s+)?group\s+(?P<group>.+))?$",
    _R,
)
_STATUS = re.compile(r"^status\s+(?:för\s+)?(?:deadline(?:n)?\s+)?(?P<name>.+)$", _R)
_DONE = re.compile(r"^(?:jag\s+är\s+)?klart?(?:\s+med)?(?:\s+(?P<name>.+))?$", _R)

_REMIND_MISSING = re.compile(
    r"^påminn\s+(?:de|dem|alla|dom)\s+som\s+inte\s+(?:har\s+)?svarat(?:\s+(?:på|om)\s+.+)?$", _R
)
_PLAN = re.compile(
    r"^(?:planera|ordna|hitta\s+(?:en\s+)?tid\s+för)\s+(?:ett\s+|en\s+)?(?P<what>.+?)\s+"
    r"(?:för|med)\s+(?:arbetsgrupp(?:en)?\s+|gruppen\s+)?(?P<group>.+)$",
    _R,
)
_POLL_RESULT = re.compile(
    r"^(?:visa\s+)?(?:resultat(?:et)?|omröstning(?:en)?)(?:\s+(?:för|av)\s+.+)?$", _R
)
_MEETING_WORDS = re.compile(r"\b(?:\w*möte|\w*mötet|omröstning|omröstningen)\b", re.I)
_MEETING_CANCEL = re.compile(r"^(?:ställ\s+in|avboka|stäng)\s+(?P<what>.+)$", _R)
_MEETING_MOVE = re.compile(r"^(?:flytta|ändra)\s+(?P<what>.+?)\s+till\s+(?P<when>.+)$", _R)

_ADD_ME = re.compile(
    r"^(?:(?:hej,?\s+)?(?:kan du |vill |snälla |please |can you |could you )?"
    r"(?:lägg|lägga) till mig|registrera mig|anmäl mig|skriv in mig|"
    r"jag vill (?:vara med|gå med|finnas|dela|bli (?:med|kontakt))|gå med i kompetensbank|"
    r"(?:please )?(?:add|register|sign) me\b|i want to (?:join|share my)|"
    r"(?:put|list) me in the competence)",
    _R,
)
_SHOW_MINE = re.compile(
    r"^(?:visa (?:mina|min) (?:uppgifter|data|personuppgifter|profil|post)|"
    r"(?:mina|min) (?:uppgifter|personuppgifter|profil)|"
    r"vad (?:har|vet|sparar|lagrar) (?:du|ni)(?: \w+)?(?: kvar)? om mig|"
    r"vilka uppgifter (?:har|sparar) (?:du|ni) om mig|"
    r"show (?:me )?my (?:data|details|information|info)|my data|"
    r"what (?:do you know|have you (?:stored|saved)|data do you have) about me)",
    _R,
)
_CHANGE_MINE = re.compile(
    r"^(?:ändra|uppdatera|redigera) (?:mina uppgifter|mig|min post|min profil)|"
    r"^(?:ändra|uppdatera|byt|byta|rätta) (?:mitt|min|mina) (?:telefon\w*|nummer|mobil\w*|"
    r"e-?post\w*|mejl\w*|mail\w*|kommun|roll|titel|kompetens\w*)\b|"
    r"^(?:change|update|edit) my (?:details|data|profile|entry|information|phone|e-?mail|"
    r"municipality|role|skills)",
    _R,
)
_ERASE_ME = re.compile(
    r"^(?:jag vill inte (?:längre )?(?:vara med|finnas|synas|stå)(?: kvar)? i kompetensbank|"
    r"i (?:don't|do not) want to be in the competence|"
    r"ta bort mig|radera mig|ta bort mina uppgifter|radera mina uppgifter|glöm mig|"
    r"(?:delete|remove|erase|forget) me\b|(?:delete|erase|remove) my (?:data|details))",
    _R,
)
_ERASE_OTHER = re.compile(r"^(?:ta bort|radera) (?:kontakt(?:en)?|posten för)\s+(?P<who>\S+)?", _R)

_GROUP_CREATE = re.compile(
    r"^(?:skapa\s+)?(?:en\s+)?ny\s+arbetsgrupp(?:en)?\s*(?P<name>.*?)(?:\s+med\s+(?P<who>.*))?$", _R
)
_GROUP_LIST = re.compile(r"^(?:visa\s+)?(?:alla\s+|mina\s+)?arbetsgrupper(?:na)?$", _R)
_GROUP_DELETE = re.compile(r"^(?:ta\s+bort|radera)\s+arbetsgrupp(?:en)?\s+(?P<name>.+)$", _R)
_GROUP_ADD = re.compile(
    r"^lägg\s+till\s+(?:(?P<who>.*?)\s+)?i\s+(?:arbetsgrupp(?:en)?\s+)?(?P<name>.+)$", _R
)
_GROUP_REMOVE = re.compile(
    r"^ta\s+bort\s+(?:(?P<who>.*?)\s+)?från\s+(?:arbetsgrupp(?:en)?\s+)?(?P<name>.+)$", _R
)
_GROUP_SHOW = re.compile(r"^visa\s+(?:arbetsgrupp(?:en)?\s+|gruppen\s+)?(?P<name>.+)$", _R)

_GAPS = re.compile(
    r"^(?:visa\s+)?(?:obesvarade(?:\s+(?:kurs)?frågor(?:na)?)?|unanswered questions)$|"
    r"^(?:vilka\s+|visa\s+|which\s+)?(?:(?:kurs)?frågor(?:na)?|questions)\s+(?:som\s+)?"
    r"(?:har\s+|have\s+)?(?:inte|not|inga|no)\s+(?:har\s+)?(?:fått\s+(?:något\s+|några\s+)?svar|"
    r"besvarats|been\s+answered|svar)$",
    _R,
)
_LINKS = re.compile(
    r"^(?:visa\s+)?(?:kopplade|inlärda)(?:\s+frågor(?:na)?)?$|^kopplingar(?:na)?$", _R
)
_LIST_COURSES = re.compile(
    r"^(?:lista|visa|alla)\s+(?:alla\s+)?(?:kurser(?:na)?|utbildningar(?:na)?)$|"
    r"^(?:kurslista|kurskatalog(?:en)?)$|^(?:list|show)\s+(?:all\s+)?courses$|"
    r"^vilka\s+(?:kurser|utbildningar)\s+(?:finns\s+(?:det|där)|har\s+(?:ni|du))$|"
    r"^what\s+courses\s+(?:are\s+there|do\s+you\s+have)$",
    _R,
)
_BROWSE = re.compile(
    r"^(?:lista\s+|visa\s+)?(?:kurser|kurs|utbildningar)\s+(?:om|i|inom)\s+(?P<topic>.+)$", _R
)

_REMIND = re.compile(
    r"\b(?:påminn(?:a|er)?|remind|säg(?:a)?\s+till(?=\s+(?:mig|mej|oss)\b))\b", re.I
)
_REMIND_WHO_WHAT = re.compile(
    r"^(?P<who>.+?)\s+(?:om\s+att|om|att|to|about|that|of)\s+(?P<what>.+)$", _R
)
_REMIND_AUDIENCE = re.compile(
    r"\b(?:påminn(?:a|er)?|remind)\s+(?:mig|mej|oss|alla|er|gruppen|arbetsgruppen|me|us|"
    r"everyone|the\s+group)\b",
    re.I,
)
# Wrapping around a request that is no part of what to be reminded of.
_POLITE_BEFORE = re.compile(
    r"^(?:hej[,!]?\s*)?(?:(?:kan|kunde|skulle)\s+du(?:\s+(?:vara\s+snäll\s+och|kunna|snälla))?|"
    r"snälla|vänligen|jag\s+vill\s+att\s+du|jag\s+vill\s+ha\s+en\s+påminnelse|"
    r"glöm\s+inte\s+att|please|can\s+you|could\s+you|would\s+you|hi[,!]?|hey[,!]?)\s*",
    re.I,
)
_POLITE_AFTER = re.compile(
    r"[\s,]*(?:tack(?:\s+så\s+mycket)?|snälla|please|thanks|thank\s+you|är\s+du\s+snäll|"
    r"om\s+du\s+kan|tack\s+på\s+förhand)?[\s?!.,]*$",
    re.I,
)

_MORE = re.compile(
    r"^(?:(?:kan\s+du\s+)?(?:visa|ge\s+mig|show(?:\s+me)?)\s+)?(?:några\s+)?(?:fler|mer|flera|more)"
    r"(?:\s+(?:kurser|träffar|förslag|personer|kollegor|resultat|results|courses|people|"
    r"please|tack|alternativ))*$|"
    r"^finns\s+det\s+(?:några\s+)?(?:fler|mer|flera)(?:\s+\w+)?$|^(?:nästa|next)(?:\s+(?:sida|page))?$|"
    r"^any\s+more$|^(?:finns\s+det\s+)?(?:någon|nån|några|nåra|något|nåt)\s+(?:annan|andra|annat)"
    r"(?:\s+\w+)?$|^(?:anyone|someone|anybody|somebody|anything|something)\s+else$|"
    r"^(?:andra|other)\s+(?:förslag|alternativ|kurser|personer|kollegor|options|courses|people)$",
    _R,
)
_ORDINALS = {
    "första": 1,
    "forsta": 1,
    "andra": 2,
    "tredje": 3,
    "fjärde": 4,
    "femte": 5,
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "1:a": 1,
    "2:a": 2,
    "3:e": 3,
    "4:e": 4,
    "5:e": 5,
}
_PICK = re.compile(
    r"^(?:(?:öppna|visa|ta|välj|berätta\s+(?:mer\s+)?om|mer\s+om|jag\s+vill\s+ha|open|show(?:\s+me)?|"
    r"tell\s+me\s+(?:more\s+)?about|i'?ll\s+take)\s+)?(?:den|det|nummer|nr\.?|number|no\.?|#|the)?\s*"
    r"(?P<n>första|forsta|andra|tredje|fjärde|femte|first|second|third|fourth|fifth|[1-5](?::[ae])?)"
    r"(?:\s+(?:kursen|personen|kollegan|träffen|alternativet|one|course|person|utbildningen))?$",
    _R,
)

_YES = re.compile(
    r"^(?:ja|japp|jajamen|jo|javisst|absolut|gärna|okej|ok|visst|yes|yeah|yep|sure|fortsätt|"
    r"continue)(?:\s+(?:tack|gärna|please|thanks|det vill jag))?$",
    _R,
)
_NO = re.compile(r"^(?:nej|nä|nää|nope|no|inte nu|not now)(?:\s+(?:tack|thanks))?$", _R)

_NUMBER = re.compile(r"(?:^|\s)(?:nr\.?\s*|nummer\s+|#)?(\d{1,3})(?:\s|$)")

_WHO = re.compile(
    r"^(?:vem|vilka|vilken\s+kollega|finns\s+det\s+(?:någon|nån)\s+som|who|is\s+there\s+anyone|"
    r"anyone\s+who|does\s+anyone)\b",
    re.I,
)
_NOT_PEOPLE = re.compile(
    r"påminnelse|reminder|arbetsgrupp|kurs|utbildning|bevakning|course|training|deadline|"
    r"omröstning|möte",
    re.I,
)

# Follow-up openers: "och i Lerum då?", "what about Alingsås?"
_FOLLOW = re.compile(
    r"^(?:(?:okej|ok|okay|jaha|aha|jaså|men)[,!]?\s+)*(?:och|men|samma|även|också|and|"
    r"what\s+about|how\s+about|hur\s+är\s+det\s+med|vad\s+sägs\s+om|gäller\s+det\s+också|"
    r"okej|ok|okay|"
    r"jaha|aha|jaså)\b",
    re.I,
)
_FOLLOW_NEED = re.compile(
    r"\b(?:då|också|även|med|too|also|instead|istället|i\s+stället)\??$", re.I
)

# People and course cues for questions the rules and examples leave open.
_PEOPLE_CUE = re.compile(
    r"\b(?:vem|vilka|vilken\s+kollega|(?:någon|nån)\s+(?:som|i|på|inom|kunnig|duktig)|"
    r"\w*kontaktperson\w*|kontakt\s+(?:för|i|om|inom)|\w*expert\w*|\w*specialist\w*|"
    r"sakkunnig\w*|kolleg\w*|kompetensbank\w*|prata\s+med\s+(?:någon|nån)|"
    r"who|anyone|someone|somebody|colleague\w*|contact\s+person|talk\s+to\s+someone)\b",
    re.I,
)
_COURSE_CUE = re.compile(
    r"(?:\w*kurs\w*|\w*utbildning\w*|\w*föreläsning\w*|webbinari\w*|e-learning|"
    r"lära\s+mig|läsa\s+på|course\w*|training|webinar\w*|learn|lecture\w*)\b",
    re.I,
)
# English filler removed before a catalogue search (the catalogue is Swedish).
_ENGLISH_FILLER = frozenset(
    [
        "contact",
        "person",
        "persons",
        "people",
        "knows",
        "who",
        "can",
        "help",
        "me",
        "with",
        "in",
        "is",
        "there",
        "are",
        "any",
        "anyone",
        "someone",
        "somebody",
        "a",
        "an",
        "the",
        "about",
        "on",
        "for",
        "i",
        "need",
        "to",
        "talk",
        "do",
        "you",
        "have",
        "know",
        "knows",
        "course",
        "courses",
        "training",
        "trainings",
        "webinar",
        "find",
        "colleague",
        "colleagues",
        "expert",
        "experts",
        "what",
        "how",
        "where",
        "learn",
        "want",
        "would",
        "like",
        "some",
        "please",
        "free",
        "online",
        "something",
        "of",
        "at",
    ]
)
_ENGLISH_HINT = frozenset(
    [
        "who",
        "what",
        "where",
        "is",
        "are",
        "there",
        "any",
        "anyone",
        "someone",
        "the",
        "about",
        "with",
        "can",
        "do",
        "you",
        "i",
        "need",
        "please",
        "course",
        "courses",
        "training",
        "help",
    ]
)


@dataclass(frozen=True)
class _Rule:
    intent: Intent
    pattern: re.Pattern[str]
    verb: str = ""
    search: bool = False  # anywhere in the text, not anchored at its start


def _rules(has_mentions: bool) -> list[_Rule]:
    rules = [
        _Rule(Intent.CANCEL, _CANCEL),
        _Rule(Intent.HELP, _HELP),
        _Rule(Intent.ABOUT_BOT, _ABOUT),
        _Rule(Intent.LIST_REMINDERS, _LIST_REMINDERS),
        _Rule(Intent.DELETE_REMINDER, _DELETE_REMINDER),
        _Rule(Intent.DELETE_REMINDER, _DELETE_PICK),
        _Rule(Intent.DELETE_REMINDER, _MUTE, "mute"),
        _Rule(Intent.LIST_REMINDERS, _GROUP_REMINDERS, "group"),
        _Rule(Intent.SET_REMINDER, _MOVE_REMINDER, "move"),
        _Rule(Intent.WATCH_COURSES, _WATCHES, "list"),
        _Rule(Intent.WATCH_COURSES, _UNWATCH, "stop"),
        _Rule(Intent.WATCH_COURSES, _WATCH),
        _Rule(Intent.DEADLINE_STATUS, _DEADLINE_LIST, "list"),
        _Rule(Intent.SET_DEADLINE, _DEADLINE_MOVE, "move"),
        _Rule(Intent.SET_DEADLINE, _DEADLINE_CANCEL, "cancel"),
        _Rule(Intent.SET_DEADLINE, _DEADLINE_ENGLISH),
        _Rule(Intent.SET_DEADLINE, _DEADLINE),
        _Rule(Intent.SET_DEADLINE, _DEADLINE_ANY, "howto"),
        _Rule(Intent.SET_DEADLINE, _DEADLINE_LAST_DAY),
        _Rule(Intent.SET_DEADLINE, _DEADLINE_DUE),
        _Rule(Intent.DEADLINE_STATUS, _STATUS),
        _Rule(Intent.DEADLINE_STATUS, _DONE, "done"),
        _Rule(Intent.PLAN_MEETING, _REMIND_MISSING, "remind_missing"),
        _Rule(Intent.PLAN_MEETING, _PLAN),
        _Rule(Intent.PLAN_MEETING, _POLL_RESULT, "result"),
        _Rule(Intent.ADD_ME, _ADD_ME),
        _Rule(Intent.CHANGE_MY_DATA, _CHANGE_MINE),
        _Rule(Intent.SHOW_MY_DATA, _SHOW_MINE),
        _Rule(Intent.MANAGE_GROUP, _GROUP_DELETE, "delete"),
        _Rule(Intent.ERASE_ME, _ERASE_ME),
        _Rule(Intent.ERASE_ME, _ERASE_OTHER, "other"),
        _Rule(Intent.MANAGE_GROUP, _GROUP_CREATE, "create"),
        _Rule(Intent.MANAGE_GROUP, _GROUP_LIST, "list"),
        _Rule(Intent.MANAGE_GROUP, _GROUP_ADD, "add"),
        _Rule(Intent.UNANSWERED_QUESTIONS, _GAPS),
        _Rule(Intent.UNANSWERED_QUESTIONS, _LINKS, "links"),
        _Rule(Intent.FIND_COURSE, _LIST_COURSES, "list"),
        _Rule(Intent.FIND_COURSE, _BROWSE),
        _Rule(Intent.MORE_RESULTS, _MORE),
    ]
    if has_mentions:
        rules.append(_Rule(Intent.MANAGE_GROUP, _GROUP_REMOVE, "remove"))
    return rules


def asks_for_course(text: str) -> bool:
    """Does the message name a course, a training or learning at all ("kurs", "training")?"""
    return bool(_COURSE_CUE.search(text))


def reminder_parts(text: str, when: Parsed | None) -> dict[str, str]:
    """Who and what of "påminn mig ... att X", without the wrapping or the time.

    "kan du påminna mig att beställa broschyrer på måndag kl 10?" → who "mig",
    what "beställa broschyrer".
    """
    rest = when.rest if when is not None else text
    slots: dict[str, str] = {}
    command = _REMIND.search(rest)
    if command is None:
        return slots
    before = _POLITE_BEFORE.sub("", rest[: command.start()]).strip(" ,:")
    after = rest[command.end() :].strip(" ,:")
    match = _REMIND_WHO_WHAT.match(after)
    if match is not None:
        slots["who"] = match.group("who").strip()
        what = _POLITE_AFTER.sub("", match.group("what")).strip(" ,.?!")
        before = _POLITE_AFTER.sub("", before).strip(" ,.?!")
        slots["what"] = " ".join(p for p in (what, before) if p)
    elif after:
        who = after.split()[0].strip(" ,.?!")
        if who.lower() in _SELF_OR_US:
            slots["who"] = who
    return slots


_SELF_OR_US = frozenset({"mig", "mej", "oss", "alla", "er", "me", "us", "everyone"})


# --- helpers ----------------------------------------------------------------------------------
def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _original(text: str, lowered: str) -> str:
    """The user's own spelling of a piece of the lowered text, where it can be found."""
    index = text.lower().find(lowered)
    return text[index : index + len(lowered)] if index >= 0 else lowered


def _looks_english(text: str) -> bool:
    words = re.findall(r"[a-zåäö']+", text.lower())
    if not words or any(ch in text.lower() for ch in "åäö"):
        return False
    hits = sum(1 for w in words if w in _ENGLISH_HINT)
    return hits >= 2 or (hits >= 1 and len(words) <= 3)


def _english_query(text: str) -> str:
    words = re.findall(r"[\w'-]+", text)
    kept = [w for w in words if w.lower() not in _ENGLISH_FILLER]
    return " ".join(kept) or text


def _audience_words(text: str, audiences: frozenset[str]) -> str:
    if not audiences:
        return ""
    found = [
        term.surface
        for term in _role_terms(text)
        if term.key in audiences and term.surface.lower() != "alla"
    ]
    return " och ".join(found)


def _role_terms(text: str) -> list[language.Term]:
    content, soft, roles = language._analyse(text)  # noqa: SLF001 - the role surfaces
    return list(roles)


def _strip_opener(text: str) -> str:
    text = _FOLLOW.sub("", text.strip()).strip(" ,")
    text = re.sub(r"\b(?:då|också|även|too|also|instead|istället)\s*\??$", "", text, flags=re.I)
    return text.strip(" ,?") or text


_NIGHT = re.compile(
    r"\b(?:natt\w*|morgon\w*|förmiddag\w*|fm|am|tidigt|night|morning|early|a\.m\.)\b", re.I
)
_DAY = re.compile(
    r"\b(?:eftermiddag\w*|em|pm|kväll\w*|dag\w*|sen\w*|afternoon|evening|p\.m\.)\b", re.I
)


def _clock_choice(plain: str, choices: Sequence[str]) -> str | None:
    """Which of ("03.00", "15.00") an answer picks: "eftermiddag", "15", "på natten"."""
    if len(choices) != 2:
        return None
    night, day = choices
    if _DAY.search(plain):
        return day
    if _NIGHT.search(plain):
        return night
    digits = re.findall(r"\d{1,2}", plain)
    if digits:
        hour = int(digits[0])
        if hour == int(day[:2]):
            return day
        if hour == int(night[:2]) and plain.strip().startswith("0"):
            return night
    return None
