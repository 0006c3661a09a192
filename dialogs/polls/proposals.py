"""The bot's own slot proposals: "föreslå tre tider vecka 36 på förmiddagen"."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from scheduler.clock import STOCKHOLM
from scheduler.swedish import is_klamdag, is_working_day
from scheduler.when import Span, find_week

OFFICE_START, OFFICE_END = 8, 17
DEFAULT_PROPOSALS = 3

_PROPOSE = re.compile(r"\bföresl[åa]\b|\bförslag\b", re.I)
_COUNT = re.compile(
    r"\b(\d+|en|ett|två|tva|tre|fyra|fem|sex)\s+(?:nya\s+)?(?:tider|tid|förslag|alternativ)\b", re.I
)
_COUNT_WORDS = {"en": 1, "ett": 1, "två": 2, "tva": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6}
_MORNING = re.compile(r"\bförmiddag(?:en|ar)?\b|\bfm\b|\bmorgon(?:en)?\b", re.I)
_AFTERNOON = re.compile(r"\beftermiddag(?:en|ar)?\b|\bem\b", re.I)


def asks_for_proposals(text: str) -> bool:
    return bool(_PROPOSE.search(text))


@dataclass(frozen=True)
class ProposalRequest:
    first_day: date
    last_day: date
    count: int
    window: tuple[int, int]  # local hours
    preferred: tuple[int, ...]  # start hours, best first
    where: str  # for the "nothing found" reply


def proposal_request(text: str, now: datetime) -> ProposalRequest:
    """What "föreslå tre tider vecka 36 på förmiddagen" asks for."""
    count = DEFAULT_PROPOSALS
    if match := _COUNT.search(text):
        word = match.group(1).lower()
        count = int(word) if word.isdigit() else _COUNT_WORDS[word]
    count = max(1, min(count, 6))
    week = find_week(text, now)
    if week is not None:
        first, last = week
        where = f"vecka {first.isocalendar().week}"
    else:
        today = now.astimezone(STOCKHOLM).date()
        first, last = today + timedelta(days=1), today + timedelta(days=14)
        where = "de närmaste två veckorna"
    if _MORNING.search(text):
        return ProposalRequest(first, last, count, (OFFICE_START, 12), (9, 8, 10), where)
    if _AFTERNOON.search(text):
        return ProposalRequest(first, last, count, (13, OFFICE_END), (13, 14, 15), where)
    return ProposalRequest(
        first, last, count, (OFFICE_START, OFFICE_END), (9, 13, 10, 14, 8, 15), where
    )


def propose_slots(
    request: ProposalRequest,
    length: timedelta,
    now: datetime,
    busy: Sequence[tuple[datetime, datetime]],
) -> list[Span]:
    """Working days only (no public holiday, midsommar-/jul-/nyårsafton or klämdag), within
    office hours, not clashing with `busy`; spread over the range, earliest first."""
    per_day: list[list[Span]] = []
    day = request.first_day
    while day <= request.last_day:
        if is_working_day(day) and not is_klamdag(day):
            options = []
            for hour in request.preferred:
                start = datetime.combine(day, time(hour), tzinfo=STOCKHOLM)
                end = start + length
                latest = datetime.combine(day, time(request.window[1]), tzinfo=STOCKHOLM)
                if hour < request.window[0] or end > latest or start <= now:
                    continue
                span = Span(start.astimezone(UTC), end.astimezone(UTC))
                if not _clashes(span, busy):
                    options.append(span)
            if options:
                per_day.append(options)
        day += timedelta(days=1)
    chosen: list[Span] = []
    if len(per_day) >= request.count:
        n = len(per_day)
        picks = (
            [0]
            if request.count == 1
            else [round(i * (n - 1) / (request.count - 1)) for i in range(request.count)]
        )
        chosen = [per_day[i][0] for i in sorted(set(picks))]
    else:
        for rank in range(max((len(o) for o in per_day), default=0)):
            for options in per_day:
                if len(chosen) >= request.count:
                    break
                if rank < len(options) and not _clashes(
                    options[rank], [(c.start, c.end) for c in chosen]
                ):
                    chosen.append(options[rank])
    return sorted(chosen, key=lambda s: s.start)[: request.count]


def _clashes(span: Span, busy: Sequence[tuple[datetime, datetime]]) -> bool:
    return any(span.start < end and start < span.end for start, end in busy)


# --- calendar files and links --------------------------------------------------------------
