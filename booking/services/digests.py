"""The chiefs' digest (issue 13): each morning, a chief with an e-mail address and bookings in duty
hours waiting for their approval receives one list of them. Once per chief and day (the outbox
row's ``dedupe_key`` is ``digest:<user id>:<date>``), however many workers run the job.

The row keeps which approvals were waiting; the worker lists those still waiting when it sends
(one answered in between is left out, and the mail says so when none is left)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from ..extensions import db
from ..localtime import TOKYO, utcnow
from ..models import User
from . import approvals, outbox


def queue_due(now: datetime | None = None, *, day: date | None = None) -> int:
    """Queue the digest of ``day`` (default: today) for every chief who has something waiting;
    how many were queued."""
    now = now or utcnow()
    day = day or now.astimezone(TOKYO).date()
    chiefs = db.session.scalars(
        select(User).where(User.role == "chief", User.is_active.is_(True), User.email != "").order_by(User.id))
    queued = 0
    for chief in chiefs:
        pending, _decided = approvals.lines_for(chief)
        if not pending:
            continue
        ids = [line.approval.id for line in pending]
        if outbox.enqueue_to_user_once("digest", chief, f"digest:{chief.id}:{day.isoformat()}", now=now, approval_ids=ids):
            queued += 1
    return queued


def still_waiting(user: User, approval_ids: list[int]) -> list[approvals.ApprovalLine]:
    """The approvals of a digest that still wait for the chief's answer, in slot order."""
    wanted = set(approval_ids)
    return [line for line in approvals.lines_for(user)[0] if line.approval.id in wanted]
