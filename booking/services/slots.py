"""Planning a desk session's slots and publishing them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..localtime import at_tokyo, in_our_years, year_range_message
from ..models import Campaign, DeskSession, Slot, Venue
from .errors import NotFound, invalid


@dataclass(frozen=True)
class PlannedSlot:
    starts_at: datetime
    ends_at: datetime
    capacity: int


def session_bounds(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """The session's start and end instants; an end at or before the start is the next day."""
    starts_at = at_tokyo(day, start)
    ends_at = at_tokyo(day, end)
    if ends_at <= starts_at:
        try:
            ends_at += timedelta(days=1)
        except OverflowError:  # 9999-12-31, saved before the year range was checked
            ends_at = datetime.max.replace(tzinfo=ends_at.tzinfo)
    return starts_at, ends_at


def plan_slots(day: date, start: time, end: time, minutes: int, desks: int) -> list[PlannedSlot]:
    """The whole slots that fit between start and end; a remainder shorter than a slot is dropped."""
    if minutes <= 0 or desks <= 0:
        return []
    starts_at, ends_at = session_bounds(day, start, end)
    length = timedelta(minutes=minutes)
    planned = []
    cursor = starts_at
    while cursor + length <= ends_at:
        planned.append(PlannedSlot(cursor, cursor + length, desks))
        cursor += length
    return planned


def check_day(day: date, name: str = "date") -> None:
    """A session's date must lie in the years every date entered may have (the API refuses the rest)."""
    if not in_our_years(day):
        raise invalid(**{name: year_range_message()})


def create_session(
    campaign: Campaign,
    venue_id: int,
    day: date,
    start: time,
    end: time,
    slot_minutes: int,
    desks: int,
) -> DeskSession:
    """Add a session to a campaign and materialise its slots, checking nothing of who acts.

    The building block of campaigns.create_session and copy_session, which check the
    actor and the numbers and write the audit event: the act itself goes through them.
    """
    venue = db.session.get(Venue, venue_id)
    if venue is None:
        raise invalid(venue_id=_l("No venue has this id."))
    check_day(day)
    if start == end:
        raise invalid(end_time=_l("The end time must differ from the start time."))
    planned = plan_slots(day, start, end, slot_minutes, desks)
    if not planned:
        raise invalid(slot_minutes=_l("Not even one slot of this length fits between the times."))
    session = DeskSession(
        campaign=campaign,
        venue=venue,
        date=day,
        start_time=start,
        end_time=end,
        slot_minutes=slot_minutes,
        desks=desks,
    )
    session.slots = [
        Slot(starts_at=p.starts_at, ends_at=p.ends_at, capacity=p.capacity) for p in planned
    ]
    db.session.add(session)
    db.session.flush()
    return session


def get_campaign(campaign_id: int, *, published_only: bool = False) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or (published_only and not campaign.is_published):
        raise NotFound(_l("No such campaign."))
    return campaign
