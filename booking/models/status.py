"""Card status over time: dated events, reasons for not applying, monthly snapshots, chiefs' feeds."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..localtime import utcnow
from .organisation import Dependent, Staff, Unit, User
from .types import UTCDateTime

#: Where a card status change came from.
STATUS_SOURCES = ("import", "desk", "edit")

#: Kobe's practice: each chief records why a staff member has not applied (fixed list + note).
NON_APPLICATION_REASONS = (
    "considering",       # 検討中
    "not_needed",        # 必要性を感じない
    "loss_theft",        # 紛失・盗難の不安
    "no_time",           # 手続の時間がない
    "photo_documents",   # 写真・書類の準備
    "other",             # その他
)


class CardStatusEvent(Model):
    """One dated change of a person's card status (none → applied → received, or a correction)."""

    __tablename__ = "card_status_events"
    __table_args__ = (
        CheckConstraint(
            "(staff_id IS NOT NULL AND dependent_id IS NULL) OR "
            "(staff_id IS NULL AND dependent_id IS NOT NULL)",
            name="one_person",
        ),
        CheckConstraint("from_status IN ('none', 'applied', 'received')", name="from_status"),
        CheckConstraint("to_status IN ('none', 'applied', 'received')", name="to_status"),
        CheckConstraint("source IN ('import', 'desk', 'edit')", name="source"),
        Index("ix_card_status_events_effective_on", "effective_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    dependent_id: Mapped[int | None] = mapped_column(
        ForeignKey("dependents.id", ondelete="CASCADE"), index=True
    )
    #: The status in force just before this event's date; gives the status before the first event.
    from_status: Mapped[str] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))
    #: The local (Asia/Tokyo) date the change took effect, which may be earlier than recorded_at.
    effective_on: Mapped[date]
    source: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[Staff | None] = relationship()
    dependent: Mapped[Dependent | None] = relationship()
    user: Mapped[User | None] = relationship()


class NonApplicationReason(Model):
    """Why a staff member has not applied, as their chief recorded it; one per staff member."""

    __tablename__ = "non_application_reasons"
    __table_args__ = (
        CheckConstraint(
            "reason IN ('considering', 'not_needed', 'loss_theft', 'no_time', 'photo_documents', 'other')",
            name="reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), unique=True)
    reason: Mapped[str] = mapped_column(String(20))
    #: Optional free text; refused when it holds an individual number (rule 6).
    note: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[Staff] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class StatusSnapshot(Model):
    """A unit's counts frozen once a month, so the trend survives later corrections."""

    __tablename__ = "status_snapshots"
    __table_args__ = (UniqueConstraint("month", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The first day of the month the snapshot stands for.
    month: Mapped[date] = mapped_column(index=True)
    #: The date the counts are as of (the day it was taken, or the month's last day).
    as_of: Mapped[date]
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    staff: Mapped[int]
    staff_applied: Mapped[int]
    staff_received: Mapped[int]
    dependents: Mapped[int]
    dependents_applied: Mapped[int]
    dependents_received: Mapped[int]
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()


class CalendarFeed(Model):
    """A chief's (or admin's) secret calendar subscription; rotating the nonce revokes the URL."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    nonce: Mapped[str] = mapped_column(String(32))
    #: SHA-256 of the URL token, for lookup; the token itself is derived, never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
