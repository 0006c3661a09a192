"""The booked meeting as a calendar invitation: the .ics file and an Outlook on the web link."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from urllib.parse import quote, urlencode

from icalendar import Calendar, Event, Timezone, vCalAddress

from dialogs.polls.texts import Texts
from scheduler.clock import STOCKHOLM
from storage.people import Person
from storage.polls import (
    PollView,
)


def make_ics(poll: PollView, members: Sequence[Person], now: datetime) -> bytes:
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
