"""The outbox: every message the system sends, written in the transaction of the change that causes it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..localtime import utcnow
from .organisation import Staff, User
from .reservations import Reservation
from .types import UTCDateTime

#: What a message is about (API.md "Notifications by e-mail": the first four are the contract's).
MESSAGE_KINDS = ("confirmation", "changed", "cancelled", "reminder", "approval", "address", "digest",
                 "waitlist_offer")
#: queued: waiting to go out (or to be retried); sent; failed: given up (the server's answer in
#: last_error); not_sent: kept without sending (no SMTP_URL, or nobody to send it to).
MESSAGE_STATUSES = ("queued", "sent", "failed", "not_sent")


class OutboxMessage(Model):
    """One message to one address. The row holds the facts; the worker renders the text when it
    sends it and keeps what it sent (subject, body) for the office to read."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'sent', 'failed', 'not_sent')", name="status"),
        # The worker's question: what is due now?
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    reservation_id: Mapped[int | None] = mapped_column(
        ForeignKey("reservations.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    #: A chief's digest goes to an office user.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: The reservation's SEQUENCE when the change happened.
    sequence: Mapped[int] = mapped_column(default=0)
    locale: Mapped[str] = mapped_column(String(8), default="ja")
    to_address: Mapped[str] = mapped_column(String(254), default="")
    #: Why: the office's reason for a cancellation, the approval decision…
    reason: Mapped[str] = mapped_column(Text, default="")
    facts: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Makes a message that must exist once (a reminder, a digest run) unique.
    dedupe_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A worker holds the row until then while it sends it; another may take it after.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reservation: Mapped[Reservation | None] = relationship()
    staff: Mapped[Staff | None] = relationship()
    user: Mapped[User | None] = relationship()


class JobRun(Model):
    """A scheduled job's run for one due time, claimed by the first worker that inserts it: the
    others, whose schedulers fire too, find the row and skip the run."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(Text, default="")
