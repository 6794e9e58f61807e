"""What a booker takes away: the calendar file, the QR code and the links in them."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Event, Timezone, vText

from .. import qr
from ..formatting import clock
from ..localtime import TOKYO, utcnow
from ..models import Reservation
from . import tokens
from .reservations import manage_token, party_span


def manage_url(reservation: Reservation) -> str:
    return url_for("public.manage", token=manage_token(reservation), _external=True)


def qr_text(reservation: Reservation) -> str:
    """What the QR code says: the manage URL, which carries the token and no personal data."""
    return manage_url(reservation)


def token_from_qr(text: str) -> str | None:
    """The manage token in a scanned QR text, or None when it is not one of ours."""
    path = urlsplit((text or "").strip()).path
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[-2] == "r":
        return parts[-1]
    return None


def qr_png(reservation: Reservation) -> bytes:
    return qr.png(qr_text(reservation))


def calendar_file(reservation: Reservation, *, now: datetime | None = None, method: str | None = None,
                  organizer: str | None = None, attendee: str | None = None) -> bytes:
    """An RFC 5545 VCALENDAR with one VEVENT for the reservation.

    The UID is stable for the reservation, SEQUENCE rises with every move and
    a cancelled booking is sent as STATUS:CANCELLED, so calendar apps update
    the one event instead of adding another. ``ics_url`` serves it with METHOD:PUBLISH (CANCEL
    once cancelled); a mail carries the same event as an invitation (``method`` REQUEST or
    CANCEL, RFC 5546), with the sender as organizer and the booker as attendee.
    """
    now = now or utcnow()
    slot = reservation.slot
    session = slot.desk_session
    venue = session.venue
    campaign = reservation.campaign
    host = urlsplit(current_app.config.get("PUBLIC_BASE_URL") or "http://outreach-desk.invalid").hostname

    calendar = Calendar()
    calendar.add("prodid", "-//Outreach Desk//My Number card desk//JA")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method or ("CANCEL" if reservation.status == "cancelled" else "PUBLISH"))

    event = Event()
    event.add("uid", f"reservation-{reservation.id}-{reservation.token_nonce[:8]}@{host}")
    event.add("dtstamp", now)
    # A family too large for one time is served in the times right after each other: the
    # event lasts from the first person's time to the end of the last one's.
    starts_at, ends_at = party_span(reservation)
    event.add("dtstart", starts_at.astimezone(TOKYO))
    event.add("dtend", ends_at.astimezone(TOKYO))
    event.add("sequence", reservation.sequence)
    event.add("summary", _("My Number card application (%(code)s)",
                           code=tokens.format_code(reservation.code)))
    event.add("location", vText(f"{venue.name}, {venue.address}"))
    lines = [
        _("Reservation code: %(code)s", code=tokens.format_code(reservation.code)),
        campaign.title,
        _("Who: %(names)s", names=", ".join(people_with_times(reservation))),
    ]
    if campaign.what_to_bring:
        lines.append(_("What to bring: %(items)s", items=campaign.what_to_bring))
    if venue.notes:
        lines.append(venue.notes)
    lines.append(_("Manage or cancel: %(url)s", url=manage_url(reservation)))
    event.add("description", "\n".join(lines))
    event.add("url", manage_url(reservation))
    if organizer:
        event.add("organizer", f"mailto:{organizer}")
    if attendee:
        event.add("attendee", f"mailto:{attendee}", parameters={"ROLE": "REQ-PARTICIPANT", "RSVP": "FALSE"})
    if reservation.status == "cancelled" or method == "CANCEL":
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
        for before, label in ((timedelta(days=1), _("Tomorrow")), (timedelta(hours=1), _("In one hour"))):
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", -before)
            alarm.add("description", f"{label}: " + _("My Number card application"))
            event.add_component(alarm)
    calendar.add_component(event)
    add_timezones(calendar)
    return calendar.to_ical()


def add_timezones(calendar: Calendar) -> None:
    """The VTIMEZONE components the calendar's times need (Asia/Tokyo), as icalendar's
    add_missing_timezones adds them, but built once per process: building one walks decades of
    offsets (about 0.1 s of CPU each time), which a mail worker or a calendar feed repeated for
    every file."""
    for tzid in sorted(calendar.get_missing_tzids()):
        component = _timezone(tzid)
        if component is not None:
            calendar.subcomponents.insert(len(calendar.timezones), component)


@cache
def _timezone(tzid: str) -> Timezone | None:
    try:
        return Timezone.from_tzid(tzid)
    except ValueError:
        return None


def people_with_times(reservation: Reservation) -> list[str]:
    """Each person's name, with their own time when the party spans several."""
    people = sorted(reservation.people, key=lambda p: (p.slot.starts_at, p.id))
    if len({p.slot_id for p in people}) == 1:
        return [p.name for p in people]
    return [f"{p.name} ({clock(p.slot.starts_at)})" for p in people]
