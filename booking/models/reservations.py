"""Bookings and what happens to them at the desk."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..localtime import utcnow
from .campaigns import Campaign, Slot
from .organisation import Dependent, Staff, User
from .types import UTCDateTime

ACTIVE_STATUSES = ("booked", "checked_in")
CHANNELS = ("web", "phone", "walk_in")


class Reservation(Model):
    """A staff member's booking for themselves and any dependents, or for dependents only (予約).

    ``slot`` is where the party starts; the people of a party too large for its free seats sit
    in the following slots of the same session, without a gap (each ReservationPerson's slot).
    """

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint(
            "status IN ('booked', 'cancelled', 'checked_in', 'no_show')", name="status"
        ),
        CheckConstraint("channel IN ('web', 'phone', 'walk_in')", name="channel"),
        CheckConstraint("seats > 0", name="seats_positive"),
        # Rule 2: one active reservation per staff member per campaign. A partial
        # unique index, so that two concurrent first bookings by the same person
        # cannot both commit, whatever the Python code checked before.
        Index(
            "uq_reservations_active_staff_campaign",
            "staff_id",
            "campaign_id",
            unique=True,
            sqlite_where=text("status IN ('booked', 'checked_in')"),
            postgresql_where=text("status IN ('booked', 'checked_in')"),
        ),
        Index("ix_reservations_slot_status", "slot_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short code read out on the phone and typed at the desk; no look-alike characters.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    #: Copied from the slot so that the unique index above can see it.
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    #: Seats held: one per person who comes. A party larger than the first slot's free seats
    #: continues in the following slots; each person's slot is on ReservationPerson.
    seats: Mapped[int]
    channel: Mapped[str] = mapped_column(String(10), default="web")
    status: Mapped[str] = mapped_column(String(12), default="booked")
    #: Rotating it revokes the manage link and QR code derived from it.
    token_nonce: Mapped[str] = mapped_column(String(32))
    #: SHA-256 of the manage token, for lookup; the token itself is never stored.
    manage_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Raised on every move, for the calendar file's SEQUENCE.
    sequence: Mapped[int] = mapped_column(default=0)
    #: The office user who booked on the person's behalf (channel phone or walk_in).
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The booker's language when they booked (the office's bookings: Japanese): their messages use it.
    locale: Mapped[str] = mapped_column(String(8), default="ja", server_default="ja")

    slot: Mapped[Slot] = relationship()
    staff: Mapped[Staff] = relationship()
    campaign: Mapped[Campaign] = relationship()
    people: Mapped[list[ReservationPerson]] = relationship(
        back_populates="reservation",
        order_by="ReservationPerson.id",
        cascade="all, delete-orphan",
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class ReservationPerson(Model):
    """One seat of a reservation: the staff member or one dependent, in the slot they are seated in."""

    __tablename__ = "reservation_people"
    __table_args__ = (
        CheckConstraint("kind IN ('staff', 'dependent')", name="kind"),
        CheckConstraint(
            "(kind = 'staff' AND dependent_id IS NULL) OR "
            "(kind = 'dependent' AND dependent_id IS NOT NULL)",
            name="kind_matches_dependent",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reservation_id: Mapped[int] = mapped_column(
        ForeignKey("reservations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    dependent_id: Mapped[int | None] = mapped_column(ForeignKey("dependents.id"))
    #: The slot this person's seat is in: the reservation's first slot or one of the next ones.
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)

    reservation: Mapped[Reservation] = relationship(back_populates="people")
    dependent: Mapped[Dependent | None] = relationship()
    slot: Mapped[Slot] = relationship()

    @property
    def name(self) -> str:
        return self.dependent.name if self.dependent else self.reservation.staff.name

    @property
    def kana(self) -> str:
        return self.dependent.kana if self.dependent else self.reservation.staff.kana


class CheckIn(Model):
    """A person's arrival at the desk (受付記録); at most one per reservation seat."""

    __tablename__ = "check_ins"
    __table_args__ = (UniqueConstraint("reservation_person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reservation_person_id: Mapped[int] = mapped_column(
        ForeignKey("reservation_people.id", ondelete="CASCADE")
    )
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The person handed in the application at the desk; moves the card status to applied.
    is_application_submitted: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")

    person: Mapped[ReservationPerson] = relationship()
    clerk: Mapped[User | None] = relationship()


class Photo(Model):
    """An application photo taken at the desk; the JPEG lives outside static/ on disk."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_in_id: Mapped[int] = mapped_column(
        ForeignKey("check_ins.id", ondelete="CASCADE"), unique=True
    )
    #: File name under the photo folder; random, so it reveals nothing.
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    byte_size: Mapped[int]
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the retention rule deletes it (rule 7).
    delete_after: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    check_in: Mapped[CheckIn] = relationship()


class DeskAction(Model):
    """One action a desk made while offline (or online through its queue), by the id the device
    gave it: the server applies each id once and answers a retry with what it answered first."""

    __tablename__ = "desk_actions"
    __table_args__ = (
        CheckConstraint("kind IN ('check_in', 'photo', 'application')", name="kind"),
        CheckConstraint("outcome IN ('applied', 'note', 'conflict')", name="outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Made on the device (a random UUID); unique across devices.
    action_id: Mapped[str] = mapped_column(String(64), unique=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id", ondelete="SET NULL"))
    #: When the clerk did it on the device (its clock, bounded by the server), and when it arrived.
    made_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(10))
    #: The answer sent the first time, sent again as it was for a retry.
    answer: Mapped[dict] = mapped_column(JSON, default=dict)
