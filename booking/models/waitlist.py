"""The waiting list of a full session (issue 19): parties waiting for seats, and the seats held
for the one offered them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..localtime import utcnow
from .campaigns import DeskSession, Slot
from .organisation import Staff
from .types import UTCDateTime

#: waiting: in the queue; offered: seats are held for the party until ``offer_expires_at``;
#: accepted: booked (or moved) through the offer; expired: the offer ran out, the seats went on;
#: withdrawn: the booker left the list (or the session closed).
WAITLIST_STATUSES = ("waiting", "offered", "accepted", "expired", "withdrawn")
#: An entry still in the queue (one per staff member and session).
OPEN_WAITLIST_STATUSES = ("waiting", "offered")


class WaitlistEntry(Model):
    """One party waiting for seats in one session: the staff member and the dependents they bring.

    The queue is in ``created_at`` (then id) order. An offer takes the party's seats in the slots'
    counters (services.capacity), so held seats count as taken; the slots are on WaitlistHold.
    """

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint(
            "status IN ('waiting', 'offered', 'accepted', 'expired', 'withdrawn')", name="status"),
        CheckConstraint("seats > 0", name="seats_positive"),
        # One open place per person and session, whatever two requests do at once.
        Index(
            "uq_waitlist_entries_open_staff_session", "staff_id", "desk_session_id", unique=True,
            sqlite_where=text("status IN ('waiting', 'offered')"),
            postgresql_where=text("status IN ('waiting', 'offered')"),
        ),
        Index("ix_waitlist_entries_session_status", "desk_session_id", "status", "created_at"),
        Index("ix_waitlist_entries_offer_expiry", "status", "offer_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    desk_session_id: Mapped[int] = mapped_column(ForeignKey("desk_sessions.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    include_staff: Mapped[bool] = mapped_column(default=True)
    #: The dependents who come along, in the order the booker chose them.
    dependent_ids: Mapped[list] = mapped_column(JSON, default=list)
    #: The party's size: one seat per person, never split.
    seats: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    token_nonce: Mapped[str] = mapped_column(String(32))
    #: SHA-256 of the entry's link token (the booker's place and the offer's accept link).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    locale: Mapped[str] = mapped_column(String(8), default="ja")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The offer: where the party would start, when it was made and until when the seats are held.
    offer_slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id"))
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: How many offers this entry has had (the mail's dedupe key carries it).
    offers: Mapped[int] = mapped_column(default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The booking the accepted offer made (or moved).
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id", ondelete="SET NULL"))

    desk_session: Mapped[DeskSession] = relationship()
    staff: Mapped[Staff] = relationship()
    offer_slot: Mapped[Slot | None] = relationship()
    holds: Mapped[list[WaitlistHold]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="WaitlistHold.id")


class WaitlistHold(Model):
    """Seats an offer holds in one slot (counted in the slot's ``seats_taken``)."""

    __tablename__ = "waitlist_holds"
    __table_args__ = (CheckConstraint("seats > 0", name="seats_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("waitlist_entries.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)
    seats: Mapped[int]

    entry: Mapped[WaitlistEntry] = relationship(back_populates="holds")
