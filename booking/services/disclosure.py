"""A person's data on request (個人情報保護法: 開示・削除): everything held about one staff member.

``held`` collects the staff record, the dependents, card status history, the
chief's reason note, every reservation with its people, check-ins, photo
details and duty approval, and the audit events about any of these, with dates
and times as objects (the print view writes them in Tokyo time, labelled in the
reader's language); ``plain`` and ``to_json`` give the same as JSON-ready data
with ISO 8601 strings (the machine-readable copy); ``export`` records that it
was disclosed. ``erase`` deletes it all: booked reservations are cancelled
through services.reservations (so their seats are freed at once), used ones
become anonymous counts (services.retention) so that session figures stay
right, then the staff member goes with their dependents, history and reason
note. Both are audited; the audit log keeps only the staff number and counts
of what went.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..localtime import utcnow
from ..models import (
    AuditEvent,
    CardStatusEvent,
    CheckIn,
    DeskSession,
    DutyApproval,
    NonApplicationReason,
    Photo,
    Reservation,
    ReservationPerson,
    Slot,
    Staff,
)
from . import approvals, audit, card_status, retention, waitlist
from . import reservations as reservation_service
from .accounts import require_role
from .actor import Actor
from .errors import DomainError

FORMAT_VERSION = 1

#: The words the print view shows for the codes in ``held`` data (the JSON keeps the codes).
LABELS = {
    "card_status": card_status.STATUS_LABELS,
    "reason": card_status.REASON_LABELS,
    "source": card_status.SOURCE_LABELS,
    "reservation_status": reservation_service.STATUS_LABELS,
    "channel": reservation_service.CHANNEL_LABELS,
    "approval": approvals.STATUS_LABELS,
    "kind": {"staff": _l("Staff member"), "dependent": _l("Dependent")},
    "action": audit.action_label,
    "actor": audit.actor_label,
}


def plain(value: Any) -> Any:
    """The held data as JSON-ready values: every date and time as an ISO 8601 string."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def to_json(data: dict[str, Any]) -> str:
    """The downloadable copy of ``held`` data."""
    return json.dumps(plain(data), ensure_ascii=False, indent=2)


def _reservations(staff: Staff) -> list[Reservation]:
    return list(db.session.scalars(
        select(Reservation)
        .options(
            joinedload(Reservation.campaign),
            joinedload(Reservation.slot).joinedload(Slot.desk_session).joinedload(DeskSession.venue),
            selectinload(Reservation.people).joinedload(ReservationPerson.dependent),
        )
        .where(Reservation.staff_id == staff.id)
        .order_by(Reservation.created_at, Reservation.id)
    ).unique())


def held(staff: Staff) -> dict[str, Any]:
    """Everything held about the staff member and their dependents; dates and times as objects."""
    reservations = _reservations(staff)
    reservation_ids = [r.id for r in reservations]
    person_ids = [p.id for r in reservations for p in r.people]
    check_ins = {c.reservation_person_id: c for c in db.session.scalars(
        select(CheckIn).options(joinedload(CheckIn.clerk)).where(CheckIn.reservation_person_id.in_(person_ids or [-1])))}
    photos = {p.check_in_id: p for p in db.session.scalars(
        select(Photo).where(Photo.check_in_id.in_([c.id for c in check_ins.values()] or [-1])))}
    approvals = {a.reservation_id: a for a in db.session.scalars(
        select(DutyApproval).where(DutyApproval.reservation_id.in_(reservation_ids or [-1])))}
    dependent_ids = [d.id for d in staff.dependents]
    names = {("staff", staff.id): staff.name} | {("dependent", d.id): d.name for d in staff.dependents}

    events = db.session.scalars(
        select(CardStatusEvent)
        .where(or_(CardStatusEvent.staff_id == staff.id, CardStatusEvent.dependent_id.in_(dependent_ids or [-1])))
        .order_by(CardStatusEvent.effective_on, CardStatusEvent.id)
    ).all()
    reason = db.session.scalar(select(NonApplicationReason).where(NonApplicationReason.staff_id == staff.id))

    targets = [and_(AuditEvent.target_type == "staff", AuditEvent.target_id == str(staff.id)),
               AuditEvent.actor == f"booker:{staff.staff_number}"]
    if dependent_ids:
        targets.append(and_(AuditEvent.target_type == "dependent",
                            AuditEvent.target_id.in_([str(i) for i in dependent_ids])))
    if reservation_ids:
        targets.append(and_(AuditEvent.target_type == "reservation",
                            AuditEvent.target_id.in_([str(i) for i in reservation_ids])))
    if check_ins:
        targets.append(and_(AuditEvent.target_type == "check_in",
                            AuditEvent.target_id.in_([str(c.id) for c in check_ins.values()])))
    audit_events = db.session.scalars(
        select(AuditEvent).where(or_(*targets)).order_by(AuditEvent.occurred_at, AuditEvent.id)
    ).all()

    def person(p: ReservationPerson) -> dict[str, Any]:
        check_in = check_ins.get(p.id)
        photo = photos.get(check_in.id) if check_in else None
        return {
            "kind": p.kind,
            "name": p.dependent.name if p.dependent else staff.name,
            "check_in": None if check_in is None else {
                "checked_in_at": check_in.checked_in_at,
                "clerk": (check_in.clerk.display_name or check_in.clerk.username) if check_in.clerk else None,
                "application_submitted": check_in.is_application_submitted,
                "note": check_in.note,
                "photo": None if photo is None else {
                    "taken_at": photo.taken_at, "width": photo.width, "height": photo.height,
                    "bytes": photo.byte_size, "delete_after": photo.delete_after,
                },
            },
        }

    return {
        "format": FORMAT_VERSION,
        "generated_at": utcnow(),
        "staff": {
            "staff_number": staff.staff_number,
            "family_name": staff.family_name,
            "given_name": staff.given_name,
            "family_name_kana": staff.family_name_kana,
            "given_name_kana": staff.given_name_kana,
            "unit": {"code": staff.unit.code, "name": staff.unit.name},
            "crew": staff.crew,
            "email": staff.email,
            "phone": staff.phone,
            "card_status": staff.card_status,
            "card_status_on": staff.card_status_on,
            "created_at": staff.created_at,
        },
        "dependents": [
            {"family_name": d.family_name, "given_name": d.given_name, "family_name_kana": d.family_name_kana,
             "given_name_kana": d.given_name_kana, "relation": d.relation, "card_status": d.card_status,
             "card_status_on": d.card_status_on}
            for d in staff.dependents
        ],
        "card_status_history": [
            {"person": names.get(("staff", e.staff_id)) if e.staff_id else names.get(("dependent", e.dependent_id or 0)),
             "from_status": e.from_status, "to_status": e.to_status, "effective_on": e.effective_on,
             "source": e.source, "recorded_at": e.recorded_at}
            for e in events
        ],
        "non_application_reason": None if reason is None else {
            "reason": reason.reason, "note": reason.note, "recorded_at": reason.recorded_at,
        },
        "reservations": [
            {
                "code": r.code,
                "campaign": r.campaign.title,
                "venue": r.slot.desk_session.venue.name,
                "starts_at": r.slot.starts_at,
                "ends_at": r.slot.ends_at,
                "status": r.status,
                "channel": r.channel,
                "seats": r.seats,
                "created_at": r.created_at,
                "cancelled_at": r.cancelled_at,
                "people": [person(p) for p in r.people],
                "duty_approval": None if r.id not in approvals else {
                    "status": approvals[r.id].status, "requested_at": approvals[r.id].requested_at,
                    "decided_at": approvals[r.id].decided_at,
                },
            }
            for r in reservations
        ],
        "audit_events": [
            {"occurred_at": e.occurred_at, "action": e.action, "actor": e.actor,
             "target_type": e.target_type, "target_id": e.target_id}
            for e in audit_events
        ],
    }


def export(actor: Actor, staff: Staff, *, form: str) -> dict[str, Any]:
    """The disclosure (``held`` data), recorded in the audit log (``form``: json or print)."""
    require_role(actor, "admin")
    data = held(staff)
    audit.record("personal_data.export", actor=actor, target_type="staff", target_id=staff.id,
                 staff_number=staff.staff_number, form=form,
                 reservations=len(data["reservations"]), dependents=len(data["dependents"]))
    return data


@dataclass
class Erased:
    staff_number: str
    dependents: int
    cancelled: int
    removed: retention.Removed


def erase(actor: Actor, staff: Staff, *, confirm: str, now: datetime | None = None) -> Erased:
    """Delete everything held about the staff member and their dependents; ``confirm`` is their number."""
    require_role(actor, "admin")
    now = now or utcnow()
    if (confirm or "").strip() != staff.staff_number:
        raise DomainError("invalid", _l("Check the highlighted fields."),
                          fields={"confirm": _l("Type the staff number %(number)s to confirm.",
                                                number=staff.staff_number)})
    staff_number, staff_id = staff.staff_number, staff.id
    dependents = len(staff.dependents)
    cancelled = 0
    for reservation in _reservations(staff):
        if reservation.status == "booked":
            # Through the service: the seats are freed at once, as for any cancellation.
            reservation_service.cancel(reservation, now=now)
            cancelled += 1
    ids = list(db.session.scalars(select(Reservation.id).where(Reservation.staff_id == staff_id)))
    removed = retention.tally_and_delete(ids, reason="erasure", now=now)
    freed = waitlist.forget_staff(staff_id)  # seats held for them go back, then on to the next party
    # Dependents, card status events and the reason note go with the staff member.
    db.session.delete(db.session.get_one(Staff, staff_id))
    db.session.flush()
    for session_id in sorted(freed):
        waitlist.offer_freed(session_id, now=now)
    audit.record("personal_data.erase", actor=actor, target_type="staff", target_id=staff_id,
                 staff_number=staff_number, dependents=dependents,
                 cancelled=cancelled, reservations=removed.reservations, check_ins=removed.check_ins,
                 photos=removed.photos)
    return Erased(staff_number, dependents, cancelled, removed)
