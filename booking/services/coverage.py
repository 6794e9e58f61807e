"""Coverage of a campaign's sessions by shift crew: who can attend on duty at their own station.

A session at a station on one day reaches only the crew on duty there that day
(Fukushima visited each station on several days for that reason). For every
unit × duty group (each crew, and 日勤) this module says, session by session,
whether the group can attend on duty at its own station, only off duty, or not
at all; flags groups that no session reaches on duty or that have more people
without a card than the seats of the sessions that do; and suggests the fewest
sessions (at most five) that reach every flagged group on duty at its station,
with the times of that station's existing sessions, for the admin to add after
a confirmation that shows what will be created.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..localtime import at_tokyo, local, utcnow
from ..models import Campaign, DeskSession, Staff, Unit, Venue
from . import campaigns
from . import slots as slot_service
from .accounts import require_role
from .actor import Actor
from .duty import DAY_CREW, DAY_END, DAY_START, DutyBook, DutyPlan, station_venue_ids
from .errors import DomainError

#: A cell's answer: the group can attend on duty at its own station (the venue is its
#: station's and its crew is on duty then), only on its own time, or not at all (its
#: crew is on duty at the station while the desk is elsewhere).
ON_DUTY_HERE, OFF_DUTY, NOT_POSSIBLE = "on_duty_here", "off_duty", "not_possible"
CELL_LABELS = {
    ON_DUTY_HERE: _l("On duty at own station"),
    OFF_DUTY: _l("Off duty only"),
    NOT_POSSIBLE: _l("Not possible (on duty elsewhere)"),
}
_RANK = {ON_DUTY_HERE: 0, OFF_DUTY: 1, NOT_POSSIBLE: 2}
FALLBACK_SHAPE = (time(15), time(17), 10, 1)


@dataclass
class Cell:
    session: DeskSession
    state: str
    #: Seats of the session's slots that the group can reach on duty at its station.
    seats: int = 0


@dataclass
class Group:
    """One row of the matrix: a unit's crew (or its day workers)."""

    unit: Unit
    name: str
    plan: DutyPlan
    staff: int
    no_card: int
    station_venue_ids: list[int]
    cells: list[Cell] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.unit.id}:{self.name}"

    @property
    def on_duty_sessions(self) -> int:
        return sum(1 for c in self.cells if c.state == ON_DUTY_HERE)

    @property
    def reachable_seats(self) -> int:
        return sum(c.seats for c in self.cells)

    @property
    def no_duty_session(self) -> bool:
        return self.staff > 0 and self.on_duty_sessions == 0

    @property
    def short_of_seats(self) -> bool:
        return self.on_duty_sessions > 0 and self.no_card > self.reachable_seats

    @property
    def is_flagged(self) -> bool:
        return self.no_duty_session or self.short_of_seats


@dataclass
class Unplaced:
    """Staff whose duty cannot be worked out: no calendar for their unit, or a crew it does not name."""

    unit: Unit
    crew: str
    staff: int
    no_card: int
    has_calendar: bool


#: At most this many sessions are suggested at once (issue 16: a wall of a hundred dates helps nobody).
MAX_PROPOSALS = 5


@dataclass(eq=False)
class Proposal:
    """A session the coverage suggests adding, and the flagged groups it reaches on duty."""

    venue: Venue
    day: date
    start: time
    end: time
    slot_minutes: int
    desks: int
    groups: tuple[Group, ...]
    #: The session whose times were copied (None: the campaign had none at this station).
    template: DeskSession | None = None

    @property
    def places(self) -> int:
        return sum(s.capacity for s in slot_service.plan_slots(self.day, self.start, self.end,
                                                                self.slot_minutes, self.desks))

    @property
    def key(self) -> str:
        """What the page sends back: the service works the proposal out again and matches this."""
        return f"{self.venue.id}:{self.day.isoformat()}:{self.start.strftime('%H%M')}"


@dataclass
class Unreachable:
    """A flagged group no suggestion reaches: no venue at its station, or no duty day left to book."""

    group: Group
    no_venue: bool


@dataclass
class Coverage:
    campaign: Campaign
    sessions: list[DeskSession]
    groups: list[Group]
    unplaced: list[Unplaced]
    period: tuple[date, date]
    proposals: list[Proposal] = field(default_factory=list)
    #: Flagged groups that no proposal reaches (including those beyond the first MAX_PROPOSALS).
    unreachable: list[Unreachable] = field(default_factory=list)

    @property
    def flagged(self) -> list[Group]:
        return [g for g in self.groups if g.is_flagged]


def campaign_units(campaign: Campaign, book: DutyBook) -> list[Unit]:
    """The units the campaign is for (its targets and everything under them; none means all)."""
    if not campaign.target_units:
        return sorted(book.units.values(), key=lambda u: u.code)
    children: dict[int, list[int]] = {}
    for unit in book.units.values():
        if unit.parent_id:
            children.setdefault(unit.parent_id, []).append(unit.id)
    ids, stack = set(), [u.id for u in campaign.target_units]
    while stack:
        current = stack.pop()
        if current not in ids:
            ids.add(current)
            stack.extend(children.get(current, []))
    return sorted((book.units[i] for i in ids), key=lambda u: u.code)


def campaign_period(campaign: Campaign, today: date) -> tuple[date, date]:
    """Dates on which a new session could still be booked: from tomorrow (or the window's
    opening) to the day booking closes."""
    first = max(local(campaign.booking_opens_at).date(), today + timedelta(days=1))
    return first, local(campaign.booking_closes_at).date()


def _tree_order(units: list[Unit], book: DutyBook) -> list[tuple[Unit, int]]:
    """Units as a tree (parents before their children), with their depth."""
    wanted = {u.id for u in units}
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        parent = unit.parent_id if unit.parent_id in wanted else None
        children.setdefault(parent, []).append(unit)
    ordered: list[tuple[Unit, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in sorted(children.get(parent, []), key=lambda u: u.code):
            ordered.append((unit, depth))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return ordered


def coverage(campaign: Campaign, *, now: datetime | None = None) -> Coverage:
    """The matrix for a campaign, with the flagged groups' suggestions."""
    now = now or utcnow()
    book = DutyBook()
    sessions = list(db.session.scalars(
        select(DeskSession)
        .options(selectinload(DeskSession.slots), selectinload(DeskSession.venue))
        .where(DeskSession.campaign_id == campaign.id, DeskSession.is_cancelled.is_(False))
        .order_by(DeskSession.date, DeskSession.start_time, DeskSession.id)
    ))
    venues = list(db.session.scalars(select(Venue).order_by(Venue.id)))
    venues_by_unit: dict[int, list[int]] = {}
    for venue in venues:
        if venue.unit_id:
            venues_by_unit.setdefault(venue.unit_id, []).append(venue.id)

    units = campaign_units(campaign, book)
    counts: dict[tuple[int, str], list[int]] = {}
    for unit_id, crew, card_status, n in db.session.execute(
        select(Staff.unit_id, Staff.crew, Staff.card_status, func.count())
        .where(Staff.unit_id.in_([u.id for u in units]))
        .group_by(Staff.unit_id, Staff.crew, Staff.card_status)
    ):
        entry = counts.setdefault((unit_id, (crew or "").strip()), [0, 0])
        entry[0] += n
        entry[1] += n if card_status == "none" else 0

    groups: list[Group] = []
    unplaced: list[Unplaced] = []
    for unit, _depth in _tree_order(units, book):
        plan = book.for_unit(unit.id).plan
        by_group: dict[str, list[int]] = {}
        for (unit_id, crew), (staff, no_card) in counts.items():
            if unit_id != unit.id:
                continue
            group_name = plan.group_of(crew) if plan else None
            if group_name is None:
                unplaced.append(Unplaced(unit, crew, staff, no_card, plan is not None))
                continue
            entry = by_group.setdefault(group_name, [0, 0])
            entry[0] += staff
            entry[1] += no_card
        if plan is None:
            continue
        station = station_venue_ids(unit.id, venues_by_unit, book.units)
        for name in plan.groups():
            if name not in by_group:
                continue
            staff, no_card = by_group[name]
            groups.append(Group(unit, name, plan, staff, no_card, station))

    cache: dict[tuple, list[tuple[datetime, datetime]]] = {}
    for group in groups:
        for session in sessions:
            group.cells.append(_cell(group, session, cache))

    result = Coverage(campaign, sessions, groups, unplaced, campaign_period(campaign, local(now).date()))
    venue_by_id = {v.id: v for v in venues}
    result.proposals, result.unreachable = _propose(result, venue_by_id, now)
    return result


def _intervals(group: Group, day: date, cache: dict) -> list[tuple[datetime, datetime]]:
    key = (group.plan, group.name, day)
    if key not in cache:
        cache[key] = group.plan.duty_intervals(group.name, day - timedelta(days=1),
                                               day + timedelta(days=1) if day < date.max else day)
    return cache[key]


def _cell(group: Group, session: DeskSession, cache: dict) -> Cell:
    intervals = _intervals(group, session.date, cache)
    here = session.venue_id in group.station_venue_ids
    best, seats = NOT_POSSIBLE, 0
    for slot in session.slots:
        on_duty = any(s < slot.ends_at and slot.starts_at < e for s, e in intervals)
        state = (ON_DUTY_HERE if here else NOT_POSSIBLE) if on_duty else OFF_DUTY
        if state == ON_DUTY_HERE:
            seats += slot.capacity
        if _RANK[state] < _RANK[best]:
            best = state
    return Cell(session, best, seats)


# --- suggestions ----------------------------------------------------------------------


def fitted_times(plan: DutyPlan, group: str, duty_day: date, start: time, end: time) -> tuple[date, time, time]:
    """Where a session with these hours goes so that it falls in the group's duty of ``duty_day``.

    A shift crew's duty runs from the shift start to the same time the next day, so
    hours before the shift start go on the next calendar day. Day workers' duty ends
    at 17:15: hours outside 8:30–17:15 move to end at 17:15, keeping their length.
    """
    if group != DAY_CREW:
        return (duty_day if start >= plan.shift_start else duty_day + timedelta(days=1)), start, end
    begin, finish = at_tokyo(duty_day, start), at_tokyo(duty_day, end)
    if finish <= begin:
        finish += timedelta(days=1)
    if begin < at_tokyo(duty_day, DAY_END) and at_tokyo(duty_day, DAY_START) < finish:
        return duty_day, start, end
    length = min(finish - begin, at_tokyo(duty_day, DAY_END) - at_tokyo(duty_day, DAY_START))
    new_start = at_tokyo(duty_day, DAY_END) - length
    return duty_day, new_start.timetz().replace(tzinfo=None), DAY_END


def _template(group: Group, result: Coverage) -> DeskSession | None:
    at_station = [s for s in result.sessions if s.venue_id in group.station_venue_ids]
    return at_station[0] if at_station else None


def _shape(group: Group, result: Coverage) -> tuple[DeskSession | None, tuple[time, time, int, int]]:
    """The times, slot length and desks to copy: the group's station's first session, else the
    campaign's earliest, else a default."""
    template = _template(group, result)
    if template is not None:
        return template, (template.start_time, template.end_time, template.slot_minutes, template.desks)
    if result.sessions:
        earliest = result.sessions[0]
        return None, (earliest.start_time, earliest.end_time, earliest.slot_minutes, earliest.desks)
    return None, FALLBACK_SHAPE


def _propose(result: Coverage, venue_by_id: dict[int, Venue], now: datetime) -> tuple[list[Proposal],
                                                                                       list[Unreachable]]:
    """The fewest sessions (at most MAX_PROPOSALS) that give every flagged group one it can attend on duty.

    Each candidate is a duty day of a flagged group at its station, with the station's times fitted
    into that duty; it reaches every flagged group of the station on duty in those hours (a weekday
    afternoon may reach the day workers and the crew on duty at once). Chosen greedily, as set cover
    is: the candidate reaching most groups still without one, ties broken by the fewest days to the
    campaign's other sessions (a desk set up on neighbouring days), then by the earlier date.
    """
    flagged = result.flagged
    unreachable: list[Unreachable] = []
    candidates: dict[tuple[int, date, time], Proposal] = {}
    first, last = result.period
    cutoff = timedelta(minutes=result.campaign.cutoff_minutes)
    taken: dict[int, list[tuple[datetime, datetime]]] = {}
    for s in result.sessions:
        taken.setdefault(s.venue_id, []).append(slot_service.session_bounds(s.date, s.start_time, s.end_time))
    for group in flagged:
        template, (start, end, minutes, desks) = _shape(group, result)
        venue = template.venue if template is not None else (
            venue_by_id.get(group.station_venue_ids[0]) if group.station_venue_ids else None)
        if venue is None:
            unreachable.append(Unreachable(group, no_venue=True))
            continue
        for duty_day in group.plan.duty_dates(group.name, first, last):
            day, begin, finish = fitted_times(group.plan, group.name, duty_day, start, end)
            new_start, new_end = slot_service.session_bounds(day, begin, finish)
            # Not too late to book, nor at hours the venue already has a desk.
            if day > last or new_start - cutoff <= now or any(
                    s < new_end and new_start < e for s, e in taken.get(venue.id, [])):
                continue
            key = (venue.id, day, begin)
            if key in candidates:
                continue
            reached = tuple(g for g in flagged if venue.id in g.station_venue_ids
                            and g.plan.on_duty_during(g.name, new_start, new_end))
            candidates[key] = Proposal(venue, day, begin, finish, minutes, desks, reached, template)

    session_days = [s.date for s in result.sessions]

    def nearness(day: date) -> int:
        return min((abs((day - other).days) for other in session_days), default=0)

    chosen: list[Proposal] = []
    missing = {g.key for g in flagged} - {u.group.key for u in unreachable}
    pool = list(candidates.values())
    while missing and pool and len(chosen) < MAX_PROPOSALS:
        best = min(pool, key=lambda p: (-sum(1 for g in p.groups if g.key in missing), nearness(p.day),
                                        p.day, p.venue.id, p.start))
        gained = {g.key for g in best.groups} & missing
        if not gained:
            break
        chosen.append(best)
        missing -= gained
        pool = [p for p in pool if p is not best]
    unreachable += [Unreachable(g, no_venue=False) for g in flagged if g.key in missing]
    chosen.sort(key=lambda p: (p.day, p.start, p.venue.id))
    return chosen, unreachable


def add_suggested_sessions(actor: Actor, campaign: Campaign, keys: list[str], *,
                           now: datetime | None = None) -> list[DeskSession]:
    """Add the proposed sessions the admin confirmed (``keys``: Proposal.key), all or none.

    The proposals are worked out again here from the current plan, never taken from the
    form, so a stale page cannot add a session its crews cannot attend on duty.
    """
    require_role(actor, "admin")
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        raise DomainError("invalid", _l("Choose at least one of the suggested sessions."))
    result = coverage(campaign, now=now)
    by_key = {p.key: p for p in result.proposals}
    if any(k not in by_key for k in wanted):
        raise DomainError("session_conflict", _l(
            "The suggestions have changed since the page was shown: nothing was added. Look at them again."))
    made = []
    for key in wanted:
        p = by_key[key]
        made.append(campaigns.create_session(
            actor, campaign, venue_id=p.venue.id, day=p.day, start=p.start, end=p.end,
            slot_minutes=p.slot_minutes, desks=p.desks,
            suggested_for={"groups": [{"unit_id": g.unit.id, "group": g.name} for g in p.groups]}))
    return made


def proposals_for(campaign: Campaign, keys: list[str], *, now: datetime | None = None) -> list[Proposal]:
    """The current proposals among ``keys``, for the confirmation page (stale keys are left out)."""
    wanted = set(keys)
    return [p for p in coverage(campaign, now=now).proposals if p.key in wanted]
