"""What the My Number section publishes: venues, campaigns, desk sessions and their slots."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from ..localtime import utcnow
from .organisation import Unit
from .types import UTCDateTime

if TYPE_CHECKING:
    from .applications import Municipality


class Venue(Model):
    """Where a desk is set up, usually a unit's building (会場)."""

    __tablename__ = "venues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200))
    #: The unit whose building this is; its staff see this venue first.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    #: Access notes shown to bookers (entrance, parking…).
    notes: Mapped[str] = mapped_column(Text, default="")

    unit: Mapped[Unit | None] = relationship()


campaign_units = Table(
    "campaign_units",
    db.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
)


class Campaign(Model):
    """A plan of desk sessions with one booking window (実施計画)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    booking_opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    booking_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Booking closes this many minutes before a slot starts.
    cutoff_minutes: Mapped[int] = mapped_column(default=60)
    #: What bookers are told to bring, shown on the confirmation and in the calendar file.
    what_to_bring: Mapped[str] = mapped_column(Text, default="")
    is_published: Mapped[bool] = mapped_column(default=False)
    #: Rule 7: application photos are deleted this many days after their session ends
    #: (an admin setting; services.photos keeps it within 1..3650).
    photo_retention_days: Mapped[int] = mapped_column(default=30, server_default="30")
    #: Duty-hours approval (職務専念義務の免除): a booking during the booker's duty hours waits for the unit
    #: chief's approval (services.approvals); set on the campaign's coverage page.
    requires_duty_approval: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Whether one A document with the PIN entered at the desk is enough to mail the card
    #: (sections differ on allowing it at an outreach desk).
    allows_single_photo_id_with_pin: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: The reminder mail: this many minutes before the booking's start; None (the default) means the
    #: day before at noon, Tokyo time. A booking made after that moment gets no reminder.
    reminder_minutes_before: Mapped[int | None]
    #: The section's phone number, told to bookers who can no longer change a booking themselves
    #: (booking closed): "call the section".
    contact_phone: Mapped[str] = mapped_column(String(30), default="", server_default="")
    #: The desk may mark a booking as a no-show only this many minutes after its slot has ended
    #: (services.checkin.mark_no_shows); people running late keep their booking until then.
    no_show_grace_minutes: Mapped[int] = mapped_column(default=30, server_default="30")
    #: How long the seats offered to the next party on a waiting list are held for it (never past
    #: the booking cut-off): services.waitlist.
    waitlist_offer_minutes: Mapped[int] = mapped_column(default=120, server_default="120")
    #: How long a desk tablet keeps the offline roster and its unsent actions after it fetched the
    #: roster (booking.desk.offline); None means the DESK_OFFLINE_KEEP_MINUTES setting.
    desk_offline_keep_minutes: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    #: Units whose staff may book; none means every unit.
    target_units: Mapped[list[Unit]] = relationship(secondary=campaign_units)
    #: Whose residents the desks can verify for mailing; none means the home municipality.
    mailing_municipalities: Mapped[list[Municipality]] = relationship(
        secondary="campaign_mailing_municipalities", order_by="Municipality.code")
    sessions: Mapped[list[DeskSession]] = relationship(
        back_populates="campaign", order_by="(DeskSession.date, DeskSession.start_time)"
    )

    @property
    def contact_phone_href(self) -> str:
        """The contact phone number as a tel: link (full-width digits made ASCII, separators dropped)."""
        number = re.split(r"内線|ext", unicodedata.normalize("NFKC", self.contact_phone), flags=re.IGNORECASE)[0]
        digits = "".join(c for c in number if c.isdigit() or c == "+")
        return f"tel:{digits}" if digits else ""


class DeskSession(Model):
    """A campaign's desk at one venue on one date (実施日程); named so to avoid db.session."""

    __tablename__ = "desk_sessions"
    __table_args__ = (
        CheckConstraint("slot_minutes > 0", name="slot_minutes_positive"),
        CheckConstraint("desks > 0", name="desks_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    #: Local (Asia/Tokyo) date and wall-clock times; an end before the start means the next day.
    date: Mapped[date]
    start_time: Mapped[time]
    end_time: Mapped[time]
    slot_minutes: Mapped[int]
    #: Parallel desks, which is each slot's capacity.
    desks: Mapped[int]
    is_cancelled: Mapped[bool] = mapped_column(default=False)

    campaign: Mapped[Campaign] = relationship(back_populates="sessions")
    venue: Mapped[Venue] = relationship()
    slots: Mapped[list[Slot]] = relationship(
        back_populates="desk_session", order_by="Slot.starts_at", cascade="all, delete-orphan"
    )


class Slot(Model):
    """A bookable time within a session; seats_taken is the capacity counter."""

    __tablename__ = "slots"
    __table_args__ = (
        # The last line of defence against overbooking: the conditional update in
        # services.reservations decides, and this makes any bug there fail loudly.
        CheckConstraint("seats_taken <= capacity", name="seats_within_capacity"),
        CheckConstraint("seats_taken >= 0", name="seats_not_negative"),
        Index("ix_slots_session_start", "desk_session_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    desk_session_id: Mapped[int] = mapped_column(
        ForeignKey("desk_sessions.id", ondelete="CASCADE")
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int]
    seats_taken: Mapped[int] = mapped_column(default=0)

    desk_session: Mapped[DeskSession] = relationship(back_populates="slots")

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.seats_taken, 0)
