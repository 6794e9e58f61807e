"""The waiting list of a full session (issue 19): join, leave, offers of freed seats, accept.

A party (the staff member and the dependents they bring) waits for one session; a booker may wait
on several sessions of a campaign, holding no booking or one they would like to move.

When seats free up (services.bookings' cancel and move, a session given more desks, an offer
that expired), ``offer_freed`` offers them, in the same transaction, to the first waiting party
that fits without being split: a smaller party behind a larger one that does not fit may come
first. The offer takes the party's seats in the slots' counters through services.seating, the
same conditional UPDATEs as a booking, so held seats count as taken, an offer is never made for
seats that are not free and no slot goes over capacity, whatever runs at the same time. The
mail is an outbox row keyed by the entry and its offer count, so each offer is mailed once.

An offer lasts the campaign's ``waitlist_offer_minutes`` (never past the slot's booking cut-off).
Accepting gives the held seats back and books (or moves) through services.bookings with all its
rules, in one transaction; an offer that runs out is expired by the scheduled job, which offers
the seats to the next party. Nobody is offered seats at or after the cut-off or in a session
that has started.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..extensions import db
from ..localtime import utcnow
from ..models import (
    ACTIVE_STATUSES,
    OPEN_WAITLIST_STATUSES,
    DeskSession,
    Reservation,
    ReservationPerson,
    Slot,
    Staff,
    WaitlistEntry,
    WaitlistHold,
)
from . import audit, bookings, outbox, reservations, seating, tokens
from .actor import Actor
from .database import begin_write
from .errors import DomainError, NotFound

log = logging.getLogger(__name__)

#: A reservation's waiting-list status in words.
STATUS_LABELS = {
    "waiting": _l("Waiting for seats"),
    "offered": _l("Seats offered"),
    "accepted": _l("Booked from the waiting list"),
    "expired": _l("Offer expired"),
    "withdrawn": _l("Left the list"),
}


# --- the booker's acts ----------------------------------------------------------------------


def join(actor: Actor, session_id: int, staff: Staff, *, dependent_ids: Iterable[int] = (),
         include_staff: bool = True, locale: str = "ja", now: datetime | None = None) -> WaitlistEntry:
    """Put a party on a full session's waiting list (the booker, or the office for a caller).

    Refused when the party could book a time in the session now (``seats_free``), when the session
    is closed for booking, and when the person already waits there or holds a booking in it.
    """
    now = now or utcnow()
    bookings.may_act_for(actor, staff.id)
    session = _open_session(session_id)
    campaign = session.campaign
    reservations.check_targeted(campaign, staff)
    dependents = reservations.check_party(staff, dependent_ids, include_staff)
    seats = int(include_staff) + len(dependents)
    begin_write()
    slots = _slots_of(session.id)
    bookable = _bookable_indexes(slots, session, now)
    if not bookable:
        raise DomainError("booking_closed", _l(
            "Booking for this session has closed, so its waiting list is closed too."))
    reach = seating.reach([s.capacity - s.seats_taken for s in slots])
    if any(reach[i] >= seats for i in bookable):
        raise DomainError("seats_free", _l(
            "This session still has free times for your party. Book one of them instead."))
    held = reservations.active_reservation(staff.id, campaign.id)
    if held is not None and _in_session(held.id, session.id):
        raise DomainError("already_reserved", _l(
            "Your reservation is already in this session. Open it to choose another time."),
            reservation_code=held.code)
    nonce = tokens.new_nonce()
    entry = WaitlistEntry(
        desk_session_id=session.id, campaign_id=campaign.id, staff_id=staff.id, include_staff=include_staff,
        dependent_ids=[d.id for d in dependents], seats=seats, status="waiting", token_nonce=nonce,
        token_hash=tokens.new_nonce(), locale=locale, created_at=now, updated_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError:
        raise DomainError("already_waiting", _l(
            "You are already on the waiting list of this session.")) from None
    entry.token_hash = tokens.digest(entry_token(entry))
    db.session.flush()
    audit.record("waitlist.join", actor=actor, target_type="waitlist_entry", target_id=entry.id,
                 staff_number=staff.staff_number, desk_session_id=session.id, seats=seats)
    return entry


def leave(actor: Actor, entry: WaitlistEntry, *, now: datetime | None = None) -> WaitlistEntry:
    """Take a party off the list; seats held for it go to the next party at once."""
    now = now or utcnow()
    bookings.may_act_for(actor, entry.staff_id)
    begin_write()
    entry = _lock(entry)
    if entry.status not in OPEN_WAITLIST_STATUSES:
        return entry
    was_offered = entry.status == "offered"
    _release_holds(entry)
    entry.status, entry.closed_at, entry.updated_at = "withdrawn", now, now
    db.session.flush()
    offered = offer_freed(entry.desk_session_id, now=now) if was_offered else []
    audit.record("waitlist.leave", actor=actor, target_type="waitlist_entry", target_id=entry.id,
                 staff_number=entry.staff.staff_number, desk_session_id=entry.desk_session_id,
                 had_offer=True if was_offered else None, waitlist_offers=[e.id for e in offered] or None)
    return entry


def accept(actor: Actor, entry: WaitlistEntry, *, now: datetime | None = None) -> Reservation:
    """Take the offered seats: book them, or move the booking the person holds in the campaign,
    through services.bookings with all its rules. Accepting twice answers with the same booking.

    The act's one event is the booking's (``reservation.book`` or ``reservation.move``), naming the
    entry (``waitlist_entry_id``)."""
    now = now or utcnow()
    bookings.may_act_for(actor, entry.staff_id)
    begin_write()
    entry = _lock(entry)
    if entry.status == "accepted" and entry.reservation_id is not None:
        reservation = db.session.get(Reservation, entry.reservation_id)
        if reservation is not None and reservation.status in ACTIVE_STATUSES:
            return reservation
    if entry.status != "offered" or entry.offer_slot_id is None:
        raise DomainError("offer_closed", _l(
            "This offer is no longer open. Your place on the waiting list is shown below."))
    if entry.offer_expires_at is not None and entry.offer_expires_at <= now:
        raise DomainError("offer_expired", _l(
            "This offer has expired and the seats have gone to the next person waiting."))
    staff = entry.staff
    held = reservations.active_reservation(staff.id, entry.campaign_id)
    # The held seats are given back and taken again by the booking in the same transaction; the
    # slots stay locked meanwhile (PostgreSQL's row locks, SQLite's write lock).
    _release_holds(entry)
    if held is None:
        reservation = bookings.book(actor, entry.offer_slot_id, staff, dependent_ids=entry.dependent_ids,
                                    include_staff=entry.include_staff, now=now, waitlist_entry_id=entry.id)
    else:
        reservation = bookings.move(actor, held, entry.offer_slot_id, dependent_ids=entry.dependent_ids,
                                    include_staff=entry.include_staff, now=now, waitlist_entry_id=entry.id)
    entry.status, entry.closed_at, entry.updated_at = "accepted", now, now
    entry.reservation_id = reservation.id
    db.session.flush()
    return reservation


# --- offers ---------------------------------------------------------------------------------


def offer_freed(session_id: int, *, now: datetime | None = None) -> list[WaitlistEntry]:
    """Offer the session's free seats to the waiting parties that fit, first come first; the
    entries offered seats. Called in the transaction that freed the seats, whose act records them
    in its own event (one act, one event).

    Never fails the act that freed them: should the offers meet a lock conflict (PostgreSQL may
    end one of two transactions waiting on each other), they are undone and the scheduled job
    makes them a minute later.
    """
    now = now or utcnow()
    if db.session.scalar(select(WaitlistEntry.id).where(
            WaitlistEntry.desk_session_id == session_id, WaitlistEntry.status == "waiting").limit(1)) is None:
        return []
    try:
        with db.session.begin_nested():
            return _offer(session_id, now)
    except DBAPIError:
        log.warning("waiting-list offers for session %s left to the scheduled job", session_id, exc_info=True)
        return []


def _offer(session_id: int, now: datetime) -> list[WaitlistEntry]:
    session = db.session.get(DeskSession, session_id)
    if session is None or session.is_cancelled or not session.campaign.is_published:
        return []
    campaign = session.campaign
    offered: list[WaitlistEntry] = []
    while True:
        slots = _slots_of(session_id)
        bookable = _bookable_indexes(slots, session, now)
        if not bookable:
            return offered
        reach = seating.reach([s.capacity - s.seats_taken for s in slots])
        if max(reach[i] for i in bookable) <= 0:
            return offered
        made = None
        for entry in _waiting(session_id):
            start = next((i for i in bookable if reach[i] >= entry.seats), None)
            if start is None:
                continue  # this party does not fit yet; a smaller one behind it may
            made = _make_offer(entry, slots[start], campaign.waitlist_offer_minutes, now)
            if made is not None:
                break
        if made is None:
            return offered
        offered.append(made)


def _make_offer(entry: WaitlistEntry, slot: Slot, minutes: int, now: datetime) -> WaitlistEntry | None:
    """Hold the party's seats from ``slot`` and mail the offer; None when another transaction took
    the entry or the seats first."""
    try:
        with db.session.begin_nested():
            claimed = cast("CursorResult[Any]", db.session.execute(
                update(WaitlistEntry)
                .where(WaitlistEntry.id == entry.id, WaitlistEntry.status == "waiting")
                .values(status="offered", offers=WaitlistEntry.offers + 1)
                .execution_options(synchronize_session=False))).rowcount
            if claimed != 1:
                return None
            seat_slot_ids = seating.seat(slot, entry.seats)
            db.session.refresh(entry)
            for slot_id in sorted(set(seat_slot_ids)):
                db.session.add(WaitlistHold(entry_id=entry.id, slot_id=slot_id, seats=seat_slot_ids.count(slot_id)))
            campaign = slot.desk_session.campaign
            deadline = reservations.booking_deadline(slot, campaign)
            entry.offer_slot_id = slot.id
            entry.offered_at = now
            entry.offer_expires_at = min(now + timedelta(minutes=minutes), deadline)
            entry.updated_at = now
            db.session.flush()
    except DomainError:
        db.session.expire(entry)
        return None  # the seats went to a booking in the meantime
    # The entry's nonce in the key: SQLite hands a deleted entry's id to the next one, whose first
    # offer must not be taken for the deleted entry's (and silently not mailed).
    outbox.enqueue_to_staff_once(
        "waitlist_offer", entry.staff, entry.locale, f"waitlist-offer:{entry.id}:{entry.token_nonce}:{entry.offers}",
        now=now, entry_id=entry.id, offer=entry.offers)
    return entry


def recall_offers(session_id: int, *, now: datetime | None = None, close: bool = False) -> None:
    """Before the office changes a session's slots: give the seats held by its offers back and put
    those parties back in their places (``close``: the session is cancelled, every place ends)."""
    now = now or utcnow()
    entries = list(db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.desk_session_id == session_id,
                                    WaitlistEntry.status.in_(OPEN_WAITLIST_STATUSES))
        .with_for_update().execution_options(populate_existing=True)))
    for entry in entries:
        _release_holds(entry)
        if close:
            entry.status, entry.closed_at = "withdrawn", now
        elif entry.status == "offered":
            entry.status, entry.offer_slot_id, entry.offered_at, entry.offer_expires_at = "waiting", None, None, None
        entry.updated_at = now
    db.session.flush()


def forget_campaign(campaign_id: int) -> int:
    """Delete a campaign's waiting lists (services.retention, with its bookings): seats still held
    go back first. How many entries were deleted."""
    entries = list(db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.campaign_id == campaign_id)))
    for entry in entries:
        _release_holds(entry)
        db.session.delete(entry)
    db.session.flush()
    return len(entries)


def forget_staff(staff_id: int) -> set[int]:
    """Delete a staff member's waiting-list entries (their data is being erased): seats still held
    go back first. The sessions whose seats came free, for the caller to offer once the staff
    member is gone."""
    entries = list(db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.staff_id == staff_id)))
    freed = {entry.desk_session_id for entry in entries if entry.status == "offered"}
    for entry in entries:
        _release_holds(entry)
        db.session.delete(entry)
    db.session.flush()
    return freed


def expire_due(now: datetime | None = None) -> tuple[int, int]:
    """Expire the offers whose time has run out and offer their seats on; how many expired, and
    how many offers that made.

    Two workers may run this at once: the conditional UPDATE lets one of them expire each offer.
    """
    now = now or utcnow()
    begin_write()
    due = list(db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.status == "offered", WaitlistEntry.offer_expires_at <= now)
        .order_by(WaitlistEntry.offer_expires_at, WaitlistEntry.id)))
    sessions: set[int] = set()
    expired = 0
    for entry in due:
        done = cast("CursorResult[Any]", db.session.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.id == entry.id, WaitlistEntry.status == "offered")
            .values(status="expired", closed_at=now, updated_at=now)
            .execution_options(synchronize_session=False))).rowcount
        if done != 1:
            continue
        db.session.refresh(entry)
        _release_holds(entry)
        audit.record("waitlist.expire", actor=Actor.system(), target_type="waitlist_entry", target_id=entry.id,
                     staff_number=entry.staff.staff_number, desk_session_id=entry.desk_session_id)
        sessions.add(entry.desk_session_id)
        expired += 1
    db.session.flush()
    offered = sum(len(_offer_and_record(session_id, now)) for session_id in sorted(sessions))
    return expired, offered


def _offer_and_record(session_id: int, now: datetime) -> list[WaitlistEntry]:
    """The scheduled job's offers, each its own event (the job acts as the system)."""
    offered = offer_freed(session_id, now=now)
    for entry in offered:
        audit.record("waitlist.offer", actor=Actor.system(), target_type="waitlist_entry", target_id=entry.id,
                     staff_number=entry.staff.staff_number, desk_session_id=entry.desk_session_id,
                     slot_id=entry.offer_slot_id, seats=entry.seats,
                     expires_at=entry.offer_expires_at.isoformat() if entry.offer_expires_at else None)
    return offered


def sweep(now: datetime | None = None) -> str:
    """The scheduled job: expire the offers that ran out, then offer any free seats of sessions
    with people waiting (seats freed where no offer was made at once)."""
    now = now or utcnow()
    expired, offered = expire_due(now)
    session_ids = list(db.session.scalars(
        select(WaitlistEntry.desk_session_id).where(WaitlistEntry.status == "waiting").distinct()))
    offered += sum(len(_offer_and_record(session_id, now)) for session_id in sorted(session_ids))
    return f"{expired} offers expired, {offered} offers made"


# --- reading --------------------------------------------------------------------------------


def entry_token(entry: WaitlistEntry) -> str:
    return tokens.url_token("waitlist", entry.id, entry.token_nonce)


def by_token(token: str) -> WaitlistEntry:
    entry = None
    if token and len(token) <= 64:
        entry = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.token_hash == tokens.digest(token)))
    if entry is None:
        raise NotFound(_l("This waiting-list link is not valid. Open the link from your mail again."))
    return entry


def place(entry: WaitlistEntry) -> int | None:
    """The entry's place in the queue (1 is next), or None once it is no longer waiting."""
    if entry.status != "waiting":
        return None
    ahead = db.session.scalar(
        select(func.count(WaitlistEntry.id)).where(
            WaitlistEntry.desk_session_id == entry.desk_session_id, WaitlistEntry.status == "waiting",
            (WaitlistEntry.created_at < entry.created_at)
            | ((WaitlistEntry.created_at == entry.created_at) & (WaitlistEntry.id < entry.id))))
    return int(ahead or 0) + 1


def entries_of(staff: Staff) -> list[WaitlistEntry]:
    """The staff member's open places, soonest session first."""
    return list(db.session.scalars(
        select(WaitlistEntry).join(DeskSession, DeskSession.id == WaitlistEntry.desk_session_id)
        .where(WaitlistEntry.staff_id == staff.id, WaitlistEntry.status.in_(OPEN_WAITLIST_STATUSES))
        .order_by(DeskSession.date, DeskSession.start_time, WaitlistEntry.id)))


def offer_mail_context(entry_id: int) -> dict[str, Any]:
    """What the offer's mail shows (rendered by the worker, in a request context)."""
    entry = db.session.get(WaitlistEntry, entry_id)
    if entry is None:
        return {}
    from flask import url_for

    slot = entry.offer_slot
    session = entry.desk_session
    return {
        "entry": entry, "staff": entry.staff, "campaign": session.campaign, "venue": session.venue,
        "starts_at": slot.starts_at if slot else None, "expires_at": entry.offer_expires_at,
        "people": people_of(entry),
        "accept_url": url_for("public.waitlist_entry", token=entry_token(entry), _external=True),
    }


@dataclass(frozen=True)
class Row:
    entry: WaitlistEntry
    place: int | None


def session_list(session_id: int) -> list[Row]:
    """The office's view of a session's list: every entry, the open ones first in queue order."""
    entries = list(db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.desk_session_id == session_id)
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)))
    open_entries = [e for e in entries if e.status in OPEN_WAITLIST_STATUSES]
    waiting = [e for e in open_entries if e.status == "waiting"]
    places = {e.id: n for n, e in enumerate(waiting, start=1)}
    closed = [e for e in entries if e.status not in OPEN_WAITLIST_STATUSES]
    return [Row(e, places.get(e.id)) for e in open_entries + closed]


def people_of(entry: WaitlistEntry) -> list[str]:
    """The names of the party, the staff member first."""
    names = [entry.staff.name] if entry.include_staff else []
    by_id = {d.id: d for d in entry.staff.dependents}
    return names + [by_id[i].name for i in entry.dependent_ids if i in by_id]


# --- the pieces -----------------------------------------------------------------------------


def _open_session(session_id: int) -> DeskSession:
    session = db.session.get(DeskSession, session_id)
    if session is None or session.is_cancelled or not session.campaign.is_published:
        raise NotFound(_l("This session does not exist. Go back and choose another one."))
    return session


def _slots_of(session_id: int) -> list[Slot]:
    """The session's slots as the database has them now, in time order."""
    return list(db.session.scalars(
        select(Slot).where(Slot.desk_session_id == session_id).order_by(Slot.starts_at, Slot.id)
        .execution_options(populate_existing=True)))


def _bookable_indexes(slots: list[Slot], session: DeskSession, now: datetime) -> list[int]:
    """The slots a party may start in now: none once the session has started or booking has
    closed (the cut-off), none before booking opens."""
    campaign = session.campaign
    if not slots or slots[0].starts_at <= now or now < campaign.booking_opens_at:
        return []
    return [i for i, s in enumerate(slots) if now < reservations.booking_deadline(s, campaign)]


def _waiting(session_id: int) -> list[WaitlistEntry]:
    return list(db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.desk_session_id == session_id, WaitlistEntry.status == "waiting")
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        .execution_options(populate_existing=True)))


def _in_session(reservation_id: int, session_id: int) -> bool:
    return db.session.scalar(
        select(ReservationPerson.id).join(Slot, Slot.id == ReservationPerson.slot_id)
        .where(ReservationPerson.reservation_id == reservation_id, Slot.desk_session_id == session_id)
        .limit(1)) is not None


def _lock(entry: WaitlistEntry) -> WaitlistEntry:
    return db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.id == entry.id).with_for_update()
        .execution_options(populate_existing=True)).one()


def _release_holds(entry: WaitlistEntry) -> None:
    """Give the seats an offer holds back to their slots."""
    holds = list(db.session.scalars(select(WaitlistHold).where(WaitlistHold.entry_id == entry.id)))
    seating.release(slot_id for hold in holds for slot_id in [hold.slot_id] * hold.seats)
    for hold in holds:
        db.session.delete(hold)
    db.session.flush()
    db.session.expire(entry, ["holds"])
