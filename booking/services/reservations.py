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
from . import seating, tokens
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
    include_staff: bool = True,
    channel: str = "web",
    booked_by: User | None = None,
    now: datetime | None = None,
    locale: str = "ja",
) -> Reservation:
    """Book a party starting in a slot: the staff member (unless ``include_staff`` is False) and the
    dependents who come along, one seat each, continuing in the next slots when the first is too
    small (services.seating)."""
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
    _check_someone_comes(include_staff, dependents)

    # A second booking by the same person is refused by the partial unique index
    # when the reservation is inserted (insert_reservation), not by a SELECT
    # first: that would cost every booking a round trip for a rare mistake.
    begin_write()
    try:
        seat_slot_ids = seating.seat(slot, int(include_staff) + len(dependents))
    except DomainError:
        # Someone who already holds a booking is told so rather than "full".
        existing = active_reservation(staff.id, campaign.id)
        if existing is not None:
            raise _already_reserved(existing) from None
        raise
    return insert_reservation(
        slot, staff, dependents, seat_slot_ids, include_staff=include_staff, channel=channel,
        booked_by=booked_by, now=now, duplicate_error=_already_reserved, locale=locale,
    )


def insert_reservation(
    slot: Slot,
    staff: Staff,
    dependents: list[Dependent],
    seat_slot_ids: list[int],
    *,
    include_staff: bool = True,
    channel: str,
    booked_by: User | None,
    now: datetime,
    duplicate_error: Callable[[Reservation], DomainError],
    locale: str = "ja",
) -> Reservation:
    """Write a reservation whose seats the caller has already taken (services.seating): the party
    starts in ``slot`` and its people sit in ``seat_slot_ids``, in order.

    Shared by bookings, phone bookings and walk-ins so that all of them get a
    code, a manage token and the same answer to a duplicate.
    """
    campaign_id = slot.desk_session.campaign_id
    values = {
        "slot_id": slot.id,
        "staff_id": staff.id,
        "campaign_id": campaign_id,
        "seats": len(seat_slot_ids),
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
        "locale": locale,
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
    coming: list[Dependent | None] = [None, *dependents] if include_staff else list(dependents)
    people = db.session.scalars(
        _insert_people_statement(),
        [{"reservation_id": reservation.id, "kind": "dependent" if d else "staff",
          "dependent_id": d.id if d else None, "slot_id": slot_id}
         for d, slot_id in zip(coming, seat_slot_ids, strict=True)],
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
    for person, dependent in zip(people, coming):
        set_committed_value(person, "reservation", reservation)
        set_committed_value(person, "dependent", dependent)
        # The slots a spanning party sits in were loaded when its seats were taken.
        set_committed_value(person, "slot", slot if person.slot_id == slot.id else db.session.get(Slot, person.slot_id))
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
    seating.release(seat_slot_ids(reservation.id))
    reservation.status = "cancelled"
    reservation.cancelled_at = now
    reservation.updated_at = now
    reservation.sequence += 1
    db.session.flush()
    return reservation


def reschedule(
    reservation: Reservation,
    slot_id: int,
    *,
    dependent_ids: Iterable[int] | None = None,
    include_staff: bool | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Move a party to another start in the same campaign, and change who comes when asked
    (``dependent_ids`` and ``include_staff``; None keeps them as booked). services.bookings.move
    has the chief look at the new time again.

    While the party is moved the seats it holds count as free for it: they are given back and
    the party seated afresh inside a savepoint, so a refusal (``slot_full``) leaves the booking
    exactly as it was, whoever the caller is.
    """
    now = now or utcnow()
    # Who comes, first as the caller last saw the booking (to know which slots to lock), then
    # again once it is locked.
    wanted = _party_after_move(reservation, dependent_ids, include_staff)
    reservation = lock_for_change(reservation, *_first_slots_from(slot_id, len(wanted)))
    if reservation.status != "booked":
        raise DomainError(
            "not_movable",
            _l("Only a booked reservation can be moved; this one is %(status)s.",
               status=reservation.status),
        )
    wanted = _party_after_move(reservation, dependent_ids, include_staff)
    held = [p.slot_id for p in reservation.people]
    if slot_id == reservation.slot_id and {p.dependent_id for p in reservation.people} == {
            d.id if d else None for d in wanted}:
        return reservation
    slot, _ = _load_slot(slot_id)
    if slot.desk_session.campaign_id != reservation.campaign_id:
        raise DomainError(
            "invalid",
            _l("Check the highlighted fields."),
            fields={"slot_id": _l("Choose a time from the same campaign.")},
        )
    _check_bookable(slot, now)
    with db.session.begin_nested():
        seating.release(held)
        seats = seating.seat(slot, len(wanted))
        seat_people(reservation, wanted, seats)
    reservation.sequence += 1
    reservation.updated_at = now
    db.session.flush()
    db.session.expire(reservation, ["slot"])
    return reservation


def who_comes(reservation: Reservation) -> tuple[bool, list[int]]:
    """Who the booking is for: whether the staff member comes, and the dependents' ids."""
    return (any(p.kind == "staff" for p in reservation.people),
            [p.dependent_id for p in reservation.people if p.dependent_id is not None])


def _party_after_move(reservation: Reservation, dependent_ids: Iterable[int] | None,
                      include_staff: bool | None) -> list[Dependent | None]:
    """Who comes after a move (None for the staff member): as booked, unless the move says."""
    if include_staff is None:
        include_staff = who_comes(reservation)[0]
    if dependent_ids is None:
        dependents = [p.dependent for p in reservation.people if p.dependent is not None]
    else:
        dependents = _own_dependents(reservation.staff, dependent_ids)
    _check_someone_comes(include_staff, dependents)
    return [None, *dependents] if include_staff else list(dependents)


def seat_people(reservation: Reservation, wanted: list[Dependent | None], seats: list[int]) -> None:
    """Make the reservation's people ``wanted`` (None for the staff member), sitting in ``seats``.

    People who stay keep their row (and its id); the seats must already be taken.
    """
    kept = {p.dependent_id: p for p in reservation.people}
    people = []
    for dependent, slot_id in zip(wanted, seats, strict=True):
        key = dependent.id if dependent else None
        person = kept.pop(key, None) or ReservationPerson(
            kind="dependent" if dependent else "staff", dependent=dependent)
        person.slot_id = slot_id
        people.append(person)
    reservation.people = people  # the ones left in ``kept`` are deleted (delete-orphan)
    reservation.slot_id = seats[0]
    reservation.seats = len(seats)


def seat_slot_ids(reservation_id: int) -> list[int]:
    """The slot of each person of a reservation, read from the database (not from loaded objects)."""
    return list(db.session.scalars(
        select(ReservationPerson.slot_id).where(ReservationPerson.reservation_id == reservation_id)
    ))


def party_span(reservation: Reservation) -> tuple[datetime, datetime]:
    """When the party is at the desk: the start of its first person's slot to the end of its last one's."""
    slots = [p.slot for p in reservation.people] or [reservation.slot]
    return min(s.starts_at for s in slots), max(s.ends_at for s in slots)


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
        # The slots its people sit in now, read from the database: the object may be older than
        # another request's move (and the refresh below would rewrite it in place, hiding the change).
        current_slot_ids = set(seat_slot_ids(reservation.id))
        # In a savepoint: if the booking moved while this waited for the slots, rolling back to
        # it lets go of these locks (PostgreSQL releases locks taken after a savepoint), and
        # the next round locks the slots it is in now, still before the row.
        savepoint = db.session.begin_nested()
        _lock_slots(*current_slot_ids, *other_slot_ids)
        fresh = db.session.scalars(
            select(Reservation)
            .where(Reservation.id == reservation.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        if set(seat_slot_ids(reservation.id)) == current_slot_ids:
            savepoint.commit()
            db.session.expire(fresh, ["people"])
            return fresh
        savepoint.rollback()
    raise DomainError("changed_meanwhile", _l(
        "This reservation was changed a moment ago. Open it again to see it as it is now."))


def _first_slots_from(slot_id: int, count: int) -> list[int]:
    """The slot and up to ``count - 1`` slots after it in its session: where a party of ``count``
    starting there may sit, to be locked with the slots it leaves."""
    start = select(Slot.desk_session_id, Slot.starts_at).where(Slot.id == slot_id).subquery()
    return list(db.session.scalars(
        select(Slot.id).join(start, Slot.desk_session_id == start.c.desk_session_id)
        .where(Slot.starts_at >= start.c.starts_at).order_by(Slot.starts_at, Slot.id).limit(count)
    ))


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


def check_party(staff: Staff, dependent_ids: Iterable[int], include_staff: bool) -> list[Dependent]:
    """The dependents a party brings, refused as a booking would refuse them (services.waitlist)."""
    dependents = _own_dependents(staff, dependent_ids)
    _check_someone_comes(include_staff, dependents)
    return dependents


def check_targeted(campaign: Campaign, staff: Staff) -> None:
    """Refuse a staff member whose unit the campaign is not for (``not_targeted``)."""
    _check_targeted(campaign, staff)


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


def _check_someone_comes(include_staff: bool, dependents: list[Dependent]) -> None:
    if not include_staff and not dependents:
        raise DomainError(
            "invalid",
            _l("Check the highlighted fields."),
            fields={"dependent_ids": _l("Choose at least one person who applies.")},
        )


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
