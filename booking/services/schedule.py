"""The scheduled jobs the worker runs (what cron ran before; README's cron table is the fallback).

Every worker's scheduler fires every minute; each job's run for a due time is claimed by inserting
a ``job_runs`` row (job, due time), which only the first worker manages: the others skip it. A job
whose due time passed while no worker ran is run at the next tick (each job is idempotent).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..localtime import TOKYO, at_tokyo, utcnow
from ..models import JobRun
from .actor import Actor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    #: The latest due time at or before an instant.
    last_due: Callable[[datetime], datetime]
    run: Callable[[datetime], str]


def every_minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def daily(at: time) -> Callable[[datetime], datetime]:
    def last_due(now: datetime) -> datetime:
        today = now.astimezone(TOKYO).date()
        due = at_tokyo(today, at)
        return due if due <= now else at_tokyo(today - timedelta(days=1), at)
    return last_due


def monthly(at: time) -> Callable[[datetime], datetime]:
    def last_due(now: datetime) -> datetime:
        first = now.astimezone(TOKYO).date().replace(day=1)
        due = at_tokyo(first, at)
        if due <= now:
            return due
        previous = (first - timedelta(days=1)).replace(day=1)
        return at_tokyo(previous, at)
    return last_due


def _reminders(now: datetime) -> str:
    from . import reminders

    return f"{reminders.queue_due(now)} reminders queued"


DIGEST_AT = time(8, 0)


def _digests(now: datetime) -> str:
    from . import digests

    due = daily(DIGEST_AT)(now)
    if now - due > timedelta(hours=12):
        return "skipped: the morning has passed"  # no worker ran then; tomorrow's comes soon
    return f"{digests.queue_due(now, day=due.astimezone(TOKYO).date())} digests queued"


def _waitlist(now: datetime) -> str:
    from . import waitlist

    return waitlist.sweep(now)


def _no_shows(now: datetime) -> str:
    from . import checkin

    done = checkin.close_ended_sessions(Actor.system(), now=now)
    return f"{sum(done.values())} no-shows in {len(done)} sessions"


def _photos(now: datetime) -> str:
    from . import photos

    result = photos.purge_expired(Actor.system(), now=now)
    return f"{result.photos} photos deleted"


def _retention(now: datetime) -> str:
    from . import retention

    campaigns = retention.due_campaigns(now)
    if not campaigns:
        return "nothing due"
    purged = retention.purge(Actor.system(), campaigns, now=now)
    return f"{len(purged)} campaigns purged"


def _snapshot(now: datetime) -> str:
    from . import snapshots

    day: date = now.astimezone(TOKYO).date()
    result = snapshots.take(Actor.system(), day)
    return "already taken" if result.already_taken else f"{result.created} units"


JOBS: tuple[Job, ...] = (
    Job("reminders", every_minute, _reminders),
    Job("chief_digest", daily(DIGEST_AT), _digests),
    Job("waitlist_offers", every_minute, _waitlist),
    Job("mark_no_shows", daily(time(23, 30)), _no_shows),
    Job("purge_photos", daily(time(2, 15)), _photos),
    Job("purge_personal_data", daily(time(2, 20)), _retention),
    Job("snapshot", monthly(time(1, 0)), _snapshot),
)


def claim(job: str, due_at: datetime, now: datetime) -> bool:
    """Take the run of ``job`` for ``due_at`` (committed); False when another worker has it."""
    dialect = db.session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    table = JobRun.__table__
    # RETURNING says whether this insert won: rowcount is not reliable for ON CONFLICT DO NOTHING
    # across drivers (psycopg reported 1 for a skipped row).
    statement = module.insert(table).on_conflict_do_nothing(index_elements=["job", "due_at"]).returning(table.c.job)
    won = db.session.execute(
        statement, {"job": job, "due_at": due_at, "started_at": now, "outcome": ""}).first() is not None
    db.session.commit()
    return won


def run_due(now: datetime | None = None, jobs: tuple[Job, ...] = JOBS) -> dict[str, str]:
    """Run each job whose latest due time has not been run by any worker; what each did."""
    now = now or utcnow()
    done: dict[str, str] = {}
    for job in jobs:
        due_at = job.last_due(now)
        if not claim(job.name, due_at, now):
            continue
        try:
            outcome = job.run(now)
            db.session.commit()
        except Exception as error:  # one job's failure must not stop the others
            db.session.rollback()
            log.exception("scheduled job %s failed", job.name)
            outcome = f"failed: {type(error).__name__}: {error}"
        db.session.query(JobRun).filter_by(job=job.name, due_at=due_at).update(
            {"finished_at": utcnow(), "outcome": outcome[:2000]})
        db.session.commit()
        done[job.name] = outcome
    return done
