"""The desk: checking people in, "application submitted", walk-ins and no-shows.

Every act takes its actor first (the clerk, or the command line for the cron that closes
ended sessions) and ``now`` explicitly, checks its rules, writes one audit event, flushes
and never commits; the page, the JSON API and the CLI call the same functions.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, selectinload

from ..extensions import db
from ..formatting import clock
from ..localtime import TOKYO, local_today, utcnow
from ..models import (
    CheckIn,
    DeskSession,
    Reservation,
    ReservationPerson,
    Slot,
    Staff,
    Unit,
    User,
    kana_key,
)
from . import audit, capacity, outbox, seating, tokens
from .accounts import require_role
from .actor import Actor
from .applications import application_id_from_qr
from .confirmations import token_from_qr
from .database import begin_write
from .errors import DomainError, NotFound
from .guard import refuse_individual_numbers
from .invitations import normalise_staff_number
from .reservations import (
    active_reservation,
    by_code,
    by_manage_token,
    insert_reservation,
)
from .slots import session_bounds

#: A reservation in these states can still be checked in; a no-show who turns up
#: late (after the clerk closed the desk) is welcome all the same.
CHECKABLE_STATUSES = ("booked", "no_show")
#: Who works the desk.
DESK_ROLES = ("clerk", "admin")
#: What a list of reservations on the desk shows: the slot, the staff member and unit, the people.
_AS_LISTED = (
    joinedload(Reservation.slot),
    joinedload(Reservation.staff).joinedload(Staff.unit),
    selectinload(Reservation.people).joinedload(ReservationPerson.dependent),
)


def clerk_label(user: User | None) -> str:
    if user is None:
        return "?"
    return user.display_name or user.username


# --- finding the reservation ---------------------------------------------------


def find_reservation(*, qr: str | None = None, code: str | None = None) -> Reservation:
    """The reservation a scanned QR text or a typed code points at.

    A QR text that is not one of our manage links, or whose token does not
    match (tampered, revoked), is ``invalid_qr``; an unknown typed code is
    ``not_found``.
    """
    if qr is not None and qr.strip():
        token = token_from_qr(qr)
        if token:
            try:
                return _load(by_manage_token(token).id)
            except NotFound:
                pass
        if application_id_from_qr(qr):
            # The two QR codes at the desk: the form's holds a 申請書ID, the booking's a link.
            raise DomainError(
                "invalid_qr",
                _l("This is the QR code of an application form (its 申請書ID), not of a booking. Scan the "
                   "booking's QR code, or type the reservation code; the form's QR goes into the application panel."),
            )
        raise DomainError(
            "invalid_qr",
            _l("This QR code is not a valid reservation of this system (it may have been altered "
               "or replaced). Ask for the reservation code and type it in, or seat the person as a walk-in."),
        )
    if code is not None and tokens.normalise_code(code):
        return _load(by_code(code).id)
    raise DomainError(
        "invalid",
        _l("Scan the QR code or type the reservation code."),
        fields={"code": _l("Type the reservation code, e.g. K7M-4QX.")},
    )


def _load(reservation_id: int) -> Reservation:
    return db.session.scalars(
        select(Reservation)
        .options(
            joinedload(Reservation.slot).joinedload(Slot.desk_session).joinedload(DeskSession.venue),
            joinedload(Reservation.staff).joinedload(Staff.unit),
            selectinload(Reservation.people).joinedload(ReservationPerson.dependent),
        )
        .where(Reservation.id == reservation_id)
        .execution_options(populate_existing=True)
    ).one()


def reservation_by_id(reservation_id: int) -> Reservation:
    reservation = db.session.get(Reservation, reservation_id)
    if reservation is None:
        raise NotFound(_l("No such reservation."))
    return _load(reservation_id)


def check_ins_of(reservation: Reservation) -> dict[int, CheckIn]:
    """The reservation's check-ins by reservation person id."""
    rows = db.session.scalars(
        select(CheckIn)
        .options(joinedload(CheckIn.clerk))
        .join(CheckIn.person)
        .where(ReservationPerson.reservation_id == reservation.id)
        .order_by(CheckIn.id)
        .execution_options(populate_existing=True)
    )
    return {row.reservation_person_id: row for row in rows}


# --- checking in -----------------------------------------------------------------


def check_in(
    actor: Actor,
    reservation: Reservation,
    *,
    present: Iterable[int] | None = None,
    now: datetime | None = None,
) -> list[CheckIn]:
    """Check in the people of a reservation who are here (all of them unless ``present`` says who).

    The first check-in of a reservation moves it to ``checked_in`` (audited as ``checkin``);
    once it is checked in, people of it not checked in yet are late arrivals
    (``checkin.late``). Only people already checked in are refused (``already_checked_in``,
    saying when and by whom).
    """
    require_role(actor, *DESK_ROLES)
    assert actor.user is not None  # require_role refuses an actor without an office account
    now = now or utcnow()
    begin_write()
    people = list(reservation.people)
    wanted = None if present is None else set(present)
    if wanted is not None and wanted - {p.id for p in people}:
        raise DomainError(
            "invalid",
            _l("Check the highlighted fields."),
            fields={"people": _l("Only people on this reservation can be checked in.")},
        )
    first = None
    if reservation.status != "checked_in":
        first = _check_in_first(reservation, actor.user, people, wanted, now)
    # Checked in already, or by another desk a moment ago: these are late arrivals.
    rows = first if first is not None else _check_in_late_arrivals(reservation, actor.user, people, wanted, now)
    action = "checkin" if first is not None else "checkin.late"
    audit.record(
        action, actor=actor, target_type="reservation", target_id=reservation.id,
        people=len(rows), absent=len(people) - len(rows) if action == "checkin" else None,
    )
    return rows


def _nobody_ticked() -> DomainError:
    return DomainError(
        "invalid",
        _l("Tick at least one person who is here."),
        fields={"people": _l("Tick at least one person who is here.")},
    )


def _check_in_first(
    reservation: Reservation, clerk: User, people: list[ReservationPerson], wanted: set[int] | None,
    now: datetime,
) -> list[CheckIn] | None:
    """The reservation's first check-in; None when another desk has just made it.

    Two desks scanning the same QR at the same moment: the conditional update
    below lets exactly one of them move the reservation out of ``booked``; the
    other updates no row and is told who checked it in and when. On SQLite the
    write lock from begin_write serialises them; on PostgreSQL the second
    UPDATE waits for the first one's row lock, re-reads the row and finds it
    no longer booked. The unique check-in per reservation person is the
    backstop.
    """
    chosen = people if wanted is None else [p for p in people if p.id in wanted]
    if not chosen:
        raise _nobody_ticked()

    if reservation.status == "no_show":
        # A no-show frees the person to book again; if they did, that booking is the one
        # to check in (the database allows one active booking per person and campaign).
        rebooked = _booked_again(reservation)
        if rebooked is not None:
            raise rebooked
    try:
        result = cast("CursorResult[Any]", db.session.execute(
            update(Reservation)
            .where(Reservation.id == reservation.id, Reservation.status.in_(CHECKABLE_STATUSES))
            .values(status="checked_in", updated_at=now)
            .execution_options(synchronize_session=False)
        ))
    except IntegrityError:
        # The new booking was made between the look above and this update.
        db.session.rollback()
        raise _booked_again(reservation) or _refusal(reservation.id) from None
    if result.rowcount != 1:
        if _status_now(reservation.id) == "checked_in":
            return None
        raise _refusal(reservation.id)
    rows = _add_check_ins(reservation, clerk, chosen, now)
    db.session.expire(reservation, ["status", "updated_at"])
    return rows


def _status_now(reservation_id: int) -> str:
    return db.session.scalars(select(Reservation.status).where(Reservation.id == reservation_id)).one()


def _check_in_late_arrivals(
    reservation: Reservation, clerk: User, people: list[ReservationPerson], wanted: set[int] | None,
    now: datetime,
) -> list[CheckIn]:
    """People of a checked-in reservation who arrived after the others."""
    if wanted is not None and not wanted:
        raise _nobody_ticked()
    done = check_ins_of(reservation)
    chosen = [p for p in people if (wanted is None or p.id in wanted) and p.id not in done]
    if not chosen:
        raise _refusal(reservation.id)  # everyone asked for is already checked in
    return _add_check_ins(reservation, clerk, chosen, now)


def _add_check_ins(
    reservation: Reservation, clerk: User, chosen: list[ReservationPerson], now: datetime
) -> list[CheckIn]:
    rows = [CheckIn(reservation_person_id=p.id, clerk_id=clerk.id, checked_in_at=now) for p in chosen]
    db.session.add_all(rows)
    try:
        db.session.flush()
    except IntegrityError:
        # Another desk checked the same person in a moment ago.
        db.session.rollback()
        raise _refusal(reservation.id) from None
    return rows


def _booked_again(reservation: Reservation) -> DomainError | None:
    """A no-show whose person holds another active booking in the campaign: check that one in."""
    newer = active_reservation(reservation.staff_id, reservation.campaign_id)
    if newer is None or newer.id == reservation.id:
        return None
    return DomainError(
        "already_reserved",
        _l("This person missed this booking and has booked again since (code %(code)s): "
           "check in that booking instead.", code=tokens.format_code(newer.code)),
        reservation_id=reservation.id,
        reservation_code=newer.code,
    )


def _refusal(reservation_id: int) -> DomainError:
    """Why a reservation cannot be checked in (again), read fresh from the database."""
    reservation = db.session.scalars(
        select(Reservation).where(Reservation.id == reservation_id).execution_options(populate_existing=True)
    ).one()
    if reservation.status == "cancelled":
        return DomainError(
            "cancelled",
            _l("This reservation was cancelled. If there is room, seat the person as a walk-in."),
            reservation_id=reservation.id,
        )
    first = next(iter(check_ins_of(reservation).values()), None)
    if first is None:
        return DomainError("already_checked_in", _l("This reservation is already checked in."),
                           reservation_id=reservation.id)
    at = first.checked_in_at.astimezone(TOKYO)
    by = clerk_label(first.clerk)
    return DomainError(
        "already_checked_in",
        _l("Already checked in at %(time)s by %(clerk)s.", time=clock(at), clerk=by),
        reservation_id=reservation.id,
        checked_in_at=at.isoformat(),
        checked_in_by=by,
    )


# --- walk-ins --------------------------------------------------------------------

def find_staff(query: str, *, limit: int = 20) -> list[Staff]:
    """Staff whose number starts with the query, or whose kana (any form) or name contains it."""
    number = normalise_staff_number(query)
    kana = kana_key(query)
    if not number and not kana:
        return []
    full_name = Staff.family_name + Staff.given_name
    conditions = [Staff.staff_number.startswith(number, autoescape=True)]
    if kana:
        conditions += [Staff.search_kana.contains(kana, autoescape=True),
                       full_name.contains(kana, autoescape=True)]
    rows = db.session.scalars(
        select(Staff)
        .options(joinedload(Staff.unit), selectinload(Staff.dependents))
        .where(or_(*conditions))
        .order_by(case((Staff.staff_number == number, 0), else_=1), Staff.search_kana, Staff.staff_number)
        .limit(limit)
    )
    return list(rows)


def active_reservations_of(staff_ids: Iterable[int], campaign_id: int) -> dict[int, Reservation]:
    """Each staff member's active reservation in the campaign, for marking search results."""
    ids = list(staff_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Reservation)
        .options(joinedload(Reservation.slot))
        .where(Reservation.staff_id.in_(ids), Reservation.campaign_id == campaign_id,
               Reservation.status.in_(("booked", "checked_in")))
    )
    return {r.staff_id: r for r in rows}


@dataclass(frozen=True)
class WalkInResult:
    reservation: Reservation
    check_ins: list[CheckIn]
    is_override: bool


def walk_in(
    actor: Actor,
    desk_session: DeskSession,
    staff: Staff,
    *,
    dependent_ids: Iterable[int] = (),
    override_reason: str | None = None,
    now: datetime | None = None,
) -> WalkInResult:
    """Seat a staff member who came without a booking and check them in at once.

    They get the current slot, or the next one that has room (channel
    ``walk_in``). When no slot has room the clerk may seat them over capacity
    with a reason: the slot's capacity is raised by exactly the missing seats
    (so ``seats_taken <= capacity`` still holds). One audit event: ``walk_in``, or
    ``walk_in.over_capacity`` with the capacity before and the reason.
    """
    require_role(actor, *DESK_ROLES)
    assert actor.user is not None  # require_role refuses an actor without an office account
    now = now or utcnow()
    reason = (override_reason or "").strip()
    if reason:
        refuse_individual_numbers({"override_reason": reason})
    begin_write()
    if desk_session.is_cancelled:
        raise DomainError("invalid", _l("This session is cancelled."))
    campaign = desk_session.campaign
    wanted = list(dict.fromkeys(dependent_ids))
    dependents = [d for d in staff.dependents if d.id in wanted]
    if len(dependents) != len(wanted):
        raise DomainError("invalid", _l("Check the highlighted fields."),
                          fields={"dependent_ids": _l("Only the staff member's own dependents can come along.")})
    existing = active_reservation(staff.id, campaign.id)
    if existing is not None:
        raise _already_booked(existing)

    seats = 1 + len(dependents)
    candidates = [s for s in desk_session.slots if s.ends_at > now]
    if not candidates:
        raise DomainError(
            "session_over",
            _l("This session has ended. Walk-ins can only be seated in the current or a later slot."),
        )
    # The first start from which the whole party can be seated, as a booking would be: in the
    # free seats of that slot and the ones after it, without a gap.
    chosen, seat_slot_ids = None, None
    for slot, reach in zip(candidates, seating.reach([s.remaining for s in candidates])):
        if reach < seats:
            continue
        try:
            seat_slot_ids = seating.seat(slot, seats)
        except DomainError:
            continue  # taken by a booking since the slots were read: try the next start
        chosen = slot
        break
    over_capacity: dict[str, Any] = {}
    if chosen is None or seat_slot_ids is None:
        if not reason:
            raise DomainError(
                "slot_full",
                _l("No slot left in this session has room for %(n)s. To seat them anyway, "
                   "tick \u201cover capacity\u201d and give a reason.", n=seats),
                fields={"override_reason": _l("Give a reason to seat over capacity.")},
            )
        chosen = candidates[0]
        forced = capacity.force(chosen.id, seats)
        seat_slot_ids = [chosen.id] * seats
        over_capacity = {
            "capacity_before": forced.capacity_before, "seats_taken_before": forced.seats_taken_before,
            "added_capacity": forced.added_capacity, "reason": reason,
        }
    for seated in {db.session.get(Slot, slot_id) for slot_id in seat_slot_ids}:
        if seated is not None:
            db.session.expire(seated, ["capacity", "seats_taken"])

    # Another desk may have seated the same person a moment ago: the partial
    # unique index refuses the second, reported like any duplicate.
    reservation = insert_reservation(
        chosen, staff, dependents, seat_slot_ids, channel="walk_in", booked_by=actor.user, now=now,
        duplicate_error=_already_booked,
    )
    rows = _check_in_first(reservation, actor.user, list(reservation.people), None, now)
    assert rows is not None  # a reservation made just now cannot have been checked in elsewhere
    audit.record("walk_in.over_capacity" if over_capacity else "walk_in", actor=actor,
                 target_type="reservation", target_id=reservation.id, code=reservation.code,
                 staff_number=staff.staff_number, slot_id=chosen.id, seats=seats, people=len(rows),
                 over_capacity=True if over_capacity else None, **over_capacity)
    outbox.enqueue("confirmation", reservation, now=now, walk_in=True)
    return WalkInResult(reservation, rows, bool(over_capacity))


def _already_booked(existing: Reservation) -> DomainError:
    starts = existing.slot.starts_at.astimezone(TOKYO)
    return DomainError(
        "already_reserved",
        _l("This person already has a reservation in this campaign (code %(code)s, %(when)s). "
           "Open it to check them in.",
           code=tokens.format_code(existing.code), when=starts.strftime("%m/%d %H:%M")),
        reservation_code=existing.code,
        reservation_id=existing.id,
    )


# --- no-shows --------------------------------------------------------------------


def _no_show_cutoff(desk_session: DeskSession, now: datetime) -> datetime:
    """Slots that ended at or before this instant are over, the section's grace included."""
    return now - timedelta(minutes=desk_session.campaign.no_show_grace_minutes)


def no_show_candidates(desk_session: DeskSession, *, now: datetime | None = None) -> list[Reservation]:
    """The session's bookings nobody has come for and whose time is over: every slot the party
    sits in ended at least the campaign's grace ago. A booking whose slot is still to come, or
    ended within the grace, is not one of them (a late arrival keeps it). In time order."""
    now = now or utcnow()
    cutoff = _no_show_cutoff(desk_session, now)
    seat_slot = aliased(Slot)
    still_due = (
        select(ReservationPerson.id)
        .join(seat_slot, seat_slot.id == ReservationPerson.slot_id)
        .where(ReservationPerson.reservation_id == Reservation.id, seat_slot.ends_at > cutoff)
        .exists()
    )
    return list(db.session.scalars(
        select(Reservation)
        .join(Reservation.slot)
        .join(Reservation.staff)
        .options(*_AS_LISTED)
        .where(Slot.desk_session_id == desk_session.id, Reservation.status == "booked",
               Slot.ends_at <= cutoff, ~still_due)
        .order_by(Slot.starts_at, Staff.family_name_kana, Reservation.id)
    ).unique())


def mark_no_shows(actor: Actor, desk_session: DeskSession, *, now: datetime | None = None,
                  reservation_ids: Iterable[int] | None = None) -> int:
    """Close the desk for the times that are over: each booking of the session still ``booked``
    whose slots all ended at least the campaign's grace ago becomes ``no_show``
    (no_show_candidates). Bookings still to come stay booked, however late the click.

    ``reservation_ids`` limits it to the people the clerk was shown and confirmed; None (the
    cron) takes every candidate. Seats stay taken (the time has passed); a no-show who turns up
    later can still be checked in. The status condition in the UPDATE leaves anyone checked in
    at the same moment alone. Refused before the session starts.
    """
    if actor.channel not in ("cli", "system"):  # the cron closing ended sessions has no account
        require_role(actor, *DESK_ROLES)
    now = now or utcnow()
    start, _end = session_bounds(desk_session.date, desk_session.start_time, desk_session.end_time)
    if now < start:
        raise DomainError("not_started", _l(
            "This session has not started yet. The desk can be closed once it has begun."))
    begin_write()
    ids = [r.id for r in no_show_candidates(desk_session, now=now)]
    if reservation_ids is not None:
        confirmed = set(reservation_ids)
        ids = [i for i in ids if i in confirmed]
    count = 0
    if ids:
        result = cast("CursorResult[Any]", db.session.execute(
            update(Reservation)
            .where(Reservation.id.in_(ids), Reservation.status == "booked")
            .values(status="no_show", updated_at=now)
            .execution_options(synchronize_session=False)
        ))
        count = result.rowcount or 0
    audit.record("no_show.mark", actor=actor, target_type="desk_session", target_id=desk_session.id,
                 reservations=count)
    db.session.expire_all()
    return count


def close_ended_sessions(actor: Actor, *, now: datetime | None = None) -> dict[int, int]:
    """For cron: mark the no-shows of every session that has ended (and whose grace after its
    last slot has passed). Returns {session_id: count}.

    Each session closed is its own act, as when a clerk closes it (one event each)."""
    now = now or utcnow()
    candidates = db.session.scalars(
        select(DeskSession)
        .join(Slot, Slot.desk_session_id == DeskSession.id)
        .join(Reservation, Reservation.slot_id == Slot.id)
        .where(Reservation.status == "booked", Slot.ends_at <= now)
        .distinct()
    ).all()
    done = {}
    for desk_session in candidates:
        _start, end = session_bounds(desk_session.date, desk_session.start_time, desk_session.end_time)
        if end <= _no_show_cutoff(desk_session, now):
            count = mark_no_shows(actor, desk_session, now=now)
            if count:
                done[desk_session.id] = count
    return done


def recent_campaign_id(now: datetime | None = None) -> int | None:
    """The campaign whose desks are running or ran last (the latest session already begun),
    which the no-show list opens on; a future campaign only when none has begun."""
    now = now or utcnow()
    begun = db.session.scalar(
        select(DeskSession.campaign_id)
        .join(Slot, Slot.desk_session_id == DeskSession.id)
        .where(DeskSession.is_cancelled.is_(False), Slot.starts_at <= now)
        .order_by(Slot.starts_at.desc(), DeskSession.id.desc())
        .limit(1)
    )
    if begun is not None:
        return begun
    return db.session.scalar(
        select(DeskSession.campaign_id).where(DeskSession.is_cancelled.is_(False))
        .order_by(DeskSession.date, DeskSession.start_time).limit(1))


@dataclass
class UnitNoShows:
    unit: Unit
    reservations: list[Reservation]


def no_shows_by_unit(
    *, campaign_id: int | None = None, unit_ids: set[int] | None = None
) -> list[UnitNoShows]:
    """No-show reservations grouped by the staff member's unit, for the chiefs' follow-up.

    ``unit_ids`` None means every unit (admin, clerk); a chief passes their subtree.
    """
    query = (
        select(Reservation)
        .join(Reservation.staff)
        .join(Reservation.slot)
        .options(
            joinedload(Reservation.staff).joinedload(Staff.unit),
            joinedload(Reservation.slot).joinedload(Slot.desk_session).joinedload(DeskSession.venue),
            selectinload(Reservation.people).joinedload(ReservationPerson.dependent),
        )
        .where(Reservation.status == "no_show")
        .order_by(Staff.unit_id, Slot.starts_at, Staff.family_name_kana)
    )
    if campaign_id is not None:
        query = query.where(Reservation.campaign_id == campaign_id)
    if unit_ids is not None:
        query = query.where(Staff.unit_id.in_(unit_ids or {-1}))
    groups: dict[int, UnitNoShows] = {}
    for reservation in db.session.scalars(query).unique():
        unit = reservation.staff.unit
        groups.setdefault(unit.id, UnitNoShows(unit, [])).reservations.append(reservation)
    return sorted(groups.values(), key=lambda g: g.unit.code)


# --- the desk's view of a session --------------------------------------------------


@dataclass
class DeskSessions:
    """The sessions a clerk may open, as the desk's start page groups them."""

    today: list[DeskSession]
    coming: list[DeskSession]
    past: list[DeskSession]


def sessions_for_desk(now: datetime | None = None) -> DeskSessions:
    """Today's sessions (with one from yesterday evening still running past midnight), the coming
    ones, then the past ones, latest first."""
    now = now or utcnow()
    today = local_today(now)
    sessions = db.session.scalars(
        select(DeskSession)
        .options(joinedload(DeskSession.venue), joinedload(DeskSession.campaign))
        .where(DeskSession.is_cancelled.is_(False))
        .order_by(DeskSession.date, DeskSession.start_time, DeskSession.id)
    ).all()

    def running(session: DeskSession) -> bool:
        start, end = session_bounds(session.date, session.start_time, session.end_time)
        return start <= now < end

    todays = [s for s in sessions if s.date == today or (s.date < today and running(s))]
    coming = [s for s in sessions if s.date > today]
    past = sorted((s for s in sessions if s.date < today and s not in todays),
                  key=lambda s: (s.date, s.start_time), reverse=True)
    return DeskSessions(todays, coming, past)


def session_reservations(desk_session: DeskSession) -> list[Reservation]:
    """The session's reservations (cancelled ones too) in time order."""
    return list(
        db.session.scalars(
            select(Reservation)
            .join(Reservation.slot)
            .join(Reservation.staff)
            .options(*_AS_LISTED)
            .where(Slot.desk_session_id == desk_session.id)
            .order_by(Slot.starts_at, Reservation.created_at, Reservation.id)
        ).unique()
    )


def seats_left(desk_session: DeskSession, now: datetime) -> tuple[int, int]:
    """(seats still free in slots not yet over, capacity of those slots)."""
    row = db.session.execute(
        select(
            func.coalesce(func.sum(Slot.capacity - Slot.seats_taken), 0),
            func.coalesce(func.sum(Slot.capacity), 0),
        ).where(Slot.desk_session_id == desk_session.id, Slot.ends_at > now)
    ).one()
    return int(row[0]), int(row[1])
