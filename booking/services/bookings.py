"""Booking, moving and cancelling: the acts, whoever does them and however they arrive.

The booker on their own pages or through the API with their invitation code or manage
token, and the office taking a call (the phone page or the API with an admin token), all
come here. Each act checks who may do it, changes the booking through the pieces in
services.reservations (seats, windows, duplicates), asks services.approvals whether the
chief must look at it, and writes one audit event: ``reservation.book``,
``reservation.move`` or ``reservation.cancel``, whose actor and channel say who and how. Seats a
move or a cancellation frees are offered to the session's waiting list (services.waitlist), and
the act's event names the entries offered seats (``waitlist_offers``).

The booking rush goes through ``book``: besides the reservation itself it costs one
INSERT (the audit event) and no SELECT.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from ..localtime import utcnow
from ..models import Reservation, Staff
from . import approvals, audit, outbox, reservations, waitlist
from .accounts import require_role
from .actor import Actor
from .errors import DomainError

#: Office roles that take bookings, moves and cancellations over the phone.
OFFICE_ROLES = ("admin", "clerk")


def book(
    actor: Actor,
    slot_id: int,
    staff: Staff,
    *,
    dependent_ids: Iterable[int] = (),
    include_staff: bool = True,
    now: datetime | None = None,
    waitlist_entry_id: int | None = None,
) -> Reservation:
    """Book a party starting in a slot: the staff member (unless ``include_staff`` is False) and
    the dependents who come along; a party larger than the slot's free seats continues in the next.

    By the booker themselves (channel ``web``) or by the office for a caller (``phone``,
    booked by the office user). A booking in duty hours may wait for the chief.
    """
    now = now or utcnow()
    may_act_for(actor, staff.id)
    channel = "web" if actor.staff is not None else "phone"
    reservation = reservations.reserve(
        slot_id, staff, dependent_ids=dependent_ids, include_staff=include_staff, channel=channel,
        booked_by=actor.user, now=now, locale=booker_locale(actor),
    )
    held = approvals.hold_if_needed(reservation, now=now)
    audit.record(
        "reservation.book", actor=actor, target_type="reservation", target_id=reservation.id,
        code=reservation.code, staff_number=staff.staff_number, channel=channel, slot_id=slot_id,
        seats=reservation.seats, include_staff=None if include_staff else False, waitlist_entry_id=waitlist_entry_id,
    )
    outbox.enqueue("confirmation", reservation, now=now, awaiting_approval=True if held else None)
    return reservation


def move(
    actor: Actor,
    reservation: Reservation,
    slot_id: int,
    *,
    dependent_ids: Iterable[int] | None = None,
    include_staff: bool | None = None,
    now: datetime | None = None,
    waitlist_entry_id: int | None = None,
) -> Reservation:
    """Move a booking to another start in its campaign, and change who comes when asked (None keeps
    them as booked); the chief looks again at a time in duty hours.

    Moving to the slot it is already in with the same people changes nothing and records nothing.
    """
    now = now or utcnow()
    may_act_for(actor, reservation.staff_id)
    old_slot_id = reservation.slot_id
    old_session_id = reservation.slot.desk_session_id
    old_people = sorted(p.dependent_id or 0 for p in reservation.people)
    moved_from: dict[str, Any] = {"from": reservation.slot.starts_at.isoformat(), "seats_before": reservation.seats}
    sequence = reservation.sequence
    reservation = reservations.reschedule(
        reservation, slot_id, dependent_ids=dependent_ids, include_staff=include_staff, now=now)
    if reservation.sequence == sequence:
        return reservation
    if reservation.slot_id != old_slot_id:
        approvals.review_after_move(reservation, now=now)
    new_people = sorted(p.dependent_id or 0 for p in reservation.people)
    offered = waitlist.offer_freed(old_session_id, now=now)  # the seats it left, to whoever waits for them
    audit.record(
        "reservation.move", actor=actor, target_type="reservation", target_id=reservation.id,
        code=reservation.code, staff_number=reservation.staff.staff_number, slot_id=reservation.slot_id,
        seats=reservation.seats, people_changed=True if new_people != old_people else None, **moved_from,
        waitlist_entry_id=waitlist_entry_id, waitlist_offers=[e.id for e in offered] or None,
    )
    outbox.enqueue("changed", reservation, now=now, by="booker" if actor.staff is not None else "office",
                   previous_start=moved_from["from"])
    return reservation


def cancel(actor: Actor, reservation: Reservation, *, now: datetime | None = None) -> Reservation:
    """Cancel a booking and free its seats at once (rule 4).

    A booking already cancelled stays as it is and nothing is recorded.
    """
    now = now or utcnow()
    may_act_for(actor, reservation.staff_id)
    reservation = reservations.cancel(reservation, now=now)
    if reservation.cancelled_at != now:
        return reservation  # it had been cancelled before
    offered = waitlist.offer_freed(reservation.slot.desk_session_id, now=now)
    audit.record(
        "reservation.cancel", actor=actor, target_type="reservation", target_id=reservation.id,
        code=reservation.code, staff_number=reservation.staff.staff_number,
        waitlist_offers=[e.id for e in offered] or None,
    )
    outbox.enqueue("cancelled", reservation, now=now, by="booker" if actor.staff is not None else "office")
    return reservation


def booker_locale(actor: Actor) -> str:
    """The language the booker's messages will be in: the one they book in; the office's
    bookings (phone, walk-in) take the default, Japanese."""
    if actor.staff is None or not has_request_context():
        return "ja"
    return str(get_locale() or "ja")


def may_act_for(actor: Actor, staff_id: int) -> None:
    """A booker acts only on their own bookings; otherwise the office (admin or clerk) acts."""
    if actor.staff is not None:
        if actor.staff.id != staff_id:
            raise DomainError("forbidden", _l("This reservation is not yours."))
        return
    require_role(actor, *OFFICE_ROLES)
