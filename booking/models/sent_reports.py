"""Reports to the prefecture as they were sent: the file and its figures, frozen (issue 18)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..localtime import utcnow
from .organisation import User
from .types import UTCDateTime


class SentReport(Model):
    """One version of the upward report (様式1) marked as sent: it re-downloads byte for byte,
    and a later version is compared with it, since the prefecture holds these figures."""

    __tablename__ = "sent_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The survey dates the report is as of, ISO and comma separated ("2026-12-31,2027-03-31").
    days: Mapped[str] = mapped_column(String(200), index=True)
    #: 1, 2… per set of dates: the version the prefecture received last is the highest.
    version: Mapped[int]
    department: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    #: {"2026-12-31": {"A": {"unit": "中央消防署", "staff": 10, …}, …}}: each unit's counts as sent.
    figures: Mapped[dict] = mapped_column(JSON)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sent_by: Mapped[User | None] = relationship()
