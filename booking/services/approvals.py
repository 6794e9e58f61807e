"""The unit chief's approval of bookings made during duty hours (職務専念義務の免除).

When a campaign requires it, a booking whose time falls in the booker's duty hours
keeps its seat but waits for a chief above the booker's unit: approved, it stands;
declined, it is cancelled through services.reservations.cancel, which frees the
seats. The decision lives in its own table (DutyApproval) so that the reservation
statuses the rest of the code and the database CHECK know stay as they are.

Locks: every path takes the slot rows first, then the reservation row, then the
approval row (reservations.lock_for_change, used by cancel, move and a decision; a
session edit locks all its slots first too), so a decision racing a cancel or a
move waits instead of deadlocking, and sees the other's result.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..localtime import utcnow
from ..models import DeskSession, DutyApproval, Reservation, Slot, Staff, User
from . import audit, duty, outbox, reservations
from .accounts import require_role
from .actor import Actor
from .database import begin_write
from .directory import units_under
from .errors import DomainError, NotFound


def in_duty_hours(reservation: Reservation) -> bool:
    """Whether the reserved slot falls, even partly, in the booker's duty hours."""
    plan, group = duty.staff_group(reservation.staff)
    if plan is None or group is None:
        return False
    slot = reservation.slot
    return plan.on_duty_during(group, slot.starts_at, slot.ends_at)


def _needed(reservation: Reservation) -> bool:
    # Walk-ins are booked at the desk with the person standing there: nothing to hold.
    return (reservation.campaign.requires_duty_approval and reservation.channel != "walk_in"
            and in_duty_hours(reservation))


def hold_if_needed(reservation: Reservation, *, now: datetime | None = None) -> DutyApproval | None:
    """After a booking: hold it for the chief when the campaign asks for it and it is in duty hours."""
    if not _needed(reservation):
        return None
    approval = DutyApproval(reservation_id=reservation.id, unit_id=reservation.staff.unit_id,
                            status="pending", requested_at=now or utcnow())
    db.session.add(approval)
    db.session.flush()
    return approval


def review_after_move(reservation: Reservation, *, now: datetime | None = None) -> DutyApproval | None:
    """After a move (the reservation row is locked): a decision was for the old time, so a new
    time in duty hours waits again, and one outside them needs none."""
    now = now or utcnow()
    approval = approval_for(reservation, lock=True)
    needed = _needed(reservation)
    if approval is None:
        return hold_if_needed(reservation, now=now) if needed else None
    if needed:
        approval.status, approval.requested_at = "pending", now
        approval.decided_at = approval.decided_by_id = None
    elif approval.status in ("pending", "approved"):
        approval.status, approval.decided_at = "withdrawn", now
    db.session.flush()
    return approval


def approval_for(reservation: Reservation, *, lock: bool = False) -> DutyApproval | None:
    query = select(DutyApproval).where(DutyApproval.reservation_id == reservation.id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def booker_status(reservation: Reservation) -> str | None:
    """What the manage page tells the booker: pending, approved, declined, or None."""
    approval = approval_for(reservation)
    if approval is None or approval.status == "withdrawn":
        return None
    if approval.status == "pending" and reservation.status != "booked":
        return None
    return approval.status


# --- the chief's list and decision ------------------------------------------------------


@dataclass
class ApprovalLine:
    approval: DutyApproval
    reservation: Reservation
    staff: Staff
    slot: Slot


def _scope(user: User) -> list[int] | None:
    if user.role == "admin":
        return None
    return units_under(user.unit) if user.unit is not None else []


def lines_for(user: User, *, decided_since: datetime | None = None) -> tuple[list[ApprovalLine], list[ApprovalLine]]:
    """Pending holds of bookings still active, and decisions since a date, in the user's units."""
    require_role(user, "chief", "admin")
    scope = _scope(user)
    query = (
        select(DutyApproval)
        .options(
            joinedload(DutyApproval.reservation).joinedload(Reservation.staff).joinedload(Staff.unit),
            joinedload(DutyApproval.reservation).joinedload(Reservation.slot)
            .joinedload(Slot.desk_session).joinedload(DeskSession.venue),
            joinedload(DutyApproval.reservation).joinedload(Reservation.campaign),
            joinedload(DutyApproval.decided_by),
        )
        .join(DutyApproval.reservation).join(Reservation.slot)
        .order_by(Slot.starts_at, DutyApproval.id)
    )
    if scope is not None:
        query = query.where(DutyApproval.unit_id.in_(scope))
    since = decided_since or (utcnow() - timedelta(days=30))
    pending, decided = [], []
    for approval in db.session.scalars(query).unique():
        r = approval.reservation
        line = ApprovalLine(approval, r, r.staff, r.slot)
        if approval.status == "pending" and r.status == "booked":
            pending.append(line)
        elif approval.status in ("approved", "declined") and approval.decided_at and approval.decided_at >= since:
            decided.append(line)
    return pending, decided


def pending_count(user: User) -> int:
    if not user.is_authenticated or user.role not in ("chief", "admin"):
        return 0
    return len(lines_for(user)[0])


def decide(actor: Actor, approval_id: int, *, approve: bool, now: datetime | None = None) -> DutyApproval:
    """The chief approves or declines a held booking; declining cancels it and frees its seats.

    Returns the approval; its status is "withdrawn" when the booker cancelled first. One
    audit event, ``reservation.duty_<status>``, about the reservation.
    """
    require_role(actor, "chief")
    assert actor.user is not None  # require_role refuses an actor without an office account
    now = now or utcnow()
    begin_write()
    approval = db.session.get(DutyApproval, approval_id)
    if approval is None:
        raise NotFound(_l("No such approval request."))
    if approval.unit_id not in set(_scope(actor.user) or []):
        raise DomainError("forbidden", _l("This booking is not in your units."))
    # Its slot and the reservation row first, as cancel and move take them (see the module docstring).
    reservation = reservations.lock_for_change(db.session.get_one(Reservation, approval.reservation_id))
    locked = approval_for(reservation, lock=True)
    assert locked is not None  # an approval row is never deleted while its reservation exists
    approval = locked
    if approval.status != "pending":
        raise DomainError("already_decided", _l(
            "This request has already been answered (%(status)s). Reload the page to see it.",
            status=STATUS_LABELS.get(approval.status, approval.status)))
    if reservation.status != "booked":
        approval.status, approval.decided_at = "withdrawn", now
    else:
        if not approve:
            reservations.cancel(reservation, now=now)
        approval.status = "approved" if approve else "declined"
        approval.decided_at, approval.decided_by_id = now, actor.user.id
    db.session.flush()
    audit.record(f"reservation.duty_{approval.status}", actor=actor, target_type="reservation",
                 target_id=reservation.id, code=reservation.code, approval_id=approval.id)
    if approval.status in ("approved", "declined"):
        outbox.enqueue("approval", reservation, now=now, decision=approval.status)
    return approval


STATUS_LABELS = {
    "pending": _l("waiting"),
    "approved": _l("approved"),
    "declined": _l("declined"),
    "withdrawn": _l("withdrawn"),
}
