"""Reserving, cancelling and moving: the rules about seats, windows and duplicates.

These are the pieces the acts are made of; pages, the API and the CLI call the acts in
services.bookings (and the desk's in services.checkin), which check who acts, ask the
chief's approval where needed and write the audit event. A cascade of another act (a
session cancelled, a chief's decline, a person's data erased) uses ``cancel`` directly and
its own act records what it did.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CursorResult,
    Executable,
    Select,
    Table,
    Update,
    bindparam,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..localtime import utcnow
from ..models import (
    ACTIVE_STATUSES,
    Campaign,
    Dependent,
    DeskSession,
    Reservation,
    ReservationPerson,
    Slot,
    Staff,
    Unit,
    User,
    campaign_units,
)
from . import capacity, tokens
from .database import begin_write
from .errors import DomainError, NotFound

#: A reservation's status and channel in words, wherever they are shown to people
#: (the desk board says "Waiting" rather than "Booked": see desk/board.py).
STATUS_LABELS = {
    "booked": _l("Booked"),
    "checked_in": _l("Checked in"),
    "cancelled": _l("Cancelled"),
    "no_show": _l("No-show"),
}
CHANNEL_LABELS = {"web": _l("Web"), "phone": _l("Phone"), "walk_in": _l("Walk-in")}


def reserve(
    slot_id: int,
    staff: Staff,
    *,
    dependent_ids: Iterable[int] = (),
    channel: str = "web",
    booked_by: User | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Book a slot for a staff member and the dependents who come along."""
    now = now or utcnow()
    # The checks read before the write lock is taken: on SQLite every booking
    # waits for that lock, so it is held only for the writes (about half the
    # time). Nothing decided here can overbook or duplicate: the conditional
    # UPDATE decides capacity and the partial unique index duplicates, exactly
    # as on PostgreSQL, where no lock is taken at all.
    slot, targets_some_units = _load_slot(slot_id)
    campaign = slot.desk_session.campaign
    _check_bookable(slot, now)
    if targets_some_units:
        _check_targeted(campaign, staff)
    dependents = _own_dependents(staff, dependent_ids)

    # A second booking by the same person is refused by the partial unique index
    # when the reservation is inserted (insert_reservation), not by a SELECT
    # first: that would cost every booking a round trip for a rare mistake.
    begin_write()
    try:
        capacity.take(slot.id, 1 + len(dependents))
    except DomainError:
        # Someone who already holds a booking is told so rather than "full".
        existing = active_reservation(staff.id, campaign.id)
        if existing is not None:
            raise _already_reserved(existing) from None
        raise
    return insert_reservation(
        slot, staff, dependents, channel=channel, booked_by=booked_by, now=now,
        duplicate_error=_already_reserved,
    )


def insert_reservation(
    slot: Slot,
    staff: Staff,
    dependents: list[Dependent],
    *,
    channel: str,
    booked_by: User | None,
    now: datetime,
    duplicate_error: Callable[[Reservation], DomainError],
) -> Reservation:
    """Write a reservation whose seats the caller has already taken in ``slot``.

    Shared by bookings, phone bookings and walk-ins so that all of them get a
    code, a manage token and the same answer to a duplicate.
    """
    campaign_id = slot.desk_session.campaign_id
    values = {
        "slot_id": slot.id,
        "staff_id": staff.id,
        "campaign_id": campaign_id,
        "seats": 1 + len(dependents),
        "channel": channel,
        "status": "booked",
        "token_nonce": tokens.new_nonce(),
        # A random placeholder until the id (and so the token) is known: a constant
        # like "" would make every concurrent booking on PostgreSQL wait on the
        # unique index for the previous one to commit.
        "manage_token_hash": tokens.new_nonce(),
        "booked_by_id": booked_by.id if booked_by else None,
        "created_at": now,
        "updated_at": now,
    }
    statement = _insert_reservation_statement(db.session.get_bind().dialect.name)
    try:
        # ORM-enabled INSERT ... RETURNING rather than session.add() and a
        # unit-of-work flush: the row comes back as a persistent object for the
        # confirmation, at a third of the flush's cost in the booking rush.
        # 20^6 = 64 million codes: a clash with an existing one is rare, and then
        # ON CONFLICT (code) DO NOTHING returns no row and another code is drawn,
        # without a SELECT before every booking.
        reservation = None
        while reservation is None:
            reservation = db.session.scalars(
                statement, [{**values, "code": tokens.random_code(6)}]
            ).one_or_none()
    except IntegrityError:
        # The person already holds a booking in this campaign (or a concurrent one
        # of theirs just committed): the partial unique index refused this one.
        # The transaction is dead, so undo it here and report the booking they hold.
        db.session.rollback()
        winner = active_reservation(staff.id, campaign_id)
        if winner is None:
            raise
        raise duplicate_error(winner) from None
    people = db.session.scalars(
        _insert_people_statement(),
        [{"reservation_id": reservation.id, "kind": "staff", "dependent_id": None}]
        + [{"reservation_id": reservation.id, "kind": "dependent", "dependent_id": d.id} for d in dependents],
    ).all()
    # The token needs the id, so its hash is set by a second statement. That statement also
    # makes sure the session was not cancelled since the booking's checks: it runs after the
    # seats were taken, and cancel_session locks the session's slots before it reads the
    # bookings to cancel, so either it waited for this booking (and will cancel it) or this
    # sees the cancellation (a fresh statement, so a fresh snapshot on PostgreSQL).
    token_hash = tokens.digest(manage_token(reservation))
    kept = cast("CursorResult[Any]", db.session.execute(_set_manage_token_hash(), {
        "reservation_id": reservation.id, "token_hash": token_hash, "session_id": slot.desk_session_id,
    })).rowcount
    if kept != 1:
        raise DomainError("booking_closed", _l(
            "This session has just been cancelled. Choose a time in another session."))
    # What the confirmation shows is already loaded: attach it rather than let
    # each attribute load it again.
    set_committed_value(reservation, "manage_token_hash", token_hash)
    set_committed_value(reservation, "slot", slot)
    set_committed_value(reservation, "staff", staff)
    set_committed_value(reservation, "people", people)
    for person, dependent in zip(people, [None, *dependents]):
        set_committed_value(person, "reservation", reservation)
        set_committed_value(person, "dependent", dependent)
    return reservation


def cancel(reservation: Reservation, *, now: datetime | None = None) -> Reservation:
    """Cancel a booking and free its seats at once (rule 4)."""
    now = now or utcnow()
    reservation = lock_for_change(reservation)
    if reservation.status == "cancelled":
        return reservation
    if reservation.status != "booked":
        raise DomainError(
            "not_cancellable",
            _l("This reservation has already been used at the desk and cannot be cancelled."),
        )
    capacity.release(reservation.slot_id, reservation.seats)
    reservation.status = "cancelled"
    reservation.cancelled_at = now
    reservation.updated_at = now
    reservation.sequence += 1
    db.session.flush()
    return reservation


def reschedule(
    reservation: Reservation, slot_id: int, *, now: datetime | None = None
) -> Reservation:
    """Move a booking to another slot of the same campaign (services.bookings.move has the
    chief look at the new time again).

    The new seats are taken before the old ones are freed, in one transaction:
    if the new slot is full the caller's rollback leaves the booking as it was.
    """
    now = now or utcnow()
    reservation = lock_for_change(reservation, slot_id)
    if reservation.status != "booked":
        raise DomainError(
            "not_movable",
            _l("Only a booked reservation can be moved; this one is %(status)s.",
               status=reservation.status),
        )
    if slot_id == reservation.slot_id:
        return reservation
    slot, _ = _load_slot(slot_id)
    if slot.desk_session.campaign_id != reservation.campaign_id:
        raise DomainError(
            "invalid",
            _l("Check the highlighted fields."),
            fields={"slot_id": _l("Choose a time from the same campaign.")},
        )
    _check_bookable(slot, now)
    capacity.take(slot.id, reservation.seats)
    capacity.release(reservation.slot_id, reservation.seats)
    reservation.slot_id = slot.id
    reservation.sequence += 1
    reservation.updated_at = now
    db.session.flush()
    db.session.expire(reservation, ["slot"])
    return reservation


def active_reservation(staff_id: int, campaign_id: int) -> Reservation | None:
    return db.session.scalar(
        select(Reservation).where(
            Reservation.staff_id == staff_id,
            Reservation.campaign_id == campaign_id,
            Reservation.status.in_(ACTIVE_STATUSES),
        )
    )


def reservations_of(staff: Staff) -> list[Reservation]:
    """The staff member's active reservations, soonest first."""
    # Pages show each one's time, venue and campaign: loaded here in the same
    # query rather than three lazy loads per reservation.
    return list(
        db.session.scalars(
            select(Reservation)
            .join(Reservation.slot)
            .options(
                contains_eager(Reservation.slot).joinedload(Slot.desk_session).joinedload(DeskSession.venue),
                joinedload(Reservation.campaign),
            )
            .where(Reservation.staff_id == staff.id, Reservation.status.in_(ACTIVE_STATUSES))
            .order_by(Slot.starts_at)
        )
    )


def manage_token(reservation: Reservation) -> str:
    return tokens.url_token("manage", reservation.id, reservation.token_nonce)


def by_manage_token(token: str) -> Reservation:
    """The reservation a manage link or QR code points at; tampered or unknown tokens are refused."""
    reservation = None
    if token and len(token) <= 64:
        reservation = db.session.scalar(
            select(Reservation)
            .options(
                joinedload(Reservation.slot).joinedload(Slot.desk_session).joinedload(DeskSession.venue),
                joinedload(Reservation.staff),
                selectinload(Reservation.people).joinedload(ReservationPerson.dependent),
            )
            .where(Reservation.manage_token_hash == tokens.digest(token))
        )
    if reservation is None:
        raise NotFound(
            _l("This link is not valid. Open the link from your confirmation again, "
               "or ask the My Number section.")
        )
    return reservation


def by_code(code: str) -> Reservation:
    reservation = db.session.scalar(
        select(Reservation).where(Reservation.code == tokens.normalise_code(code))
    )
    if reservation is None:
        raise NotFound(_l("No reservation has this code. Check the code and try again."))
    return reservation


def booking_deadline(slot: Slot, campaign: Campaign) -> datetime:
    """The last moment a slot can be booked: the campaign's close or the cut-off before it starts."""
    return min(campaign.booking_closes_at, slot.starts_at - timedelta(minutes=campaign.cutoff_minutes))


def is_bookable(slot: Slot, campaign: Campaign, now: datetime) -> bool:
    return (
        campaign.is_published
        and not slot.desk_session.is_cancelled
        and campaign.booking_opens_at <= now <= booking_deadline(slot, campaign)
    )


# --- the pieces -------------------------------------------------------------


def lock_for_change(reservation: Reservation, *other_slot_ids: int) -> Reservation:
    """The reservation read afresh and locked, with its slot and the other slots given locked first.

    Two cancels or moves of the same booking at once must not both release its
    seats: the row lock makes the second one see the first one's result. Slots
    are locked before reservations, in id order, everywhere (a session edit or
    cancellation too), so that two of these wait for each other instead of
    deadlocking. (SQLite: begin_write already serialises writers, and FOR UPDATE
    is not emitted.)
    """
    begin_write()
    for _attempt in range(5):
        # The slot it is in now, read from the database: the object may be older than another
        # request's move (and the refresh below would rewrite it in place, hiding the change).
        current_slot_id = db.session.scalars(select(Reservation.slot_id).where(Reservation.id == reservation.id)).one()
        # In a savepoint: if the booking moved while this waited for the slot, rolling back to
        # it lets go of these locks (PostgreSQL releases locks taken after a savepoint), and
        # the next round locks the slot it is in now, still before the row.
        savepoint = db.session.begin_nested()
        _lock_slots(current_slot_id, *other_slot_ids)
        fresh = db.session.scalars(
            select(Reservation)
            .where(Reservation.id == reservation.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        if fresh.slot_id == current_slot_id:
            savepoint.commit()
            return fresh
        savepoint.rollback()
    raise DomainError("changed_meanwhile", _l(
        "This reservation was changed a moment ago. Open it again to see it as it is now."))


def _lock_slots(*slot_ids: int) -> None:
    for slot_id in sorted(set(slot_ids)):
        db.session.execute(select(Slot.id).where(Slot.id == slot_id).with_for_update())


def _load_slot(slot_id: int) -> tuple[Slot, bool]:
    """The slot with its session, campaign and venue, and whether the campaign is for some units only."""
    row = db.session.execute(_slot_with_session_query(), {"slot_id": slot_id}).first()
    if row is None or not row.Slot.desk_session.campaign.is_published:
        raise NotFound(_l("This time slot does not exist. Go back and choose another time."))
    return row.Slot, row.targets_some_units


def _check_bookable(slot: Slot, now: datetime) -> None:
    campaign = slot.desk_session.campaign
    if not is_bookable(slot, campaign, now):
        if now < campaign.booking_opens_at:
            message = _l("Booking has not opened yet. Please try again when booking opens.")
        else:
            message = _l("Booking for this time has closed. Choose a later time or "
                         "call the My Number section.")
        raise DomainError("booking_closed", message)


def _check_targeted(campaign: Campaign, staff: Staff) -> None:
    # Plain id queries instead of loading Unit objects and their children one by one.
    # Only for campaigns that name their units: most are for every unit.
    connection = db.session.connection()
    targets = set(connection.execute(_campaign_targets_query(), {"campaign_id": campaign.id}).scalars())
    if not targets:
        return
    parents: dict[int, int | None] = {
        row.id: row.parent_id for row in connection.execute(select(Unit.__table__.c.id, Unit.__table__.c.parent_id))
    }
    unit_id: int | None = staff.unit_id
    seen: set[int] = set()
    while unit_id is not None and unit_id not in seen:
        if unit_id in targets:
            return
        seen.add(unit_id)
        unit_id = parents.get(unit_id)
    raise DomainError(
        "not_targeted",
        _l("This campaign is not for your unit. Ask the My Number section which one is."),
    )


def _own_dependents(staff: Staff, dependent_ids: Iterable[int]) -> list[Dependent]:
    wanted = list(dict.fromkeys(dependent_ids))
    if not wanted:
        return []
    found = {d.id: d for d in staff.dependents if d.id in wanted}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise DomainError(
            "invalid",
            _l("Check the highlighted fields."),
            fields={"dependent_ids": _l("Only your own registered dependents can come along.")},
        )
    return [found[i] for i in wanted]


def _already_reserved(existing: Reservation) -> DomainError:
    return DomainError(
        "already_reserved",
        _l("You already have a reservation in this campaign (code %(code)s). "
           "Open it to move or cancel it.", code=tokens.format_code(existing.code)),
        reservation_code=existing.code,
    )


# --- the booking path's statements, built once per process --------------------
# A rush runs the same few statements thousands of times a minute; building them
# (and their cache keys) on every request was a tenth of a booking's CPU time.

# A Table (the declarative base types ``__table__`` as any FromClause, which update() does not take).
_reservations = cast(Table, Reservation.__table__)


@cache
def _slot_with_session_query() -> Select[Slot, bool]:
    # Whether the campaign names its units, in the same statement: most campaigns
    # are for every unit, and then the booking needs no query about targets.
    targets_some_units = exists().where(campaign_units.c.campaign_id == DeskSession.campaign_id)
    return (
        select(Slot, targets_some_units.label("targets_some_units"))
        .join(Slot.desk_session)
        .options(
            contains_eager(Slot.desk_session).joinedload(DeskSession.campaign),
            contains_eager(Slot.desk_session).joinedload(DeskSession.venue),
        )
        .where(Slot.id == bindparam("slot_id"))
    )


@cache
def _insert_reservation_statement(dialect: str) -> Executable:
    # Both databases spell the upsert the same way, through their own construct.
    if dialect == "postgresql":
        return postgresql.insert(Reservation).on_conflict_do_nothing(index_elements=[Reservation.code]).returning(
            Reservation)
    if dialect == "sqlite":
        return sqlite.insert(Reservation).on_conflict_do_nothing(index_elements=[Reservation.code]).returning(
            Reservation)
    raise KeyError(dialect)


@cache
def _insert_people_statement() -> Executable:
    return insert(ReservationPerson).returning(ReservationPerson, sort_by_parameter_order=True)


@cache
def _campaign_targets_query() -> Select[int]:
    return select(campaign_units.c.unit_id).where(campaign_units.c.campaign_id == bindparam("campaign_id"))


@cache
def _set_manage_token_hash() -> Update:
    sessions = DeskSession.__table__
    session_cancelled = exists().where(sessions.c.id == bindparam("session_id"), sessions.c.is_cancelled.is_(True))
    return (
        update(_reservations)
        .where(_reservations.c.id == bindparam("reservation_id"), ~session_cancelled)
        .values(manage_token_hash=bindparam("token_hash"))
    )
