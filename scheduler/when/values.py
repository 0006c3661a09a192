"""What a parse hands back: a moment, a span, a recurrence, and the refusal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scheduler.timing import occurrences_after

# ---------------------------------------------------------------------------------------------
# Public values


@dataclass(frozen=True)
class When:
    """A single moment, for reminders and deadlines.

    `all_day` is True when only a date was given; `at` is then that date at the default hour
    (09.00 local) and `assumed` says so.
    """

    at: datetime  # aware, UTC
    assumed: str | None
    all_day: bool


@dataclass(frozen=True)
class Span:
    """A meeting slot."""

    start: datetime  # aware, UTC
    end: datetime  # aware, UTC


@dataclass(frozen=True)
class Recurrence:
    """A repeating time. `rule` has no DTSTART; `first` (a matching occurrence) anchors it."""

    rule: str
    first: datetime  # aware, UTC
    description: str

    def occurrences_after(self, after: datetime, count: int = 1) -> list[datetime]:
        """The next `count` occurrences strictly after `after`, as aware UTC datetimes; the
        one recurrence rule of the bot lives in scheduler/timing.py."""
        return occurrences_after(self.rule, self.first, after, count)


@dataclass(frozen=True)
class Parsed:
    """What `parse` understood.

    `matched` is the text understood as time: the original pieces, in order, joined by a space.
    `rest` is the input with those pieces cut out, whitespace collapsed, no space before
    punctuation and stray punctuation trimmed from both ends. Nothing else is removed: "påminn mig
    imorgon kl 9 om att skicka enkäten" gives rest "påminn mig om att skicka enkäten", and the
    caller strips its own command words.
    """

    value: When | Span | Recurrence
    rest: str
    matched: str


class WhenError(Exception):
    """A time expression that is impossible, ambiguous or past; the message is for the user."""
