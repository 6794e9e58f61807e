"""A session as the desk sees it: ready rows for the board page and its JSON refresh."""
from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import lazy_gettext as _l

from ..formatting import clock
from ..localtime import TOKYO
from ..models import DeskSession, Reservation
from ..services import applicants, checkin, reservations, tokens
from ..services.reservations import CHANNEL_LABELS
from ..services.slots import session_bounds

#: At the desk a booking still to come is someone the clerk waits for.
STATUS_LABELS = {**reservations.STATUS_LABELS, "booked": _l("Waiting")}
#: The board's short words for applicants.notices (the check-in screen says them in full).
NOTICE_TAGS = {"represented": _l("Under 15, with legal representative"), "no_photo": _l("No photo needed")}

BOOKER_ONLY = _l("Booker, not coming")


def notice_tags(notices: list[applicants.Notice]) -> list[dict]:
    return [{"code": n.code, "label": str(NOTICE_TAGS.get(n.code, n.text))} for n in notices]


def _row(reservation: Reservation, desk_session: DeskSession, when: str) -> dict:
    slot = reservation.slot
    staff = reservation.staff
    time = clock(slot.starts_at)
    people = []
    for person in reservation.people:
        own = clock(person.slot.starts_at)
        people.append({
            "name": person.name,
            "kind": person.kind,
            #: The person's own time; "later" when a party too large for one slot seats them after the first.
            "time": own,
            "later": own != time,
            "tags": notice_tags(applicants.notices(person.dependent, desk_session.date)),
        })
    return {
        "id": reservation.id,
        "time": time,
        "code": tokens.format_code(reservation.code),
        "name": staff.name,
        "kana": staff.kana,
        "unit": staff.unit.name,
        "crew": staff.crew,
        "dependents": [p["name"] for p in people if p["kind"] == "dependent"],
        "people": people,
        #: Said beside the name when the booking is for dependents only: the staff member booked
        #: but does not come.
        "staff_note": "" if any(p["kind"] == "staff" for p in people) else str(BOOKER_ONLY),
        "seats": reservation.seats,
        "status": reservation.status,
        "status_label": str(STATUS_LABELS.get(reservation.status, reservation.status)),
        "channel": reservation.channel,
        "channel_label": str(CHANNEL_LABELS.get(reservation.channel, reservation.channel)),
        #: "now", "next", "late" (a past slot, still waiting) or "" for the rest.
        "when": when,
        "url": url_for("desk.check_in_screen", reservation_id=reservation.id, session=desk_session.id),
    }


def board(desk_session: DeskSession, now: datetime) -> dict:
    """Everything the desk board shows, as plain values (the page and the JSON use the same)."""
    slots = desk_session.slots
    current = next((s for s in slots if s.starts_at <= now < s.ends_at), None)
    upcoming = next((s for s in slots if s.starts_at > now), None)
    rows = []
    for reservation in checkin.session_reservations(desk_session):
        when = ""
        if reservation.status == "booked":
            # A party spanning slots is due while any of its people's slots is.
            slot_ids = {p.slot_id for p in reservation.people} or {reservation.slot_id}
            if current is not None and current.id in slot_ids:
                when = "now"
            elif upcoming is not None and upcoming.id in slot_ids:
                when = "next"
            elif reservation.slot.ends_at <= now:
                when = "late"
        rows.append(_row(reservation, desk_session, when))
    active = [r for r in rows if r["status"] != "cancelled"]
    left, capacity = checkin.seats_left(desk_session, now)
    start, end = session_bounds(desk_session.date, desk_session.start_time, desk_session.end_time)
    counts = {status: sum(1 for r in rows if r["status"] == status) for status in STATUS_LABELS}
    return {
        "session_id": desk_session.id,
        "generated_at": now.astimezone(TOKYO).isoformat(),
        "clock": clock(now),
        "is_over": end <= now,
        "is_before": now < start,
        "current_slot": clock(current.starts_at) if current else None,
        "next_slot": clock(upcoming.starts_at) if upcoming else None,
        "due_now": [r for r in rows if r["when"] in ("now", "late")],
        "due_next": [r for r in rows if r["when"] == "next"],
        "rows": active + [r for r in rows if r["status"] == "cancelled"],
        "seats_left": left,
        "seats_capacity": capacity,
        "people_expected": sum(r["seats"] for r in active),
        "counts": counts,
    }
