"""What a booker can choose from: open campaigns, their sessions and slots, own venue first."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import Campaign, DeskSession, Reservation, Slot, Staff, Unit
from . import duty, seating
from .reservations import booking_deadline


@dataclass
class SessionChoice:
    session: DeskSession
    is_own_venue: bool
    seats_left: int
    #: How many of its slots can still take the booking's people.
    open_slot_count: int = 0
    #: How the session sits in the booker's duty (services.duty.BookerFit): on duty at their own
    #: station, on an off-duty or rest day, during their shift elsewhere… None when unknown.
    duty: str | None = None
    #: 0 best for the booker, then 1, 2; the list shows the best first.
    rank: int = 1
    #: The booking would wait for the chief's approval (it falls in duty hours).
    needs_approval: bool = False

    @property
    def is_full(self) -> bool:
        return not self.open_slot_count


@dataclass
class DayChoices:
    day: date
    sessions: list[SessionChoice]

    @property
    def rank(self) -> int:
        """How well the day's best session fits the booker's duty (0 best); days are listed by it."""
        return min(c.rank for c in self.sessions)


def open_campaigns(staff: Staff, now: datetime) -> list[Campaign]:
    """Published campaigns whose booking window is open and that include the staff member's unit."""
    campaigns = db.session.scalars(
        select(Campaign)
        .options(selectinload(Campaign.target_units))
        .where(
            Campaign.is_published.is_(True),
            Campaign.booking_opens_at <= now,
            Campaign.booking_closes_at >= now,
        )
        .order_by(Campaign.booking_opens_at, Campaign.id)
    ).all()
    return [c for c in campaigns if _targets(c, staff)]


def booking_closed(campaign: Campaign, now: datetime) -> bool:
    """No booking or move into the campaign is possible any more: its window has closed, or every
    slot still to come is past its cut-off. (Before the window opens it is not closed: it has not
    begun.) Cancelling stays possible; the booker is told to call the section for anything else."""
    if now > campaign.booking_closes_at:
        return True
    last_start = db.session.scalar(
        select(func.max(Slot.starts_at))
        .join(DeskSession, DeskSession.id == Slot.desk_session_id)
        .where(DeskSession.campaign_id == campaign.id, DeskSession.is_cancelled.is_(False))
    )
    return last_start is None or now > last_start - timedelta(minutes=campaign.cutoff_minutes)


def _targets(campaign: Campaign, staff: Staff) -> bool:
    if not campaign.target_units:
        return True
    targets = {u.id for u in campaign.target_units}
    unit: Unit | None = staff.unit
    while unit is not None:
        if unit.id in targets:
            return True
        unit = unit.parent
    return False


def session_choices(campaign: Campaign, staff: Staff, now: datetime, *, seats: int = 1) -> list[DayChoices]:
    """The campaign's sessions that can still be booked, by date; on each date the staff
    member's own unit's venue comes first."""
    if now > campaign.booking_closes_at:
        return []
    # Seats left and open slots per session, counted by the database over the
    # slots still before their cut-off (booking_deadline), instead of loading
    # every slot of the campaign as an object: the list shows only the counts.
    remaining = case((Slot.capacity > Slot.seats_taken, Slot.capacity - Slot.seats_taken), else_=0)
    counts = {
        session_id: (seats_left or 0, open_count or 0)
        for session_id, seats_left, open_count in db.session.execute(
            select(
                Slot.desk_session_id,
                func.sum(remaining),
                # A party may continue in the next slots: any slot with a free seat may be its start.
                func.sum(case((Slot.capacity > Slot.seats_taken, 1), else_=0)),
            )
            .join(DeskSession, DeskSession.id == Slot.desk_session_id)
            .where(
                DeskSession.campaign_id == campaign.id,
                DeskSession.is_cancelled.is_(False),
                Slot.starts_at >= now + timedelta(minutes=campaign.cutoff_minutes),
            )
            .group_by(Slot.desk_session_id)
        )
    }
    if not counts:
        return []
    sessions = db.session.scalars(
        select(DeskSession)
        .options(joinedload(DeskSession.venue))
        .where(DeskSession.id.in_(counts))
        .order_by(DeskSession.date, DeskSession.start_time, DeskSession.id)
    ).all()
    own_units = _own_units(staff)
    fit = duty.booker_fit(staff)
    days: dict[date, list[SessionChoice]] = {}
    for session in sessions:
        seats_left, open_count = counts[session.id]
        placed = fit.place(session)
        choice = SessionChoice(
            session=session,
            is_own_venue=session.venue.unit_id in own_units,
            seats_left=int(seats_left),
            open_slot_count=int(open_count) if seats_left >= seats else 0,
            duty=placed.kind,
            rank=placed.rank,
            needs_approval=campaign.requires_duty_approval and placed.in_duty_hours,
        )
        days.setdefault(session.date, []).append(choice)
    # Best options first for the booker's duty: the dates holding the booker's best sessions lead, in
    # date order within each rank, and on each date the best session and the own venue lead.
    ordered = [
        DayChoices(day, sorted(choices, key=lambda c: (c.rank, not c.is_own_venue, c.session.start_time)))
        for day, choices in days.items()
    ]
    return sorted(ordered, key=lambda d: (d.rank, d.day))


class SlotChoice(NamedTuple):
    slot: Slot
    #: It can still be booked now (before its cut-off, with a free seat).
    is_open: bool
    #: How many people a party starting here can bring: its free seats and those of the open
    #: slots right after it (services.seating.reach). A party larger than this cannot start here.
    reach: int


def slot_choices(session: DeskSession, now: datetime, *, moving: Reservation | None = None) -> list[SlotChoice]:
    """Each slot of a session with whether it can still be booked now and how large a party can start there.

    The seats a booking being ``moving`` holds count as free for it.
    """
    campaign = session.campaign
    own = Counter(p.slot_id for p in moving.people) if moving is not None else Counter[int]()
    slots = list(session.slots)
    before_cutoff = [now <= booking_deadline(s, campaign) for s in slots]
    free = [s.remaining + own.get(s.id, 0) if ok else 0 for s, ok in zip(slots, before_cutoff)]
    return [SlotChoice(s, ok and s.remaining > 0, reach)
            for s, ok, reach in zip(slots, before_cutoff, seating.reach(free))]


def _own_units(staff: Staff) -> set[int]:
    """The staff member's unit and its parents: a branch office's staff go to their station."""
    ids: set[int] = set()
    unit: Unit | None = staff.unit
    while unit is not None:
        ids.add(unit.id)
        unit = unit.parent
    return ids
