"""Monthly snapshots: each unit's counts frozen once a month, so the trend survives corrections.

``flask --app booking snapshot`` (from cron, on any day of the month) takes the
snapshot of the current month once; running it again in the same month
changes nothing, so it is safe to schedule daily.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import StatusSnapshot
from . import audit, card_status, reports
from .actor import Actor


@dataclass(frozen=True)
class SnapshotResult:
    month: date
    as_of: date
    created: int
    already_taken: bool


def take(actor: Actor, as_of: date | None = None) -> SnapshotResult:
    """Freeze every unit's counts as of the day for that day's month, unless that month has them.

    Recorded (``report.snapshot``) when it freezes a month; a run for a month already taken
    changes nothing and records nothing, so cron may run it daily.
    """
    as_of = as_of or card_status.today()
    month = as_of.replace(day=1)
    existing = db.session.scalar(select(StatusSnapshot).where(StatusSnapshot.month == month).limit(1))
    if existing is not None:
        return SnapshotResult(month, existing.as_of, 0, True)
    statuses = reports.unit_status(as_of)
    try:
        # Two runs at once (two cron hosts) race on the unique (month, unit_id):
        # the loser's savepoint fails and it reports the month as already taken.
        with db.session.begin_nested():
            for status in statuses:
                db.session.add(StatusSnapshot(
                    month=month, as_of=as_of, unit_id=status.unit_id,
                    **{name: getattr(status, name) for name in reports.COUNT_FIELDS},
                ))
    except IntegrityError:
        return SnapshotResult(month, as_of, 0, True)
    audit.record("report.snapshot", actor=actor, month=month.isoformat(), as_of=as_of.isoformat(),
                 created=len(statuses))
    return SnapshotResult(month, as_of, len(statuses), False)


def months_taken() -> list[date]:
    return list(db.session.scalars(
        select(StatusSnapshot.month).distinct().order_by(StatusSnapshot.month.desc())
    ))
