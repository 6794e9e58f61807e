"""Recording who did what (DESIGN.md: audit event)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import AuditEvent, User


def record(
    action: str,
    *,
    user: User | None = None,
    actor: str = "",
    target_type: str = "",
    target_id: object = "",
    remote_addr: str = "",
    **details: object,
) -> AuditEvent:
    """Add an audit event to the current transaction; it commits or rolls back with the action."""
    event = AuditEvent(
        user_id=user.id if user else None,
        actor=actor or (user.username if user else ""),
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        remote_addr=remote_addr or "",
        details={k: v for k, v in details.items() if v is not None},
    )
    db.session.add(event)
    return event


# --- reading the log (the admin's audit page) ---------------------------------------------

#: Groups of actions the audit page filters by; each is a list of action prefixes.
ACTION_GROUPS = {
    "login": ("login", "logout"),
    "user": ("user.",),
    "import": ("import.",),
    "staff": ("staff.", "dependent.", "invitation.", "unit.", "venue."),
    "booking": ("reservation.",),
    "session": ("session.", "campaign."),
    "export": ("export.",),
}


@dataclass
class AuditFilter:
    group: str = ""
    action: str = ""
    username: str = ""
    target_type: str = ""
    target_id: str = ""
    remote_addr: str = ""
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class AuditPage:
    rows: list[AuditEvent]
    total: int
    page: int
    pages: int


def search(actor: User, filters: AuditFilter, *, page: int = 1, per_page: int = 50) -> AuditPage:
    """Events newest first, filtered; only an admin reads the log."""
    from .accounts import require_role

    require_role(actor, "admin")
    query = select(AuditEvent)
    if filters.group in ACTION_GROUPS:
        query = query.where(or_(*[
            AuditEvent.action.startswith(p) if p.endswith(".") else
            or_(AuditEvent.action == p, AuditEvent.action.startswith(p + "."))
            for p in ACTION_GROUPS[filters.group]
        ]))
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.username:
        query = query.where(AuditEvent.actor == filters.username.strip())
    if filters.target_type:
        query = query.where(AuditEvent.target_type == filters.target_type)
    if filters.target_id:
        query = query.where(AuditEvent.target_id == filters.target_id.strip())
    if filters.remote_addr:
        query = query.where(AuditEvent.remote_addr == filters.remote_addr.strip())
    if filters.since:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.occurred_at < filters.until)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = db.session.scalars(
        query.options(joinedload(AuditEvent.user))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return AuditPage(list(rows), total, page, pages)


def known_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def event_for(target_type: str, target_id: object, event_id: int) -> AuditEvent | None:
    """One event, only when it is about the given record (a contact list names its event)."""
    event = db.session.get(AuditEvent, event_id)
    if event is None or event.target_type != target_type or event.target_id != str(target_id):
        return None
    return event
