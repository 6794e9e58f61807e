"""Personal-data retention: a campaign's bookings become counts once it is long over.

Photos already go 30 days after their session (services.photos). This goes
further: N days after a campaign's last session ends (the admin's setting per
campaign, default PERSONAL_DATA_RETENTION_DAYS), its reservations, the people on
them, their check-ins, duty approvals and any photo left are deleted, and what
the reports count survives as anonymous roster_tallies rows per slot, unit and
status. Card status events (who applied, when) are the department's records of
the card and stay; so do the slots with their seats taken.

The same tally-then-delete step serves a person's erasure on request
(services.disclosure).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from ..extensions import db
from ..localtime import utcnow
from ..models import (
    Campaign,
    CampaignRetention,
    CheckIn,
    DeskAction,
    DutyApproval,
    Photo,
    Reservation,
    ReservationPerson,
    RosterTally,
    Staff,
)
from . import audit, waitlist
from .accounts import require_role
from .actor import Actor
from .database import begin_write
from .errors import DomainError
from .photos import _REPLACED_FILES, photo_dir
from .slots import session_bounds

RETENTION_RANGE = (1, 3650)
DEFAULT_DAYS = 365
_CHUNK = 500


def default_days() -> int:
    return int(current_app.config.get("PERSONAL_DATA_RETENTION_DAYS", DEFAULT_DAYS))


@dataclass
class Removed:
    reservations: int = 0
    people: int = 0
    check_ins: int = 0
    photos: int = 0

    def add(self, other: Removed) -> None:
        self.reservations += other.reservations
        self.people += other.people
        self.check_ins += other.check_ins
        self.photos += other.photos


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def tally_and_delete(reservation_ids: Iterable[int], *, reason: str, now: datetime | None = None) -> Removed:
    """Replace reservations by anonymous counts, then delete them and everything hanging on them.

    Photo files are removed only once the transaction commits (services.photos'
    after-commit hook), so a rollback leaves rows and files as they were.
    """
    now = now or utcnow()
    ids = sorted(set(reservation_ids))
    removed = Removed()
    if not ids:
        return removed
    begin_write()
    tallies: dict[tuple[int, int | None, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    folder = photo_dir()
    for chunk in _chunks(ids):
        rows = db.session.execute(
            select(Reservation.id, Reservation.slot_id, Reservation.status, Reservation.seats, Staff.unit_id)
            .join(Staff, Staff.id == Reservation.staff_id)
            .where(Reservation.id.in_(chunk))
        ).all()
        key_of = {rid: (slot_id, unit_id, status) for rid, slot_id, status, _seats, unit_id in rows}
        for rid in key_of:
            tallies[key_of[rid]][0] += 1
        # People are counted in the slot each one sits in: a party may span several.
        for rid, kind, slot_id in db.session.execute(
            select(ReservationPerson.reservation_id, ReservationPerson.kind, ReservationPerson.slot_id)
            .where(ReservationPerson.reservation_id.in_(chunk))
        ):
            removed.people += 1
            _first_slot, unit_id, status = key_of[rid]
            counts = tallies[(slot_id, unit_id, status)]
            counts[1] += 1
            if kind == "dependent":
                counts[2] += 1
        for rid, submitted in db.session.execute(
            select(ReservationPerson.reservation_id, CheckIn.is_application_submitted)
            .join(CheckIn, CheckIn.reservation_person_id == ReservationPerson.id)
            .where(ReservationPerson.reservation_id.in_(chunk))
        ):
            removed.check_ins += 1
            tallies[key_of[rid]][3] += 1
            tallies[key_of[rid]][4] += int(bool(submitted))
        people = select(ReservationPerson.id).where(ReservationPerson.reservation_id.in_(chunk))
        check_ins = select(CheckIn.id).where(CheckIn.reservation_person_id.in_(people))
        photos = db.session.execute(
            select(Photo.id, Photo.storage_name).where(Photo.check_in_id.in_(check_ins))
        ).all()
        for _photo_id, name in photos:
            db.session.info.setdefault(_REPLACED_FILES, []).append(folder / name)
        removed.photos += len(photos)
        removed.reservations += len(rows)
        no_sync = {"synchronize_session": False}
        db.session.execute(delete(Photo).where(Photo.check_in_id.in_(check_ins)), execution_options=no_sync)
        db.session.execute(delete(CheckIn).where(CheckIn.reservation_person_id.in_(people)),
                           execution_options=no_sync)
        db.session.execute(delete(ReservationPerson).where(ReservationPerson.reservation_id.in_(chunk)),
                           execution_options=no_sync)
        db.session.execute(delete(DutyApproval).where(DutyApproval.reservation_id.in_(chunk)),
                           execution_options=no_sync)
        # The offline desk's stored answers name the people they checked in.
        db.session.execute(delete(DeskAction).where(DeskAction.reservation_id.in_(chunk)),
                           execution_options=no_sync)
        db.session.execute(delete(Reservation).where(Reservation.id.in_(chunk)), execution_options=no_sync)
    db.session.add_all(
        RosterTally(slot_id=slot_id, unit_id=unit_id, status=status, reservations=c[0], people=c[1],
                    dependents=c[2], checked_in_people=c[3], applications_submitted=c[4], reason=reason,
                    created_at=now)
        for (slot_id, unit_id, status), c in sorted(tallies.items(), key=lambda item: (item[0][0], item[0][2]))
    )
    db.session.flush()
    db.session.expire_all()
    return removed


# --- the campaign setting ------------------------------------------------------------


def campaign_end(campaign: Campaign) -> datetime | None:
    """When the campaign's last session ends; None while it has no sessions."""
    ends = [session_bounds(s.date, s.start_time, s.end_time)[1] for s in campaign.sessions]
    return max(ends) if ends else None


def setting(campaign: Campaign) -> CampaignRetention | None:
    return db.session.get(CampaignRetention, campaign.id)


def days_for(campaign: Campaign) -> int:
    row = setting(campaign)
    return row.days if row else default_days()


def due_at(campaign: Campaign) -> datetime | None:
    end = campaign_end(campaign)
    return end + timedelta(days=days_for(campaign)) if end else None


def set_days(actor: Actor, campaign: Campaign, days: int) -> CampaignRetention:
    """Keep the campaign's bookings this many days after it ends (an admin's act)."""
    require_role(actor, "admin")
    low, high = RETENTION_RANGE
    if not isinstance(days, int) or isinstance(days, bool) or not low <= days <= high:
        raise DomainError("invalid", _l("Check the highlighted fields."),
                          fields={"days": _l("Enter a number of days from %(low)s to %(high)s.", low=low, high=high)})
    row = setting(campaign)
    previous = row.days if row else default_days()
    if row is None:
        row = CampaignRetention(campaign_id=campaign.id, days=days)
        db.session.add(row)
    row.days = days
    row.updated_at = utcnow()
    db.session.flush()
    audit.record("retention.set", actor=actor, target_type="campaign", target_id=campaign.id,
                 previous_days=previous, days=days)
    return row


@dataclass
class CampaignLine:
    campaign: Campaign
    ends_at: datetime | None
    days: int
    due_at: datetime | None
    purged_at: datetime | None
    reservations: int

    def is_due(self, now: datetime) -> bool:
        return self.purged_at is None and self.due_at is not None and self.due_at <= now


def overview() -> list[CampaignLine]:
    """Every campaign with its end, retention, purge date and reservations still held."""
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())).all()
    settings = {row.campaign_id: row for row in db.session.scalars(select(CampaignRetention))}
    held = dict(db.session.execute(
        select(Reservation.campaign_id, func.count(Reservation.id)).group_by(Reservation.campaign_id)).all())
    lines = []
    for campaign in campaigns:
        row = settings.get(campaign.id)
        days = row.days if row else default_days()
        end = campaign_end(campaign)
        lines.append(CampaignLine(campaign, end, days, end + timedelta(days=days) if end else None,
                                  row.purged_at if row else None, held.get(campaign.id, 0)))
    return lines


# --- the purge ----------------------------------------------------------------------


def _purge_campaign(campaign: Campaign, *, now: datetime) -> Removed:
    """Turn one campaign's bookings into counts (whether or not it is due: the caller decides)."""
    ids = list(db.session.scalars(select(Reservation.id).where(Reservation.campaign_id == campaign.id)))
    waitlist.forget_campaign(campaign.id)  # who waited with whom is personal data too
    removed = tally_and_delete(ids, reason="retention", now=now)
    row = setting(campaign)
    if row is None:
        row = CampaignRetention(campaign_id=campaign.id, days=default_days())
        db.session.add(row)
    row.purged_at = now
    db.session.flush()
    return removed


def purge(actor: Actor, campaigns: list[Campaign], *, now: datetime | None = None) -> list[tuple[int, Removed]]:
    """Turn the bookings of the campaigns into counts; one event names them all with the totals.

    Returns (campaign id, what was removed) per campaign. The operator (cron) or an admin decides
    which campaigns: ``due_campaigns`` lists those past their retention.
    """
    if not (actor.channel == "cli" and actor.user is None):
        require_role(actor, "admin")
    now = now or utcnow()
    purged = [(campaign.id, _purge_campaign(campaign, now=now)) for campaign in campaigns]
    if purged:
        audit.record("retention.purge", actor=actor, target_type="campaign",
                     target_id=",".join(str(campaign_id) for campaign_id, _removed in purged),
                     reservations=sum(r.reservations for _c, r in purged),
                     people=sum(r.people for _c, r in purged),
                     check_ins=sum(r.check_ins for _c, r in purged),
                     photos=sum(r.photos for _c, r in purged))
    return purged


def due_campaigns(now: datetime | None = None) -> list[Campaign]:
    now = now or utcnow()
    return [line.campaign for line in overview() if line.is_due(now)]


def session_tallies(session_ids: list[int], unit_ids: set[int] | None = None) -> dict[int, dict[str, int]]:
    """Seats of purged reservations per session and status, for the reports (see reports.session_lines)."""
    if not session_ids:
        return {}
    from ..models import Slot

    query = (
        select(Slot.desk_session_id, RosterTally.status, func.sum(RosterTally.people))
        .join(Slot, Slot.id == RosterTally.slot_id)
        .where(Slot.desk_session_id.in_(session_ids), RosterTally.status != "cancelled")
        .group_by(Slot.desk_session_id, RosterTally.status)
    )
    if unit_ids is not None:
        query = query.where(RosterTally.unit_id.in_(unit_ids))
    result: dict[int, dict[str, int]] = {}
    for sid, status, people in db.session.execute(query):
        result.setdefault(sid, {})[status] = int(people or 0)
    return result


