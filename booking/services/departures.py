"""Staff on record but missing from a full staff list: offered to be marked as left, never deleted.

A personnel list that is the whole department leaves out those who have gone. The office reads
who they are after the upload (``missing_from``), chooses the day they left and whom to mark, and
``mark_left`` sets ``left_on``: reports as of that day and after no longer count them (or their
dependents), and every earlier report still does (services.membership).
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Staff, StaffImportBatch, StaffImportNumbers, Unit
from . import audit
from .actor import Actor
from .errors import DomainError
from .staff_import import _require_admin


def missing_from(batch: StaffImportBatch) -> list[Staff]:
    """Staff still serving (no leaving date) whose number the uploaded file does not have."""
    numbers = set(db.session.scalar(
        select(StaffImportNumbers.numbers).where(StaffImportNumbers.batch_id == batch.id)) or ())
    serving = db.session.scalars(
        select(Staff).join(Unit, Staff.unit_id == Unit.id).options(joinedload(Staff.unit))
        .where(Staff.left_on.is_(None))
        .order_by(Unit.code, Staff.family_name_kana, Staff.given_name_kana, Staff.id))
    return [s for s in serving if s.staff_number not in numbers]


def mark_left(actor: Actor, batch: StaffImportBatch, staff_ids: list[int], on: date) -> int:
    """Mark the chosen staff missing from the file as left on ``on``; returns how many."""
    _require_admin(actor)
    missing = {s.id: s for s in missing_from(batch)}
    chosen = [missing[i] for i in dict.fromkeys(staff_ids) if i in missing]
    if not chosen:
        raise DomainError("invalid", _l("Check the highlighted fields."),
                          fields={"staff_ids": _l("Tick the staff who have left.")})
    early = [s.staff_number for s in chosen if s.joined_on is not None and s.joined_on >= on]
    if early:
        raise DomainError("invalid", _l("Check the highlighted fields."), fields={"left_on": _l(
            "The leaving date must be after the joining date (staff number %(numbers)s).",
            numbers=", ".join(early))})
    for staff in chosen:
        staff.left_on = on
    db.session.flush()
    audit.record("import.staff.departures", actor=actor, target_type="staff_import",
                 filename=batch.filename[:100], sha256=batch.content_digest, left_on=on.isoformat(),
                 count=len(chosen), staff_ids=[s.id for s in chosen])
    return len(chosen)


__all__ = ["mark_left", "missing_from"]
