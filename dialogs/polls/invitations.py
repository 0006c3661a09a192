"""The booked meeting as a calendar invitation: the .ics file and an Outlook on the web link."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from urllib.parse import quote, urlencode

from icalendar import Calendar, Event, Timezone, vCalAddress

from dialogs.polls.texts import Texts
from scheduler.clock import STOCKHOLM
from storage.people import Person
from storage.polls import (
    PollView,
)


def make_ics(
    poll: PollView, members: Sequence[Person], now: datetime, emails: Mapping[str, str]
) -> bytes:
    """The meeting as an iCalendar file: Europe/Stockholm times with their VTIMEZONE, every
    member whose e-mail Teams gave as an ATTENDEE (`mailto:`; a calendar cannot reach anyone by
    a Teams or Entra id, so a member without an address is left out), a stable UID and a
    SEQUENCE that grows with each change."""
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
    if poll.creator.user_id in emails:
        organizer = vCalAddress(f"mailto:{emails[poll.creator.user_id]}")
        organizer.params["CN"] = poll.creator.name or emails[poll.creator.user_id]
        event.add("organizer", organizer)
    for member in members:
        if member.user_id not in emails:
            continue
        attendee = vCalAddress(f"mailto:{emails[member.user_id]}")
        attendee.params["CN"] = member.name or emails[member.user_id]
        attendee.params["ROLE"] = "REQ-PARTICIPANT"
        attendee.params["PARTSTAT"] = "NEEDS-ACTION"
        event.add("attendee", attendee)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def ics_file_name(poll: PollView) -> tuple[str, str]:
    """The file's name after the meeting: ("Spanarmote.ics", "Spånarmöte.ics") as ASCII for old
    clients and as written (RFC 6266's filename*)."""
    kept = re.sub(r"[^\w\- ]+", "", poll.title, flags=re.UNICODE).strip()[:80] or "Mote"
    plain = unicodedata.normalize("NFKD", kept).encode("ascii", "ignore").decode().strip()
    return f"{plain or 'Mote'}.ics", f"{kept}.ics"


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
