"""Duty calendars (勤務体制) and the chief's approval of bookings made during duty hours."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..localtime import utcnow
from .organisation import Unit, User
from .reservations import Reservation
from .types import UTCDateTime

#: two_crew 二部制 (two crews alternate 24-hour shifts), three_crew 三部制 (当務 → 非番 → 週休),
#: day_only 日勤 (weekdays 8:30–17:15 except public holidays and 12/29–1/3).
DUTY_SYSTEMS = ("two_crew", "three_crew", "day_only")
APPROVAL_STATUSES = ("pending", "approved", "declined", "withdrawn")


class DutyCalendar(Model):
    """A unit's duty system; a unit without one follows its parent's (a branch office its station's)."""

    __tablename__ = "duty_calendars"
    __table_args__ = (
        CheckConstraint("system IN ('two_crew', 'three_crew', 'day_only')", name="system"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), unique=True)
    system: Mapped[str] = mapped_column(String(12))
    #: Local (Asia/Tokyo) time a 24-hour shift starts; it runs to the same time the next day.
    shift_start: Mapped[time] = mapped_column(default=time(8, 30))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship()
    crews: Mapped[list[DutyCrew]] = relationship(
        back_populates="calendar", order_by="DutyCrew.position", cascade="all, delete-orphan"
    )


class DutyCrew(Model):
    """One shift crew (1部, 2係, A…) and a date on which its 24-hour shift starts."""

    __tablename__ = "duty_crews"
    __table_args__ = (UniqueConstraint("calendar_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("duty_calendars.id", ondelete="CASCADE"), index=True)
    #: As the unit names it and as Staff.crew holds it.
    name: Mapped[str] = mapped_column(String(20))
    #: A date on which this crew goes on duty; the rotation repeats every len(crews) days from it.
    anchor_date: Mapped[date]
    position: Mapped[int] = mapped_column(default=0)

    calendar: Mapped[DutyCalendar] = relationship(back_populates="crews")


class DutyApproval(Model):
    """A booking that falls in the booker's duty hours, held for the unit chief's decision
    (職務専念義務の免除). Kept beside the reservation so its status CHECK stays as it is:
    a declined booking is simply cancelled, which frees its seats."""

    __tablename__ = "duty_approvals"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'declined', 'withdrawn')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reservation_id: Mapped[int] = mapped_column(
        ForeignKey("reservations.id", ondelete="CASCADE"), unique=True
    )
    #: The booker's unit when the hold was made; the chiefs above it decide.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: withdrawn: the booking was cancelled or moved out of duty hours before a decision.
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    reservation: Mapped[Reservation] = relationship()
    unit: Mapped[Unit] = relationship()
    decided_by: Mapped[User | None] = relationship()
