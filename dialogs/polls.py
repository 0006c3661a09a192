"""Availability polls for a working group, and the meeting booked from one (issue 8 items 2–6).

"planera spånarmöte för Civilsamhälle" starts a short dialog (title, length, place, candidate
slots written in Swedish or proposed by the bot, last day to answer). The poll card goes to the
group's chat and to each member personally; the shared card is updated in place after every
answer. Members who have not answered are nudged through the reminders capability. At the
deadline, or when everyone has answered, the coordinator gets the ranked result with a "Boka"
button per slot; booking announces the meeting, sends each member an invite (.ics served by the
bot, plus an Outlook on the web link) and schedules the meeting reminders.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from botbuilder.core import BotAdapter, CardFactory, MessageFactory, TurnContext
from botbuilder.dialogs import (
    ComponentDialog,
    Dialog,
    DialogContext,
    DialogTurnResult,
    PromptOptions,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.schema import ConversationReference
from icalendar import Calendar, Event, Timezone, vCalAddress

from dialogs.turn import HelpEntry, Turn, clean_text
from scheduler.clock import STOCKHOLM, Clock
from scheduler.delivery import RETRY, SENT, Outgoing, Recipient, Sender
from scheduler.nudges import NudgeService
from scheduler.swedish import format_span, format_when, is_klamdag, is_working_day
from scheduler.when import Span, WhenError, find_week, parse, parse_duration, parse_slots
from storage.conversations import ConversationRepository
from storage.groups import Group, GroupRepository, Member
from storage.polls import (
    BOOKED,
    CANCELLED,
    CHOICES,
    CLOSED,
    IF_NEEDED,
    NO,
    OPEN,
    TEAMS_MEETING,
    YES,
    AlreadyBooked,
    NewPoll,
    PollClosed,
    PollNotFound,
    PollRepository,
    PollView,
    Voter,
)
from storage.reminders import NOTICE, PERSON, NewReminder, Person

logger = logging.getLogger(__name__)

PLAN_DIALOG = "polls.plan"
DEFAULT_LENGTH_MINUTES = 120
OFFICE_START, OFFICE_END = 8, 17
DEADLINE_HOUR = 17  # a last day to answer without a time ends at the end of the office day
EARLY_NUDGE_HOUR = 9  # two days before the deadline
MORNING_NUDGE_HOUR = 8  # on the morning of the deadline
DEFAULT_PROPOSALS = 3
# The deadline watch looks at least this often, and never more than this seldom.
WATCH_MIN_SECONDS, WATCH_MAX_SECONDS = 30.0, 300.0
# A result claimed this long ago and not delivered is sent again (the sender died, or Teams
# refused for a while); longer than a send can take, retries and rate limits included.
RESULT_LEASE = timedelta(minutes=5)


class Texts:
    HELP_PLAN = HelpEntry(
        "Hitta en mötestid för en arbetsgrupp", "planera spånarmöte för Civilsamhälle"
    )
    HELP_REMIND = HelpEntry(
        "Påminna dem som inte svarat på tidsförslagen", "påminn de som inte svarat"
    )
    HELP_MOVE = HelpEntry("Flytta ett bokat möte", "flytta spånarmötet till tors 3/9 13-15")
    CHOICE = {YES: "Ja", IF_NEEDED: "Om det behövs", NO: "Nej"}

    # planning
    GROUP_NOT_FOUND = "Jag hittar ingen arbetsgrupp som heter ”{name}”. {known}"
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
        "Svar senast {deadline}. Jag påminner dem som inte svarat två dagar före och på "
        "morgonen sista dagen."
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
    PICK = "Välj"
    STATE_CLOSED = "Svarstiden är slut."
    STATE_BOOKED = "Bokat: {when}, {place}."
    STATE_CANCELLED = "Omröstningen är inställd."
    HOURS = "{hours} timmar"
    HOUR = "1 timme"
    MINUTES = "{minutes} minuter"

    # answering
    THANKS = "Tack {name}! Ditt svar för **{title}** är sparat:\n{rows}"
    THANKS_ROW = "• {when}: {choice}"
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


OK_WORDS = frozenset({"ok", "okej", "ja", "japp", "bra", "det blir bra", "standard"})
TEAMS_WORDS = frozenset({"teams", "teams-möte", "teamsmöte", "teams möte", "digitalt", "online"})

_PLAN = re.compile(
    r"^(?:planera|ordna|hitta\s+(?:en\s+)?tid\s+för)\s+(?:ett\s+|en\s+)?(?P<what>.+?)\s+"
    r"(?:för|med)\s+(?:arbetsgrupp(?:en)?\s+|gruppen\s+)?(?P<group>.+)$",
    re.I,
)
_REMIND_MISSING = re.compile(
    r"^påminn\s+(?:de|dem|alla|dom)\s+som\s+inte\s+(?:har\s+)?svarat(?:\s+(?:på|om)\s+.+)?$", re.I
)
_RESULT = re.compile(
    r"^(?:visa\s+)?(?:resultat(?:et)?|omröstning(?:en)?)(?:\s+(?:för|av)\s+.+)?$", re.I
)
_CANCEL = re.compile(r"^(?:ställ\s+in|avboka|stäng)\s+(?P<what>.+)$", re.I)
_MOVE = re.compile(r"^(?:flytta|ändra)\s+(?P<what>.+?)\s+till\s+(?P<when>.+)$", re.I)
_PROPOSE = re.compile(r"\bföresl[åa]\b|\bförslag\b", re.I)
_COUNT = re.compile(
    r"\b(\d+|en|ett|två|tva|tre|fyra|fem|sex)\s+(?:nya\s+)?(?:tider|tid|förslag|alternativ)\b", re.I
)
_COUNT_WORDS = {"en": 1, "ett": 1, "två": 2, "tva": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6}
_MORNING = re.compile(r"\bförmiddag(?:en|ar)?\b|\bfm\b|\bmorgon(?:en)?\b", re.I)
_AFTERNOON = re.compile(r"\beftermiddag(?:en|ar)?\b|\bem\b", re.I)
_WORDS_ABOUT_MEETINGS = re.compile(
    r"\b(?:möte|mötet|omröstning|omröstningen|spånarmöte|spånarmötet)\b", re.I
)


# --- proposing slots -----------------------------------------------------------------------


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


def make_ics(poll: PollView, members: Sequence[Member], now: datetime) -> bytes:
    """The meeting as an iCalendar file: Europe/Stockholm times with their VTIMEZONE, every
    member as an ATTENDEE, a stable UID and a SEQUENCE that grows with each change."""
    meeting = poll.meeting
    assert meeting is not None
    start = meeting.start.astimezone(STOCKHOLM)
    end = meeting.end.astimezone(STOCKHOLM)
    calendar = Calendar()
    calendar.add("prodid", "-//Nätverksboten//Mötesbokning//SV")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if meeting.cancelled else "PUBLISH")
    calendar.add_component(
        Timezone.from_tzid(
            "Europe/Stockholm",
            first_date=date(start.year, 1, 1),
            last_date=date(end.year + 1, 1, 1),
        )
    )
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", f"{poll.title} – {poll.group_name}")
    event.add("location", poll.place)
    event.add("description", Texts.ICS_DESCRIPTION.format(group=poll.group_name))
    event.add("status", "CANCELLED" if meeting.cancelled else "CONFIRMED")
    organizer = vCalAddress(_cal_address(poll.creator.user_id, poll.creator.aad_object_id))
    organizer.params["CN"] = poll.creator.name or poll.creator.user_id
    event.add("organizer", organizer)
    for member in members:
        attendee = vCalAddress(_cal_address(member.user_id, member.aad_object_id))
        attendee.params["CN"] = member.name or member.user_id
        attendee.params["ROLE"] = "REQ-PARTICIPANT"
        attendee.params["PARTSTAT"] = "NEEDS-ACTION"
        event.add("attendee", attendee)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def _cal_address(user_id: str, aad_object_id: str | None) -> str:
    # Group members are known by their Entra (AAD) object id, not an e-mail address.
    return (
        f"urn:x-entra-object-id:{aad_object_id}" if aad_object_id else f"urn:x-teams-user:{user_id}"
    )


def outlook_link(poll: PollView) -> str:
    meeting = poll.meeting
    assert meeting is not None
    query = urlencode(
        {
            "subject": f"{poll.title} – {poll.group_name}",
            "startdt": meeting.start.astimezone(STOCKHOLM).isoformat(),
            "enddt": meeting.end.astimezone(STOCKHOLM).isoformat(),
            "location": poll.place,
            "body": Texts.ICS_DESCRIPTION.format(group=poll.group_name),
        },
        quote_via=quote,
    )
    return f"https://outlook.office.com/calendar/0/deeplink/compose?{query}"


# --- cards ---------------------------------------------------------------------------------


def _length_text(minutes: int) -> str:
    if minutes % 60 == 0:
        return Texts.HOUR if minutes == 60 else Texts.HOURS.format(hours=minutes // 60)
    return Texts.MINUTES.format(minutes=minutes)


def _people(count: int) -> str:
    return Texts.ONE_PERSON if count == 1 else Texts.PEOPLE.format(count=count)


def _names(names: Sequence[str]) -> str:
    names = list(names)
    if not names:
        return Texts.NOBODY
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + Texts.AND + names[-1]


def _missing(poll: PollView, members: Sequence[Member]) -> list[Member]:
    answered = poll.answered()
    return [m for m in members if m.user_id not in answered]


def _text_block(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


def _card(
    body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def _state_line(poll: PollView) -> str | None:
    if poll.status == BOOKED and poll.meeting is not None:
        return Texts.STATE_BOOKED.format(
            when=format_span(poll.meeting.start, poll.meeting.end), place=poll.place
        )
    if poll.status == CANCELLED:
        return Texts.STATE_CANCELLED
    if poll.status == CLOSED:
        return Texts.STATE_CLOSED
    return None


def poll_card(
    poll: PollView, members: Sequence[Member], *, answering: bool = True
) -> dict[str, Any]:
    """The poll: facts, per slot who said what (and a choice to make), who has not answered."""
    title = Texts.CARD_TITLE.format(title=poll.title, group=poll.group_name)
    body: list[dict[str, Any]] = [
        _text_block(title, weight="Bolder", size="Medium"),
        {
            "type": "FactSet",
            "facts": [
                {"title": Texts.FACT_LENGTH, "value": _length_text(poll.length_minutes)},
                {"title": Texts.FACT_PLACE, "value": poll.place},
                {"title": Texts.FACT_DEADLINE, "value": format_when(poll.deadline)},
                {"title": Texts.FACT_BY, "value": poll.creator.name or poll.creator.user_id},
            ],
        },
    ]
    state = _state_line(poll)
    open_now = poll.status == OPEN and answering
    if state:
        body.append(_text_block(state, weight="Bolder", color="Accent"))
    elif open_now:
        body.append(_text_block(Texts.CARD_INTRO, isSubtle=True))
    for slot in poll.slots:
        names = poll.names_by_choice(slot.id)
        items: list[dict[str, Any]] = [
            _text_block(format_span(slot.start, slot.end), weight="Bolder"),
            *(
                _text_block(
                    Texts.ANSWER_ROW.format(
                        choice=Texts.CHOICE[choice],
                        count=len(names[choice]),
                        names=_names(names[choice]),
                    ),
                    spacing="None",
                    size="Small",
                )
                for choice in CHOICES
            ),
        ]
        if open_now:
            items.append(
                {
                    "type": "Input.ChoiceSet",
                    "id": f"slot_{slot.id}",
                    "style": "expanded",
                    "isMultiSelect": False,
                    "label": Texts.PICK,
                    "choices": [{"title": Texts.CHOICE[c], "value": c} for c in CHOICES],
                }
            )
        body.append({"type": "Container", "separator": True, "spacing": "Medium", "items": items})
    missing = _missing(poll, members)
    body.append(
        _text_block(
            Texts.NOT_ANSWERED.format(
                count=len(missing), names=_names([m.name or m.user_id for m in missing])
            )
            if missing
            else Texts.ALL_ANSWERED,
            separator=True,
            isSubtle=True,
        )
    )
    actions = (
        [
            {
                "type": "Action.Submit",
                "title": Texts.SUBMIT,
                "data": {"action": "polls.answer", "poll": poll.id},
            }
        ]
        if open_now
        else None
    )
    return _card(body, actions)


def poll_text(poll: PollView, members: Sequence[Member]) -> str:
    """The same content as text, for channels without cards and for notification previews."""
    lines = [f"**{Texts.CARD_TITLE.format(title=poll.title, group=poll.group_name)}**"]
    lines.append(f"{Texts.FACT_DEADLINE}: {format_when(poll.deadline)}")
    for slot in poll.slots:
        names = poll.names_by_choice(slot.id)
        counts = ", ".join(f"{Texts.CHOICE[c]} {len(names[c])}" for c in CHOICES)
        lines.append(f"• {format_span(slot.start, slot.end)}: {counts}")
    return "\n".join(lines)


def result_rows(poll: PollView) -> list[str]:
    return [
        Texts.RESULT_ROW.format(
            n=n,
            when=format_span(r.slot.start, r.slot.end),
            yes=r.yes,
            if_needed=r.if_needed,
            no=r.no,
        )
        for n, r in enumerate(poll.ranked(), start=1)
    ]


def result_card(
    poll: PollView, members: Sequence[Member], headline: str, *, bookable: bool
) -> dict[str, Any]:
    """Slots ranked by Ja, then Ja + Om det behövs, then earliest; a "Boka" button per slot."""
    body: list[dict[str, Any]] = [
        _text_block(
            Texts.RESULT_TITLE.format(title=poll.title, group=poll.group_name),
            weight="Bolder",
            size="Medium",
        ),
        _text_block(headline),
    ]
    for row, ranked in zip(result_rows(poll), poll.ranked(), strict=True):
        items: list[dict[str, Any]] = [_text_block(row)]
        if bookable:
            items.append(
                {
                    "type": "ActionSet",
                    "actions": [
                        {
                            "type": "Action.Submit",
                            "title": Texts.BOOK,
                            "data": {
                                "action": "polls.book",
                                "poll": poll.id,
                                "slot": ranked.slot.id,
                            },
                        }
                    ],
                }
            )
        body.append({"type": "Container", "separator": True, "items": items})
    actions = None
    if bookable:
        body.append(_text_block(Texts.RESULT_PICK, isSubtle=True))
        actions = [
            {
                "type": "Action.Submit",
                "title": Texts.CANCEL,
                "data": {"action": "polls.cancel", "poll": poll.id},
            }
        ]
    return _card(body, actions)


def invite_card(poll: PollView, ics_url: str, *, moved: bool) -> dict[str, Any]:
    meeting = poll.meeting
    assert meeting is not None
    title = (Texts.INVITE_MOVED_TITLE if moved else Texts.INVITE_TITLE).format(title=poll.title)
    body = [
        _text_block(title, weight="Bolder", size="Medium"),
        _text_block(
            Texts.INVITE_BODY.format(
                when=format_span(meeting.start, meeting.end),
                place=poll.place,
                group=poll.group_name,
            )
        ),
    ]
    actions = [
        {"type": "Action.OpenUrl", "title": Texts.ADD_ICS, "url": ics_url},
        {"type": "Action.OpenUrl", "title": Texts.OPEN_OUTLOOK, "url": outlook_link(poll)},
    ]
    return _card(body, actions)


# --- the capability ------------------------------------------------------------------------


class Polls:
    name = "polls"
    help: Sequence[HelpEntry] = (Texts.HELP_PLAN, Texts.HELP_REMIND, Texts.HELP_MOVE)

    def __init__(
        self,
        polls: PollRepository,
        groups: GroupRepository,
        nudges: NudgeService,
        sender: Sender,
        adapter: BotAdapter,
        conversations: ConversationRepository,
        clock: Clock,
        *,
        app_id: str,
        public_url: str,
        coordinators: frozenset[str] = frozenset(),
    ) -> None:
        self._polls = polls
        self._groups = groups
        self._nudges = nudges
        self._sender = sender
        self._adapter = adapter
        self._conversations = conversations
        self._clock = clock
        self._app_id = app_id
        self._public_url = public_url.rstrip("/")
        self._coordinators = coordinators
        # Shared-card refreshes in flight in this process, and polls changed meanwhile.
        self._refreshing: set[int] = set()
        self._dirty: set[int] = set()
        self._watch: asyncio.Task[None] | None = None

    def dialogs(self) -> Sequence[Dialog]:
        return (PlanPollDialog(self, self._clock),)

    # --- lifetime ------------------------------------------------------------------------
    def start(self) -> None:
        """Watches deadlines: closes due polls and sends their results (bot.py calls this)."""
        self._watch = asyncio.get_running_loop().create_task(self._watch_deadlines())

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None

    async def _watch_deadlines(self) -> None:
        while True:
            try:
                await self.close_due()
                following = await asyncio.to_thread(self._polls.next_deadline)
            except Exception:  # the database may be down for a moment; look again later
                logger.exception("poll deadline watch failed")
                following = None
            wait = WATCH_MAX_SECONDS
            if following is not None:
                seconds = (following - self._clock.now()).total_seconds()
                wait = min(max(seconds, WATCH_MIN_SECONDS), WATCH_MAX_SECONDS)
            await asyncio.sleep(wait)

    async def close_due(self) -> int:
        """Closes every poll whose deadline has passed; the coordinator gets the result."""
        closed = await asyncio.to_thread(self._polls.close_due, self._clock.now())
        for poll, needs_result in closed:
            members = await self._members(poll)
            await self._cancel_nudges(poll, members)
            await self.refresh_shared(poll.id)
            if needs_result:
                answered = len([m for m in members if m.user_id in poll.answered()])
                headline = Texts.RESULT_DEADLINE.format(
                    deadline=format_when(poll.deadline), answered=answered, count=len(members)
                )
                await self._send_result(poll, members, headline)
        await self.resend_results()
        return len(closed)

    # --- routing -------------------------------------------------------------------------
    async def handle(self, turn: Turn) -> bool:
        action = turn.action
        if action and action.startswith("polls."):
            await self._on_submit(turn, action.split(".", 1)[1], turn.value or {})
            return True
        text = turn.text.strip().rstrip(".!?")
        if not text:
            return False
        if match := _PLAN.match(text):
            await self._plan(turn, match.group("what"), match.group("group"))
            return True
        if _REMIND_MISSING.match(text):
            await self._remind_missing(turn)
            return True
        if _RESULT.match(text):
            return await self._show_result(turn)
        if (match := _MOVE.match(text)) and _WORDS_ABOUT_MEETINGS.search(match.group("what")):
            await self._move(turn, match.group("when"))
            return True
        if (match := _CANCEL.match(text)) and _WORDS_ABOUT_MEETINGS.search(match.group("what")):
            await self._cancel_latest(turn)
            return True
        return False

    async def _on_submit(self, turn: Turn, verb: str, value: dict[str, Any]) -> None:
        poll_id = _as_int(value.get("poll"))
        poll = await asyncio.to_thread(self._polls.get, poll_id) if poll_id is not None else None
        if poll is None:
            await turn.reply(Texts.GONE)
            return
        if verb == "answer":
            await self._answer(turn, poll, value)
        elif verb == "book":
            await self._book(turn, poll, _as_int(value.get("slot")))
        elif verb == "cancel":
            await self._cancel(turn, poll)
        else:
            await turn.reply(Texts.GONE)

    # --- planning ------------------------------------------------------------------------
    async def _plan(self, turn: Turn, what: str, group_name: str) -> None:
        group = await asyncio.to_thread(self._groups.find, group_name.strip(), turn.tenant_id)
        if group is None:
            groups = await asyncio.to_thread(self._groups.all, turn.tenant_id)
            known = (
                Texts.KNOWN.format(names=", ".join(g.name for g in groups))
                if groups
                else Texts.NO_GROUPS
            )
            await turn.reply(Texts.GROUP_NOT_FOUND.format(name=group_name.strip(), known=known))
            return
        if not (turn.is_coordinator or group.is_creator(turn.user.id, turn.user.aad_object_id)):
            await turn.reply(Texts.ONLY_COORDINATORS.format(group=group.name))
            return
        title = what.strip()
        await turn.begin_dialog(
            PLAN_DIALOG,
            {
                "group_id": group.id,
                "group_name": group.name,
                "title": title[:1].upper() + title[1:],
                "tenant_id": turn.tenant_id,
                "creator_id": turn.user.id,
                "creator_name": turn.user.name,
                "creator_aad": turn.user.aad_object_id,
            },
        )

    async def slots_from_text(
        self, text: str, length: timedelta, group_id: int
    ) -> tuple[list[Span], str | None]:
        """Written slots, or the bot's proposals when asked; else the reason for the user."""
        now = self._clock.now()
        if _PROPOSE.search(text):
            request = proposal_request(text, now)
            window_start = datetime.combine(request.first_day, time(0), tzinfo=STOCKHOLM)
            window_end = datetime.combine(
                request.last_day + timedelta(days=1), time(0), tzinfo=STOCKHOLM
            )
            busy = await asyncio.to_thread(
                self._polls.booked_meetings, group_id, window_start, window_end
            )
            slots = propose_slots(request, length, now, busy)
            if not slots:
                return [], Texts.NO_PROPOSALS.format(where=request.where)
            return slots, None
        try:
            slots = parse_slots(text, now, default_length=length)
        except WhenError as error:
            return [], Texts.BAD_SLOTS.format(error=error)
        if not slots:
            return [], Texts.NO_SLOTS
        return sorted(set(slots), key=lambda s: s.start), None

    async def open_poll(self, context: TurnContext, new: NewPoll) -> None:
        """Stores the poll, posts the shared card, sends it to each member, plans the nudges."""
        now = self._clock.now()
        poll = await asyncio.to_thread(self._polls.create, new, now)
        group = await asyncio.to_thread(self._groups.get, new.group_id)
        members = list(group.members) if group else []
        card, fallback = poll_card(poll, members), poll_text(poll, members)
        turn = Turn(context, now=now, coordinators=self._coordinators)
        here = context.activity.conversation.id
        target = group.conversation_id if group and group.conversation_id else here
        if target == here:
            activity_id = await turn.reply_card(card, fallback)
        else:
            sent = await self._sender.send(
                Outgoing(Recipient(conversation_id=target, tenant_id=new.tenant_id), fallback, card)
            )
            activity_id = sent.activity_id if sent.outcome == SENT else None
        await asyncio.to_thread(self._polls.set_card, poll.id, target, activity_id)
        unreached = await self._send_personally(poll, members, card, fallback)
        await self._plan_nudges(poll, members, now)
        await turn.reply(
            Texts.OPENED.format(
                title=poll.title,
                people=_people(len(members)),
                group=poll.group_name,
                deadline=format_when(poll.deadline),
            )
        )
        if unreached:
            await turn.reply(
                Texts.UNREACHED.format(names=_names([m.name or m.user_id for m in unreached]))
            )

    async def _send_personally(
        self, poll: PollView, members: Sequence[Member], card: dict[str, Any], text: str
    ) -> list[Member]:
        async def one(member: Member) -> Member | None:
            try:
                result = await self._sender.send(Outgoing(self._to(member, poll), text, card))
            except Exception:  # one unreachable member must not stop the others
                logger.warning("could not send a poll card personally", exc_info=True)
                return member
            return None if result.outcome == SENT else member

        results = await asyncio.gather(*(one(m) for m in members))
        return [m for m in results if m is not None]

    def _to(self, member: Member, poll: PollView) -> Recipient:
        return Recipient(
            user_id=member.user_id,
            aad_object_id=member.aad_object_id,
            name=member.name,
            tenant_id=poll.tenant_id,
        )

    async def _plan_nudges(self, poll: PollView, members: Sequence[Member], now: datetime) -> None:
        last_day = poll.deadline.astimezone(STOCKHOLM).date()
        moments = [
            datetime.combine(
                last_day - timedelta(days=2), time(EARLY_NUDGE_HOUR), tzinfo=STOCKHOLM
            ),
            datetime.combine(last_day, time(MORNING_NUDGE_HOUR), tzinfo=STOCKHOLM),
        ]
        text = Texts.NUDGE.format(
            title=poll.title, group=poll.group_name, deadline=format_when(poll.deadline)
        )
        owner = Person(poll.creator.user_id, poll.creator.name, poll.creator.aad_object_id)
        for member in members:
            for moment in moments:
                at = moment.astimezone(UTC)
                if not now < at < poll.deadline:
                    continue
                await self._nudges.add(
                    NewReminder(
                        owner=owner,
                        audience=PERSON,
                        person=Person(member.user_id, member.name, member.aad_object_id),
                        kind=NOTICE,
                        text=text,
                        due_at=at,
                        tenant_id=poll.tenant_id,
                        key=_nudge_key(poll.id, member.user_id),
                    )
                )

    async def _cancel_nudges(self, poll: PollView, members: Sequence[Member]) -> None:
        for member in members:
            await self._nudges.cancel_key(_nudge_key(poll.id, member.user_id))

    # --- answering -----------------------------------------------------------------------
    async def _answer(self, turn: Turn, poll: PollView, value: dict[str, Any]) -> None:
        group = await self._group(poll)
        members = list(group.members) if group else []
        if group is None or not group.has_member(turn.user.id, turn.user.aad_object_id):
            await turn.reply(
                Texts.NOT_MEMBER.format(
                    group=poll.group_name, creator=poll.creator.name or poll.creator.user_id
                )
            )
            return
        choices: dict[int, str] = {}
        for key, choice in value.items():
            slot_id = _as_int(key[len("slot_") :]) if key.startswith("slot_") else None
            if slot_id is not None and choice in CHOICES:
                choices[slot_id] = choice
        if not choices:
            await turn.reply(Texts.NO_CHOICES)
            return
        # The member as the group knows them: the same person from another client or chat.
        member = next(
            (
                m
                for m in members
                if m.user_id == turn.user.id
                or (turn.user.aad_object_id and m.aad_object_id == turn.user.aad_object_id)
            ),
            Member(turn.user.id, turn.user.name, turn.user.aad_object_id),
        )
        voter = Voter(member.user_id, member.name or turn.user.name, member.aad_object_id)
        try:
            submitted = await asyncio.to_thread(
                self._polls.submit, poll.id, voter, choices, self._clock.now()
            )
        except PollClosed as closed:
            await turn.reply(self._closed_text(closed.poll))
            return
        except PollNotFound:
            await turn.reply(Texts.GONE)
            return
        poll = submitted.poll
        if submitted.first_time:
            await self._nudges.cancel_key(_nudge_key(poll.id, member.user_id))
        if submitted.changed:
            await self.refresh_shared(poll.id)
        if turn.is_personal:
            rows = [
                Texts.THANKS_ROW.format(
                    when=format_span(s.start, s.end),
                    choice=Texts.CHOICE[poll.choice_of(member.user_id, s.id) or NO],
                )
                for s in poll.slots
                if poll.choice_of(member.user_id, s.id)
            ]
            first = (turn.user.name or member.name).split(" ")[0]
            await turn.reply(
                Texts.THANKS.format(name=first, title=poll.title, rows="\n".join(rows))
            )
        if members and not _missing(poll, members):
            claimed = await asyncio.to_thread(self._polls.claim_result, poll.id, self._clock.now())
            if claimed is not None:
                await self._send_result(
                    claimed, members, Texts.RESULT_ALL.format(count=len(members))
                )

    def _closed_text(self, poll: PollView) -> str:
        if poll.status == BOOKED and poll.meeting is not None:
            return Texts.NOW_BOOKED.format(
                title=poll.title,
                when=format_span(poll.meeting.start, poll.meeting.end),
                place=poll.place,
            )
        if poll.status == CANCELLED:
            return Texts.NOW_CANCELLED.format(title=poll.title)
        return Texts.LATE.format(
            title=poll.title, deadline=format_when(poll.deadline), rows="\n".join(result_rows(poll))
        )

    async def refresh_shared(self, poll_id: int) -> None:
        """Puts the newest state on the shared card.

        Races end on the newest state: in this process one refresh runs per poll and a change
        meanwhile makes it go round again; across processes, a refresh that finds the poll's
        version moved on after its PUT goes round again, so the last PUT always shows the last
        committed answer.
        """
        if poll_id in self._refreshing:
            self._dirty.add(poll_id)
            return
        self._refreshing.add(poll_id)
        try:
            while True:
                self._dirty.discard(poll_id)
                poll = await asyncio.to_thread(self._polls.get, poll_id)
                if poll is None or not poll.conversation_id or not poll.activity_id:
                    return
                members = await self._members(poll)
                await self._put_card(
                    poll.conversation_id, poll.activity_id, poll_card(poll, members)
                )
                current = await asyncio.to_thread(self._polls.version, poll_id)
                if current == poll.version and poll_id not in self._dirty:
                    return
        finally:
            self._refreshing.discard(poll_id)

    async def _put_card(self, conversation_id: str, activity_id: str, card: dict[str, Any]) -> None:
        stored = await asyncio.to_thread(self._conversations.get, conversation_id)
        if stored is None:
            logger.warning(
                "no conversation reference for a poll card",
                extra={"conversation_id": conversation_id},
            )
            return
        reference = ConversationReference().deserialize(json.loads(stored.reference))
        reference.activity_id = None

        async def callback(context: TurnContext) -> None:
            # Caught here: from the adapter an error would reach on_turn_error, which would
            # apologise into the group's chat for a card the group never asked about.
            try:
                activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
                activity.id = activity_id
                await context.update_activity(activity)
            except Exception:
                logger.warning(
                    "could not update a poll card",
                    exc_info=True,
                    extra={"conversation_id": conversation_id, "activity_id": activity_id},
                )

        await self._adapter.continue_conversation(reference, callback, bot_app_id=self._app_id)

    # --- nudging by hand -----------------------------------------------------------------
    async def _remind_missing(self, turn: Turn) -> None:
        poll = await asyncio.to_thread(
            lambda: self._polls.latest_open(
                turn.tenant_id, conversation_id=turn.conversation_id, user_id=turn.user.id
            )
        )
        if poll is None:
            await turn.reply(Texts.NO_OPEN_POLL)
            return
        group = await self._group(poll)
        if not self._may_manage(turn, poll, group):
            await turn.reply(Texts.ONLY_COORDINATORS.format(group=poll.group_name))
            return
        members = list(group.members) if group else []
        missing = _missing(poll, members)
        if not missing:
            await turn.reply(Texts.NOBODY_MISSING.format(group=poll.group_name, title=poll.title))
            return
        card = poll_card(poll, members)
        card["body"].insert(
            0,
            _text_block(
                Texts.NUDGE_NOW.format(
                    who=turn.user.name or poll.creator.name,
                    title=poll.title,
                    deadline=format_when(poll.deadline),
                ),
                color="Attention",
            ),
        )
        unreached = await self._send_personally(poll, missing, card, poll_text(poll, members))
        reached = [m for m in missing if m not in unreached]
        await turn.reply(
            Texts.REMINDED.format(
                people=_people(len(reached)), names=_names([m.name or m.user_id for m in reached])
            )
        )

    # --- result and booking --------------------------------------------------------------
    async def _show_result(self, turn: Turn) -> bool:
        poll = await asyncio.to_thread(
            lambda: self._polls.latest_active(
                turn.tenant_id, conversation_id=turn.conversation_id, user_id=turn.user.id
            )
        )
        if poll is None:
            await turn.reply(Texts.NO_OPEN_POLL)
            return True
        group = await self._group(poll)
        members = list(group.members) if group else []
        answered = len([m for m in members if m.user_id in poll.answered()])
        headline = Texts.RESULT_SO_FAR.format(answered=answered, count=len(members))
        bookable = poll.status in (OPEN, CLOSED) and self._may_manage(turn, poll, group)
        card = result_card(poll, members, headline, bookable=bookable)
        await turn.reply_card(card, "\n".join([headline, *result_rows(poll)]))
        return True

    async def resend_results(self) -> int:
        """Results claimed but not delivered (the bot died mid-send, Teams refused for a while)
        go out again once their claim is RESULT_LEASE old; the watch loop calls this."""
        now = self._clock.now()
        pending = await asyncio.to_thread(self._polls.results_to_resend, now, RESULT_LEASE)
        for poll in pending:
            members = await self._members(poll)
            if poll.status == OPEN:
                headline = Texts.RESULT_ALL.format(count=len(members))
            else:
                answered = len([m for m in members if m.user_id in poll.answered()])
                headline = Texts.RESULT_DEADLINE.format(
                    deadline=format_when(poll.deadline), answered=answered, count=len(members)
                )
            await self._send_result(poll, members, headline)
        return len(pending)

    async def _send_result(self, poll: PollView, members: Sequence[Member], headline: str) -> None:
        """The result to the coordinator; recorded as delivered only when it arrived (or the
        coordinator is gone for good), else resend_results tries again."""
        card = result_card(poll, members, headline, bookable=True)
        text = "\n".join(
            [
                Texts.RESULT_TITLE.format(title=poll.title, group=poll.group_name),
                headline,
                *result_rows(poll),
            ]
        )
        creator = Member(poll.creator.user_id, poll.creator.name, poll.creator.aad_object_id)
        result = await self._sender.send(Outgoing(self._to(creator, poll), text, card))
        if result.outcome == RETRY:
            logger.warning("poll result not sent yet", extra={"status": result.status})
            return
        if result.outcome != SENT:
            logger.warning("poll result cannot be delivered", extra={"status": result.status})
        await asyncio.to_thread(self._polls.mark_result_delivered, poll.id, self._clock.now())

    async def _book(self, turn: Turn, poll: PollView, slot_id: int | None) -> None:
        group = await self._group(poll)
        if not self._may_manage(turn, poll, group):
            await turn.reply(Texts.ONLY_COORDINATORS.format(group=poll.group_name))
            return
        if slot_id is None:
            await turn.reply(Texts.GONE)
            return
        try:
            booked, first = await asyncio.to_thread(
                self._polls.book, poll.id, slot_id, self._clock.now()
            )
        except AlreadyBooked as already:
            await turn.reply(self._already_booked(already.poll))
            return
        except PollClosed as closed:
            await turn.reply(Texts.ALREADY_CANCELLED.format(title=closed.poll.title))
            return
        except PollNotFound:
            await turn.reply(Texts.GONE)
            return
        if not first:
            await turn.reply(self._already_booked(booked))
            return
        members = list(group.members) if group else []
        await self._cancel_nudges(booked, members)
        count = await self._announce_meeting(booked, members, moved=False)
        meeting = booked.meeting
        assert meeting is not None
        await turn.reply(
            Texts.BOOKED.format(
                title=booked.title,
                when=format_span(meeting.start, meeting.end),
                place=booked.place,
                people=_people(count),
            )
        )

    def _already_booked(self, poll: PollView) -> str:
        meeting = poll.meeting
        assert meeting is not None
        return Texts.ALREADY_BOOKED.format(
            title=poll.title, when=format_span(meeting.start, meeting.end), lower=poll.title.lower()
        )

    async def _announce_meeting(
        self, poll: PollView, members: Sequence[Member], *, moved: bool
    ) -> int:
        """Reminders, the shared card, the group's chat and an invite per member; returns how
        many members got their invite."""
        meeting = poll.meeting
        assert meeting is not None
        key = _meeting_key(poll.id)
        await self._nudges.cancel_key(key)
        await self._nudges.add_meeting_reminders(
            key=key,
            title=poll.title,
            start=meeting.start,
            owner=Person(poll.creator.user_id, poll.creator.name, poll.creator.aad_object_id),
            group_id=poll.group_id,
            group_name=poll.group_name,
            tenant_id=poll.tenant_id,
            conversation_id=poll.conversation_id,
        )
        await self.refresh_shared(poll.id)
        when = format_span(meeting.start, meeting.end)
        announce = (Texts.ANNOUNCE_MOVED if moved else Texts.ANNOUNCE).format(
            title=poll.title, group=poll.group_name, when=when, place=poll.place
        )
        await self._post_in_group(poll, announce)
        card = invite_card(poll, self.ics_url(meeting.ics_token), moved=moved)
        text = "\n".join([announce, self.ics_url(meeting.ics_token)])
        unreached = await self._send_personally(poll, members, card, text)
        return len(members) - len(unreached)

    async def _post_in_group(self, poll: PollView, text: str) -> None:
        if not poll.conversation_id:
            return
        result = await self._sender.send(
            Outgoing(
                Recipient(conversation_id=poll.conversation_id, tenant_id=poll.tenant_id), text
            )
        )
        if result.outcome != SENT:
            logger.warning("could not post in the group's chat", extra={"status": result.status})

    def ics_url(self, token: str) -> str:
        return f"{self._public_url}/ics/{token}.ics"

    async def ics(self, token: str) -> bytes | None:
        """The .ics of a booked meeting, for the bot's GET /ics/{token}.ics route."""
        poll = await asyncio.to_thread(self._polls.by_token, token)
        if poll is None or poll.meeting is None:
            return None
        members = await self._members(poll)
        return make_ics(poll, members, self._clock.now())

    # --- cancelling and moving -----------------------------------------------------------
    async def _cancel_latest(self, turn: Turn) -> None:
        poll = await asyncio.to_thread(
            lambda: self._polls.latest_active(
                turn.tenant_id, conversation_id=turn.conversation_id, user_id=turn.user.id
            )
        )
        if poll is None:
            await turn.reply(Texts.NO_POLL)
            return
        await self._cancel(turn, poll)

    async def _cancel(self, turn: Turn, poll: PollView) -> None:
        group = await self._group(poll)
        if not self._may_manage(turn, poll, group):
            await turn.reply(Texts.ONLY_COORDINATORS.format(group=poll.group_name))
            return
        try:
            cancelled = await asyncio.to_thread(self._polls.cancel, poll.id, self._clock.now())
        except PollClosed:
            await turn.reply(Texts.ALREADY_CANCELLED.format(title=poll.title))
            return
        members = list(group.members) if group else []
        await self._cancel_nudges(cancelled, members)
        await self._nudges.cancel_key(_meeting_key(cancelled.id))
        await self.refresh_shared(cancelled.id)
        announce = Texts.ANNOUNCE_CANCELLED.format(
            title=cancelled.title, group=cancelled.group_name
        )
        await self._post_in_group(cancelled, announce)
        if cancelled.meeting is not None:
            # They may have the meeting in their calendars: the same URL now says CANCELLED.
            text = "\n".join([announce, self.ics_url(cancelled.meeting.ics_token)])
            await asyncio.gather(
                *(self._sender.send(Outgoing(self._to(m, cancelled), text)) for m in members)
            )
        await turn.reply(Texts.CANCELLED.format(title=cancelled.title))

    async def _move(self, turn: Turn, when_text: str) -> None:
        poll = await asyncio.to_thread(
            lambda: self._polls.latest_active(
                turn.tenant_id, conversation_id=turn.conversation_id, user_id=turn.user.id
            )
        )
        if poll is None:
            await turn.reply(Texts.NO_POLL)
            return
        group = await self._group(poll)
        if not self._may_manage(turn, poll, group):
            await turn.reply(Texts.ONLY_COORDINATORS.format(group=poll.group_name))
            return
        if poll.status != BOOKED:
            await turn.reply(Texts.NOT_BOOKED.format(title=poll.title))
            return
        try:
            slots = parse_slots(
                when_text, self._clock.now(), default_length=timedelta(minutes=poll.length_minutes)
            )
        except WhenError as error:
            await turn.reply(Texts.BAD_SLOTS.format(error=error))
            return
        if len(slots) != 1:
            await turn.reply(Texts.MOVE_ONE.format(lower=poll.title.lower()))
            return
        try:
            moved = await asyncio.to_thread(
                self._polls.move, poll.id, slots[0].start, slots[0].end, self._clock.now()
            )
        except PollClosed:
            await turn.reply(Texts.NOT_BOOKED.format(title=poll.title))
            return
        members = list(group.members) if group else []
        await self._announce_meeting(moved, members, moved=True)
        await turn.reply(
            Texts.MOVED.format(title=moved.title, when=format_span(slots[0].start, slots[0].end))
        )

    # --- helpers -------------------------------------------------------------------------
    async def _group(self, poll: PollView) -> Group | None:
        if poll.group_id is None:
            return None
        return await asyncio.to_thread(self._groups.get, poll.group_id)

    async def _members(self, poll: PollView) -> list[Member]:
        group = await self._group(poll)
        return list(group.members) if group else []

    def _may_manage(self, turn: Turn, poll: PollView, group: Group | None) -> bool:
        if turn.is_coordinator or turn.user.id == poll.creator.user_id:
            return True
        return group is not None and group.is_creator(turn.user.id, turn.user.aad_object_id)


def _nudge_key(poll_id: int, user_id: str) -> str:
    return f"poll:{poll_id}:nudge:{user_id}"


def _meeting_key(poll_id: int) -> str:
    return f"poll:{poll_id}:meeting"


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- the planning dialog -------------------------------------------------------------------


def _words(context: TurnContext) -> str:
    return clean_text(context.activity).strip()


def _is_ok(text: str) -> bool:
    return text.strip().lower().rstrip(".!") in OK_WORDS


def _length(text: str) -> int | None:
    """Minutes from "2 timmar", "90 minuter", "1,5 h", a bare "2" (hours) or "ok"."""
    if _is_ok(text):
        return DEFAULT_LENGTH_MINUTES
    plain = text.strip().replace(",", ".")
    if re.fullmatch(r"\d+(?:\.\d+)?", plain):
        number = float(plain)
        minutes = number * 60 if number <= 8 else number
    else:
        found = parse_duration(text)
        if found is None:
            return None
        minutes = found.total_seconds() / 60
    return int(minutes) if 15 <= minutes <= 8 * 60 else None


def default_deadline(first_start: datetime, now: datetime) -> datetime | None:
    """17.00 on the second working day before the first slot, else the one before."""
    day = first_start.astimezone(STOCKHOLM).date()
    found: list[datetime] = []
    while len(found) < 2 and day > now.astimezone(STOCKHOLM).date() - timedelta(days=1):
        day -= timedelta(days=1)
        if is_working_day(day):
            moment = datetime.combine(day, time(DEADLINE_HOUR), tzinfo=STOCKHOLM).astimezone(UTC)
            if now < moment <= first_start:
                found.append(moment)
    return found[-1] if found else None


def deadline_from_text(
    text: str, now: datetime, first_start: datetime
) -> tuple[datetime | None, str | None]:
    if _is_ok(text):
        default = default_deadline(first_start, now)
        return (default, None) if default else (None, Texts.DEADLINE_PAST)
    try:
        parsed = parse(text, now)
    except WhenError as error:
        return None, Texts.BAD_DEADLINE.format(error=error)
    if parsed is None:
        return None, Texts.BAD_DEADLINE.format(error="Jag hittade inget datum.")
    value = parsed.value
    at = getattr(value, "at", None) or getattr(value, "start", None)
    if at is None:
        return None, Texts.BAD_DEADLINE.format(error="Jag hittade inget datum.")
    if getattr(value, "all_day", False):
        day = at.astimezone(STOCKHOLM).date()
        at = datetime.combine(day, time(DEADLINE_HOUR), tzinfo=STOCKHOLM).astimezone(UTC)
    if at <= now:
        return None, Texts.DEADLINE_PAST
    if at > first_start:
        return None, Texts.DEADLINE_AFTER_SLOT.format(first=format_when(first_start))
    return at, None


class PlanPollDialog(ComponentDialog):  # type: ignore[misc]  # botbuilder has no types
    """Title, length, place, slots, last day to answer; then the poll goes out."""

    def __init__(self, polls: Polls, clock: Clock) -> None:
        super().__init__(PLAN_DIALOG)
        self._polls = polls
        self._clock = clock
        self.add_dialog(TextPrompt("polls.title", self._any_text))
        self.add_dialog(TextPrompt("polls.length", self._is_length))
        self.add_dialog(TextPrompt("polls.place", self._any_text))
        self.add_dialog(TextPrompt("polls.slots", self._are_slots))
        self.add_dialog(TextPrompt("polls.deadline", self._is_deadline))
        self.add_dialog(
            WaterfallDialog(
                "polls.plan.steps",
                [
                    self.ask_title,
                    self.ask_length,
                    self.ask_place,
                    self.ask_slots,
                    self.ask_deadline,
                    self.open_poll,
                ],
            )
        )
        self.initial_dialog_id = "polls.plan.steps"

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        # A card submit in the same chat (someone answering another poll) is not a reply to
        # this dialog's question: answer it and keep waiting.
        value = inner_dc.context.activity.value
        if isinstance(value, dict) and isinstance(value.get("action"), str):
            turn = Turn(
                inner_dc.context, now=self._clock.now(), coordinators=self._polls._coordinators
            )
            await self._polls.handle(turn)
            return Dialog.end_of_turn
        return await super().on_continue_dialog(inner_dc)

    # validators
    async def _any_text(self, prompt: PromptValidatorContext) -> bool:
        return bool(_words(prompt.context))

    async def _is_length(self, prompt: PromptValidatorContext) -> bool:
        if _length(_words(prompt.context)) is None:
            await prompt.context.send_activity(Texts.BAD_LENGTH)
            return False
        return True

    async def _are_slots(self, prompt: PromptValidatorContext) -> bool:
        options = prompt.options.validations or {}
        _, error = await self._polls.slots_from_text(
            _words(prompt.context), timedelta(minutes=options["length"]), options["group_id"]
        )
        if error:
            await prompt.context.send_activity(error)
            return False
        return True

    async def _is_deadline(self, prompt: PromptValidatorContext) -> bool:
        first = datetime.fromisoformat((prompt.options.validations or {})["first_start"])
        _, error = deadline_from_text(_words(prompt.context), self._clock.now(), first)
        if error:
            await prompt.context.send_activity(error)
            return False
        return True

    # steps
    async def ask_title(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values.update(dict(step.options or {}))
        text = Texts.ASK_TITLE.format(group=step.values["group_name"], title=step.values["title"])
        return await step.prompt("polls.title", PromptOptions(prompt=MessageFactory.text(text)))

    async def ask_length(self, step: WaterfallStepContext) -> DialogTurnResult:
        answer = _words(step.context)
        if not _is_ok(answer):
            step.values["title"] = answer[:200]
        return await step.prompt(
            "polls.length", PromptOptions(prompt=MessageFactory.text(Texts.ASK_LENGTH))
        )

    async def ask_place(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["length"] = _length(_words(step.context)) or DEFAULT_LENGTH_MINUTES
        return await step.prompt(
            "polls.place", PromptOptions(prompt=MessageFactory.text(Texts.ASK_PLACE))
        )

    async def ask_slots(self, step: WaterfallStepContext) -> DialogTurnResult:
        place = _words(step.context)
        step.values["place"] = (
            TEAMS_MEETING if place.lower().rstrip(".") in TEAMS_WORDS | OK_WORDS else place[:300]
        )
        return await step.prompt(
            "polls.slots",
            PromptOptions(
                prompt=MessageFactory.text(Texts.ASK_SLOTS),
                validations={"length": step.values["length"], "group_id": step.values["group_id"]},
            ),
        )

    async def ask_deadline(self, step: WaterfallStepContext) -> DialogTurnResult:
        text = _words(step.context)
        slots, _ = await self._polls.slots_from_text(
            text, timedelta(minutes=step.values["length"]), step.values["group_id"]
        )
        step.values["slots"] = [[s.start.isoformat(), s.end.isoformat()] for s in slots]
        first = slots[0].start
        default = default_deadline(first, self._clock.now())
        lines = []
        if _PROPOSE.search(text):
            rows = "\n".join(f"• {format_span(s.start, s.end)}" for s in slots)
            lines.append(Texts.PROPOSED.format(slots=rows))
        lines.append(Texts.ASK_DEADLINE.format(default=format_when(default) if default else "–"))
        return await step.prompt(
            "polls.deadline",
            PromptOptions(
                prompt=MessageFactory.text("\n\n".join(lines)),
                validations={"first_start": first.isoformat()},
            ),
        )

    async def open_poll(self, step: WaterfallStepContext) -> DialogTurnResult:
        values = step.values
        slots = tuple(
            (datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in values["slots"]
        )
        deadline, _ = deadline_from_text(_words(step.context), self._clock.now(), slots[0][0])
        assert deadline is not None  # the validator let only good answers through
        await self._polls.open_poll(
            step.context,
            NewPoll(
                group_id=values["group_id"],
                group_name=values["group_name"],
                tenant_id=values.get("tenant_id"),
                title=values["title"],
                length_minutes=values["length"],
                place=values["place"],
                deadline=deadline,
                creator=Voter(
                    values["creator_id"],
                    values.get("creator_name") or "",
                    values.get("creator_aad"),
                ),
                slots=slots,
            ),
        )
        return await step.end_dialog()
