"""Recording who did what (DESIGN.md: audit event)."""
from __future__ import annotations

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
