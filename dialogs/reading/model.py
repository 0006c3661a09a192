"""What a reading is: the intents, the reading of one message and the conversation's memory."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from scheduler.when import Parsed
from storage.embeddings import Vectors
from storage.municipalities import Municipality

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
