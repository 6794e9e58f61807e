"""Applying a confirmed staff import in the background, in chunks, resumably.

The office confirms a previewed upload (``start``): the whole file is planned
again and must match the preview's fingerprint, and only then does the batch
turn ``running`` and a thread of the worker (``launch``) apply it, CHUNK_LINES
lines per transaction. Each chunk:

1. takes the write lock (SQLite: ``begin_write``; bookings get it between
   chunks) and moves the batch's heartbeat on *only if* this job still owns it
   and nobody has applied the chunk yet (``runner`` and ``applied`` in the
   WHERE clause; on PostgreSQL that also locks the batch row);
2. plans its own lines against the database as it is now (an upsert by staff
   number, so a chunk applied twice changes nothing the second time) and
   applies them;
3. adds its counts to the batch and commits, all in the one transaction.

Nothing is half-applied within a chunk. If the worker dies (kill -9, a recycle)
the heartbeat goes stale; the next look at the progress page claims the job
(``claim_if_stale``: a conditional UPDATE, so one claimer wins) and continues
from ``applied``. A chunk that cannot be applied (a unit deleted meanwhile)
stops the job in the ``failed`` state with the line and the reason; the chunks
before it stay.
"""
from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, Update, delete, select, update
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from ..extensions import db
from ..localtime import utcnow
from ..models import StaffImportBatch, StaffImportRows, User
from . import audit, staff_import
from .actor import Actor
from .database import begin_write
from .errors import DomainError

log = logging.getLogger(__name__)

#: Lines applied per transaction (config STAFF_IMPORT_CHUNK_LINES).
CHUNK_LINES = 1000
#: A running job whose heartbeat is older than this is taken to be dead (config STAFF_IMPORT_STALE_SECONDS).
#: A chunk takes well under a second; the SQLite write gate waits at most 15 s.
STALE_AFTER_SECONDS = 60


def chunk_lines() -> int:
    return int(current_app.config.get("STAFF_IMPORT_CHUNK_LINES", CHUNK_LINES))


def stale_after() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("STAFF_IMPORT_STALE_SECONDS", STALE_AFTER_SECONDS)))


def _token() -> str:
    return secrets.token_urlsafe(24)


def _updated(statement: Update) -> int:
    """Run a conditional UPDATE; how many rows it changed (0 when its condition no longer held)."""
    return cast(CursorResult, db.session.execute(statement)).rowcount


# --- starting -------------------------------------------------------------------------------


def start(actor: Actor, batch: StaffImportBatch, previewed_digest: str, *, now: datetime | None = None) -> str:
    """Check the whole file once more and mark the batch running; returns the job's runner token.

    Refuses (nothing written) when a line no longer fits (invalid_import) or the
    plan differs from the preview (import_changed). The caller commits and then
    calls ``launch``.
    """
    staff_import._require_admin(actor)
    if batch.state != "pending":
        raise DomainError("import_started", _l("This import has already been started."))
    rows = staff_import.batch_rows(batch)
    plan = staff_import.plan_import(rows)
    if plan.errors:
        raise staff_import._refuse(plan.errors)
    if (not secrets.compare_digest(previewed_digest or "", batch.plan_digest)
            or plan.digest() != batch.plan_digest):
        raise DomainError(
            "import_changed",
            _l("The staff list changed since this preview, so nothing was imported. "
               "Check the new preview and confirm again."),
        )
    now = now or utcnow()
    runner = _token()
    begin_write()
    # Conditional: two confirm clicks (or two tabs) start one job.
    changed = _updated(
        update(StaffImportBatch)
        .where(StaffImportBatch.id == batch.id, StaffImportBatch.state == "pending")
        .values(state="running", total=len(rows), applied=0, created_count=0, updated_count=0,
                unchanged_count=0, runner=runner, heartbeat_at=now, started_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed != 1:
        raise DomainError("import_started", _l("This import has already been started."))
    audit.record("import.staff.started", actor=actor, target_type="staff_import", filename=batch.filename[:100],
                 sha256=batch.content_digest, lines=len(rows))
    return runner


def launch(app: Flask, batch_id: str, runner: str) -> threading.Thread:
    """Apply the batch in a thread of this worker, with its own app context and session."""
    thread = threading.Thread(target=run, args=(app, batch_id, runner), name=f"staff-import-{batch_id[:8]}",
                              daemon=True)
    thread.start()
    return thread


# --- running --------------------------------------------------------------------------------


#: Errors of a database that is down, locked or full: the import waits to be resumed, not failed.
_OUTAGES = (OperationalError, InterfaceError, DisconnectionError, sqlite3.OperationalError)


def between_chunks() -> None:
    """Called with no transaction open after each chunk (tests hold the job here)."""


def run(app: Flask, batch_id: str, runner: str, *, max_chunks: int | None = None) -> str:
    """Apply chunks until the batch is done, fails, or another job took it over.

    Returns "done", "failed", "lost" (someone else owns it now), "interrupted"
    (the database went away: resumed later, like a dead worker's) or "paused"
    (max_chunks reached, for tests that simulate a worker dying).
    """
    with app.app_context():
        try:
            rows = db.session.scalar(select(StaffImportRows.rows).where(StaffImportRows.batch_id == batch_id))
            db.session.rollback()
            if rows is None:
                return "lost"
            rows = [(int(line), dict(values)) for line, values in rows]
            chunks = 0
            while True:
                outcome = run_chunk(batch_id, runner, rows)
                if outcome != "more":
                    return outcome
                chunks += 1
                if max_chunks is not None and chunks >= max_chunks:
                    return "paused"
                between_chunks()
        except _OUTAGES as error:
            # The database went away (a PostgreSQL restart, SQLite locked or full): nothing of the
            # chunk was committed. Stop without a verdict; the heartbeat goes stale and the next
            # look at the progress page resumes the import once the database answers again.
            log.warning("staff import %s interrupted by the database (%s); it resumes when next looked at",
                        batch_id[:8], error.__class__.__name__)
            try:
                db.session.rollback()
            except Exception:  # noqa: BLE001, S110  (the connection may be gone; the pool discards it)
                pass
            return "interrupted"
        except Exception as error:  # anything else: the admin must see that it stopped
            log.exception("staff import %s stopped", batch_id[:8])
            try:
                db.session.rollback()
                _fail(batch_id, runner, None, code="error", line=None, detail=error.__class__.__name__)
            except Exception:  # the database itself may be gone; the heartbeat goes stale
                log.exception("could not record the failure of staff import %s", batch_id[:8])
            return "failed"
        finally:
            db.session.remove()


def run_chunk(batch_id: str, runner: str, rows: list[tuple[int, dict]], *, now: datetime | None = None) -> str:
    """Apply the next chunk in one transaction; "more", "done", "failed" or "lost"."""
    begin_write()
    state = db.session.execute(
        select(StaffImportBatch.state, StaffImportBatch.runner, StaffImportBatch.applied, StaffImportBatch.total)
        .where(StaffImportBatch.id == batch_id)
    ).first()
    if state is None or state.state != "running" or state.runner != runner:
        db.session.rollback()
        return "lost"
    applied, total = state.applied, state.total
    # Own the chunk: moves the heartbeat only if nobody else owns the job or has applied this chunk
    # meanwhile. On PostgreSQL the row stays locked until this transaction ends.
    owned = _updated(
        update(StaffImportBatch)
        .where(StaffImportBatch.id == batch_id, StaffImportBatch.runner == runner,
               StaffImportBatch.applied == applied, StaffImportBatch.state == "running")
        .values(heartbeat_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    if owned != 1:
        db.session.rollback()
        return "lost"
    chunk = rows[applied:applied + chunk_lines()]
    if chunk:
        plan = staff_import.plan_import(chunk)
        if plan.errors:
            # Only units are checked again here (every line was checked at upload and confirm):
            # kept as the code and shown in the reader's language.
            first = plan.errors[0]
            values = next((v for line, v in chunk if line == first.line), {})
            db.session.rollback()
            if first.field == "unit_code":
                _fail(batch_id, runner, applied, code="unit", line=first.line, detail=values.get("unit_code", ""))
            else:
                _fail(batch_id, runner, applied, code="line", line=first.line,
                      detail=f"{first.field}: {first.message}")
            return "failed"
        result = staff_import._apply(plan, chunk)
    else:
        result = staff_import.ImportResult()
    finished = applied + len(chunk) >= total
    values = {"applied": applied + len(chunk), "heartbeat_at": now or utcnow(),
              "created_count": StaffImportBatch.created_count + result.created,
              "updated_count": StaffImportBatch.updated_count + result.updated,
              "unchanged_count": StaffImportBatch.unchanged_count + result.unchanged}
    if finished:
        values.update(state="done", finished_at=now or utcnow(), runner=None)
    db.session.execute(
        update(StaffImportBatch).where(StaffImportBatch.id == batch_id).values(**values)
        .execution_options(synchronize_session=False)
    )
    if finished:
        # The rows are personal data with no further use: only the batch's counts stay.
        db.session.execute(delete(StaffImportRows).where(StaffImportRows.batch_id == batch_id)
                           .execution_options(synchronize_session=False))
        _audit(batch_id, "import.staff")
    db.session.commit()
    return "done" if finished else "more"


def _fail(batch_id: str, runner: str, applied: int | None, *, code: str, line: int | None, detail: str) -> None:
    """Stop the job with its reason, if it is still this job's (and at this chunk, when given)."""
    begin_write()
    conditions = [StaffImportBatch.id == batch_id, StaffImportBatch.runner == runner,
                  StaffImportBatch.state == "running"]
    if applied is not None:
        conditions.append(StaffImportBatch.applied == applied)
    now = utcnow()
    changed = _updated(
        update(StaffImportBatch).where(*conditions)
        .values(state="failed", runner=None, heartbeat_at=now, finished_at=now, error_code=code,
                error_line=line, error_detail=(detail or "")[:500])
        .execution_options(synchronize_session=False)
    )
    if changed == 1:
        _audit(batch_id, "import.staff.failed")
    db.session.commit()


def _audit(batch_id: str, action: str) -> None:
    batch = db.session.execute(
        select(StaffImportBatch.user_id, StaffImportBatch.filename, StaffImportBatch.content_digest,
               StaffImportBatch.applied, StaffImportBatch.total, StaffImportBatch.created_count,
               StaffImportBatch.updated_count, StaffImportBatch.unchanged_count, StaffImportBatch.error_line,
               StaffImportBatch.error_detail)
        .where(StaffImportBatch.id == batch_id)
    ).one()
    # The job carries out the act of the admin who confirmed it on the import page.
    actor = Actor("page", user=db.session.get(User, batch.user_id))
    audit.record(action, actor=actor, target_type="staff_import", filename=batch.filename[:100],
                 sha256=batch.content_digest, lines=batch.total, applied=batch.applied,
                 created=batch.created_count, updated=batch.updated_count, unchanged=batch.unchanged_count,
                 error_line=batch.error_line, error=batch.error_detail)


# --- watching and resuming ------------------------------------------------------------------


def claim_if_stale(batch_id: str, *, now: datetime | None = None) -> str | None:
    """Take over a running job whose heartbeat is stale; the new runner token, or None.

    One conditional UPDATE: of two claimers at once, one matches the row and
    the other finds the heartbeat fresh (or the runner changed) and gets None.
    """
    now = now or utcnow()
    runner = _token()
    begin_write()
    changed = _updated(
        update(StaffImportBatch)
        .where(StaffImportBatch.id == batch_id, StaffImportBatch.state == "running",
               StaffImportBatch.heartbeat_at < now - stale_after())
        .values(runner=runner, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if changed == 1:
        log.warning("staff import %s: stale job taken over", batch_id[:8])
        return runner
    return None


@dataclass
class Progress:
    state: str
    total: int
    applied: int
    created: int
    updated: int
    unchanged: int
    heartbeat_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    error_code: str | None
    error_line: int | None
    error_detail: str | None
    #: True when this look at the job found it stale and resumed it.
    resumed: bool = False

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.applied * 100 // self.total)


def progress(batch: StaffImportBatch, *, app: Flask | None = None, now: datetime | None = None) -> Progress:
    """Where the import stands; a stale running job is claimed and resumed in this worker."""
    resumed = False
    if batch.state == "running" and batch.heartbeat_at is not None \
            and batch.heartbeat_at < (now or utcnow()) - stale_after():
        runner = claim_if_stale(batch.id, now=now)
        if runner is not None:
            launch(app or current_app._get_current_object(), batch.id, runner)  # type: ignore[attr-defined]
            resumed = True
        db.session.refresh(batch)
    return Progress(batch.state, batch.total, batch.applied, batch.created_count, batch.updated_count,
                    batch.unchanged_count, batch.heartbeat_at, batch.started_at, batch.finished_at,
                    batch.error_code, batch.error_line, batch.error_detail, resumed)
