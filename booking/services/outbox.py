"""The outbox (DESIGN.md rule 10): a message is a row written in the transaction of the change
that causes it, so that a change that rolls back sends nothing and a change that commits is never
forgotten, whatever happens to the process afterwards.

The row keeps the facts (kind, reservation, its SEQUENCE at the change, the booker's language,
the address, the office's reason); the worker (booking/worker.py, services/mail_delivery.py)
renders and sends it. Writing one costs one INSERT and no SELECT: the booking rush pays that.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..extensions import db
from ..localtime import utcnow
from ..models import OutboxMessage, Reservation, Staff, User


def enqueue(kind: str, reservation: Reservation, *, reason: str = "", now: datetime | None = None,
            to: str | None = None, **facts: Any) -> None:
    """Queue one message about ``reservation`` to its staff member's address (dependents are
    reached through the staff member; ``to`` another address), in the language the booker booked in."""
    now = now or utcnow()
    row = _row(kind, reservation, reason, now, facts, None)
    if to is not None:
        row["to_address"] = to
    db.session.execute(_insert(), [row])
    db.session.info["outbox_written"] = True


def enqueue_once(kind: str, reservation: Reservation, dedupe_key: str, *, now: datetime | None = None,
                 **facts: Any) -> bool:
    """Queue a message that must exist once (a reminder): a second call with the same key, from
    this worker or another, adds nothing. True when this call queued it."""
    now = now or utcnow()
    return _insert_once(_row(kind, reservation, "", now, facts, dedupe_key))


def enqueue_to_user_once(kind: str, user: User, dedupe_key: str, *, now: datetime | None = None,
                         **facts: Any) -> bool:
    """Queue a message to an office user (a chief's digest) once per ``dedupe_key``; True when
    this call queued it. Office pages are Japanese, and so is what they receive."""
    now = now or utcnow()
    return _insert_once({
        **_blank_row(kind, now, facts, dedupe_key),
        "user_id": user.id, "to_address": (user.email or "").strip(),
    })


def _insert_once(row: dict[str, Any]) -> bool:
    dialect = db.session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    table = OutboxMessage.__table__
    statement = module.insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)
    added = db.session.execute(statement, row).first() is not None
    if added:
        db.session.info["outbox_written"] = True
    return added


def enqueue_to_staff_once(kind: str, staff: Staff, locale: str, dedupe_key: str, *,
                          now: datetime | None = None, **facts: Any) -> bool:
    """Queue a message to a staff member that is about no booking yet (a waiting-list offer),
    once: a second call with the same key adds nothing. True when this call queued it."""
    now = now or utcnow()
    return _insert_once({
        **_blank_row(kind, now, facts, dedupe_key),
        "staff_id": staff.id, "locale": locale or "ja", "to_address": (staff.email or "").strip(),
    })


def _row(kind: str, reservation: Reservation, reason: str, now: datetime, facts: dict[str, Any],
         dedupe_key: str | None) -> dict[str, Any]:
    return {
        **_blank_row(kind, now, facts, dedupe_key),
        "reservation_id": reservation.id,
        "staff_id": reservation.staff_id,
        "sequence": reservation.sequence,
        "locale": reservation.locale or "ja",
        "to_address": (reservation.staff.email or "").strip(),
        "reason": reason,
    }


def _blank_row(kind: str, now: datetime, facts: dict[str, Any], dedupe_key: str | None) -> dict[str, Any]:
    return {
        "kind": kind,
        "reservation_id": None,
        "staff_id": None,
        "user_id": None,
        "sequence": 0,
        "locale": "ja",
        "to_address": "",
        "reason": "",
        "facts": {k: v for k, v in facts.items() if v is not None},
        "dedupe_key": dedupe_key,
        "status": "queued",
        "attempts": 0,
        # Due at once: on the real clock even when the act's clock was driven (run-due-jobs --now).
        "next_attempt_at": min(now, utcnow()),
        "last_error": "",
        "subject": "",
        "body": "",
        "created_at": now,
    }


@cache
def _insert() -> Any:
    return insert(OutboxMessage)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    """Tell the worker to look (booking.worker.init_app sets ``outbox.wake`` on the app). A failure
    here only delays the message to the worker's next minute tick: the row is committed."""
    if not session.info.pop("outbox_written", False) or not has_app_context():
        return
    wake: Callable[[], None] | None = current_app.extensions.get("outbox.wake")
    if wake is None:
        return
    try:
        wake()
    except Exception:
        logging.getLogger(__name__).warning("could not wake the mail worker", exc_info=True)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("outbox_written", None)
