"""What personal-data retention keeps: per-campaign settings and the counts left after a purge."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..localtime import utcnow
from .campaigns import Campaign
from .types import UTCDateTime


class CampaignRetention(Model):
    """The admin's retention setting for one campaign (個人情報の保有期間).

    No row means the default (config PERSONAL_DATA_RETENTION_DAYS). Kept beside
    the campaign rather than on it so that the campaign table stays as it is.
    """

    __tablename__ = "campaign_retention"
    __table_args__ = (CheckConstraint("days > 0", name="days_positive"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    #: Reservations, check-ins and photos are purged this many days after the campaign's last session ends.
    days: Mapped[int]
    #: When the purge ran; the campaign's rosters are counts from then on.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    campaign: Mapped[Campaign] = relationship()


class RosterTally(Model):
    """Anonymous counts left in place of purged or erased reservations of one slot.

    One row per slot, booker's unit and reservation status at the time of the
    purge (several rows may add up). Reports add these to the live reservations,
    and ``flask check`` counts their seats as taken, so a slot's fill and a
    session's booked / checked-in / no-show figures do not change when the names go.
    """

    __tablename__ = "roster_tallies"
    __table_args__ = (
        CheckConstraint("status IN ('booked', 'cancelled', 'checked_in', 'no_show')", name="status"),
        Index("ix_roster_tallies_slot_status", "slot_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    reservations: Mapped[int]
    #: Seats: staff plus dependents (what the reservations held).
    people: Mapped[int]
    dependents: Mapped[int]
    checked_in_people: Mapped[int]
    applications_submitted: Mapped[int]
    #: "retention" (a campaign's purge) or "erasure" (one person's data deleted on request).
    reason: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
