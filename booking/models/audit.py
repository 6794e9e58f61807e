"""The audit trail: who did what to which record, when and from where."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..localtime import utcnow
from .organisation import User
from .types import UTCDateTime


class AuditEvent(Model):
    """One recorded action; names and numbers only, never photos or free text in full."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: The office user, or none for a booker acting through their own link.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: Who acted: the username, "booker:<staff_number>", "cli" or "system".
    actor: Mapped[str] = mapped_column(String(100), default="")
    #: How the act came in: page, api, cli or system (services/actor.py).
    channel: Mapped[str] = mapped_column(String(10), default="", server_default="")
    action: Mapped[str] = mapped_column(String(50), index=True)
    target_type: Mapped[str] = mapped_column(String(50), default="")
    target_id: Mapped[str] = mapped_column(String(50), default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()
