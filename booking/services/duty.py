"""Who is on duty when: each unit's duty system (二部制, 三部制, 日勤) and its crews.

The pure core is ``DutyPlan``: given a system, a shift start and each crew's anchor
date it answers which crew is on duty at an instant and what a crew's day is
(on duty, off duty 非番, rest day 週休/休日). The rest of the module loads plans
from the database (a unit without a calendar follows its parent's) and saves them.

Times: a 24-hour shift starts at ``shift_start`` (Asia/Tokyo wall clock) on its
duty date and runs to the same time the next day, so at 07:00 on day D the crew
on duty is the one whose shift started on D-1. Japan has no daylight saving, so
"24 hours later" and "the same wall-clock time the next day" are the same instant.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..localtime import at_tokyo, local
from ..models import DUTY_SYSTEMS, DeskSession, DutyCalendar, DutyCrew, Staff, Unit
from . import audit
from .accounts import require_role
from .actor import Actor
from .errors import invalid
from .guard import refuse_individual_numbers

#: The crew name staff on weekday day work carry, in any unit (Staff.crew).
DAY_CREW = "日勤"
DAY_START = time(8, 30)
DAY_END = time(17, 15)
DEFAULT_SHIFT_START = time(8, 30)
CREW_COUNT = {"two_crew": 2, "three_crew": 3, "day_only": 0}
SYSTEM_LABELS = {
    "two_crew": _l("Two crews, 24-hour shifts (二部制)"),
    "three_crew": _l("Three crews: on duty, off duty, rest day (三部制)"),
    "day_only": _l("Day work only (日勤)"),
}
#: A staff member's day: on duty (当務 / 日勤の勤務日), off duty (非番: the day a shift ends),
#: or a rest day (週休, or for day workers a weekend, public holiday or year-end day).
ON_DUTY, OFF_DUTY, REST = "on_duty", "off_duty", "rest"


# --- the calendar of day workers ------------------------------------------------------


@lru_cache(maxsize=256)
def _holidays_of(year: int) -> dict[date, str]:
    # Built per year and cached: `holidays` fills years lazily, which is not thread-safe
    # when several requests ask at once; a plain dict per year is.
    return dict(holidays.country_holidays("JP", years=year))


def public_holiday(day: date) -> str | None:
    """The name of the Japanese public holiday on a date (振替休日 and 国民の休日 included), or None."""
    return _holidays_of(day.year).get(day)


def is_year_end_closure(day: date) -> bool:
    """12/29–1/3: government offices close (行政機関の休日に関する法律)."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def is_working_day(day: date) -> bool:
    """A day worker's working day: Monday to Friday except public holidays and 12/29–1/3."""
    return day.weekday() < 5 and not is_year_end_closure(day) and public_holiday(day) is None


# --- the pure core --------------------------------------------------------------------


def _day_after(at: datetime) -> datetime:
    try:
        return at + timedelta(days=1)
    except OverflowError:
        return datetime.max.replace(tzinfo=at.tzinfo)


def _day_before(day: date) -> date:
    return day - timedelta(days=1) if day > date.min else day


@dataclass(frozen=True)
class Crew:
    name: str
    #: A date on which this crew's shift starts.
    anchor: date


@dataclass(frozen=True)
class DutyPlan:
    """A duty system with its crews; ``crews`` is empty for day work only."""

    system: str
    shift_start: time = DEFAULT_SHIFT_START
    crews: tuple[Crew, ...] = ()

    @property
    def period(self) -> int:
        """Days after which the rotation repeats (0 for day work)."""
        return len(self.crews)

    @property
    def crew_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.crews)

    def shift_day(self, at: datetime) -> date:
        """The duty date of the shift running at an instant (before shift start: the day before)."""
        wall = local(at)
        return wall.date() if wall.time() >= self.shift_start else wall.date() - timedelta(days=1)

    def crew_starting(self, day: date) -> Crew | None:
        """The crew whose 24-hour shift starts on a date."""
        for crew in self.crews:
            if (day - crew.anchor).days % self.period == 0:
                return crew
        return None

    def crew_on_duty(self, at: datetime) -> Crew | None:
        """The crew on duty at an instant; None for day work only."""
        return self.crew_starting(self.shift_day(at)) if self.crews else None

    def group_of(self, crew: str) -> str | None:
        """The duty group of a Staff.crew value: a crew name, DAY_CREW, or None when unknown."""
        crew = (crew or "").strip()
        if self.system == "day_only" or crew == DAY_CREW:
            return DAY_CREW
        return crew if crew in self.crew_names else None

    def groups(self) -> tuple[str, ...]:
        return self.crew_names + (DAY_CREW,)

    def state(self, group: str, day: date) -> str:
        """ON_DUTY, OFF_DUTY or REST for a duty group on a date."""
        if group == DAY_CREW:
            return ON_DUTY if is_working_day(day) else REST
        crew = next(c for c in self.crews if c.name == group)
        offset = (day - crew.anchor).days % self.period
        return ON_DUTY if offset == 0 else OFF_DUTY if offset == 1 else REST

    def duty_intervals(self, group: str, first: date, last: date) -> list[tuple[datetime, datetime]]:
        """The group's on-duty instants [start, end) whose duty date lies in first..last.

        Dates at the ends of the calendar (a session saved on 9999-12-31 before the year range
        was checked) are clamped rather than overflowing: issue 16 found every booker's page,
        the coverage and the phone pages answering 500 for one such session.
        """
        intervals = []
        day = first
        while day <= last:
            if self.state(group, day) == ON_DUTY:
                if group == DAY_CREW:
                    intervals.append((at_tokyo(day, DAY_START), at_tokyo(day, DAY_END)))
                else:
                    start = at_tokyo(day, self.shift_start)
                    intervals.append((start, _day_after(start)))
            if day == date.max:
                break
            day += timedelta(days=1)
        return intervals

    def on_duty_during(self, group: str, start: datetime, end: datetime) -> bool:
        """Whether the group is on duty at any moment of [start, end)."""
        first = _day_before(local(start).date())
        return any(s < end and start < e for s, e in self.duty_intervals(group, first, local(end).date()))

    def duty_dates(self, group: str, first: date, last: date) -> list[date]:
        return [first + timedelta(days=n) for n in range((last - first).days + 1)
                if self.state(group, first + timedelta(days=n)) == ON_DUTY]


def check_plan(system: str, shift_start: time | None, crews: list[tuple[str, date | None]]) -> DutyPlan:
    """A valid plan from what the editor sent, or DomainError("invalid") with the fields to fix."""
    if system not in DUTY_SYSTEMS:
        raise invalid(system=_l("Choose a duty system."))
    wanted = CREW_COUNT[system]
    given = [(name.strip(), anchor) for name, anchor in crews if (name or "").strip() or anchor]
    refuse_individual_numbers({f"crew_{i}": name for i, (name, _a) in enumerate(given)})
    if system == "day_only":
        return DutyPlan("day_only", shift_start or DEFAULT_SHIFT_START, ())
    if len(given) != wanted:
        raise invalid(crews=_l("This system needs exactly %(n)s crews, each with a name and a start date.",
                                n=wanted))
    names = [name for name, _anchor in given]
    if not all(names) or any(a is None for _n, a in given):
        raise invalid(crews=_l("Give every crew a name and a date on which it is on duty."))
    if DAY_CREW in names:
        raise invalid(crews=_l("%(name)s is for day workers; give the shift crews other names.", name=DAY_CREW))
    if any(len(n) > 20 for n in names):
        raise invalid(crews=_l("Crew names have at most 20 characters."))
    if len(set(names)) != len(names):
        raise invalid(crews=_l("Give each crew its own name."))
    dated = [(n, a) for n, a in given if a is not None]  # every one, as checked above
    residues = {a.toordinal() % wanted for _n, a in dated}
    if len(residues) != wanted:
        # Two crews on duty on the same day (and none on another) is never a rotation.
        raise invalid(crews=_l("Two crews would be on duty on the same day. Give each crew a start date "
                                "on a different day of the %(n)s-day rotation.", n=wanted))
    return DutyPlan(system, shift_start or DEFAULT_SHIFT_START, tuple(Crew(n, a) for n, a in dated))


# --- plans from the database ----------------------------------------------------------


def _plan_of(calendar: DutyCalendar) -> DutyPlan:
    return DutyPlan(calendar.system, calendar.shift_start,
                    tuple(Crew(c.name, c.anchor_date) for c in calendar.crews))


@dataclass
class UnitDuty:
    """A unit's effective plan and the unit it comes from (itself, or the parent it follows)."""

    unit: Unit
    plan: DutyPlan | None
    source: Unit | None

    @property
    def is_inherited(self) -> bool:
        return self.source is not None and self.source.id != self.unit.id


class DutyBook:
    """Every unit's plan, loaded in two queries, for pages that ask about many units at once."""

    def __init__(self) -> None:
        self.units = {u.id: u for u in db.session.scalars(select(Unit))}
        calendars = db.session.scalars(select(DutyCalendar).options(selectinload(DutyCalendar.crews)))
        self._own = {c.unit_id: _plan_of(c) for c in calendars}

    def for_unit(self, unit_id: int) -> UnitDuty:
        unit = self.units[unit_id]
        current: Unit | None = unit
        seen: set[int] = set()
        while current is not None and current.id not in seen:
            seen.add(current.id)
            if current.id in self._own:
                return UnitDuty(unit, self._own[current.id], current)
            current = self.units.get(current.parent_id) if current.parent_id else None
        return UnitDuty(unit, None, None)

    def group_of(self, staff: Staff) -> str | None:
        plan = self.for_unit(staff.unit_id).plan
        return plan.group_of(staff.crew) if plan else None


def unit_duty(unit: Unit) -> UnitDuty:
    """The unit's own calendar or the nearest parent's."""
    current: Unit | None = unit
    seen: set[int] = set()
    while current is not None and current.id not in seen:
        seen.add(current.id)
        calendar = own_calendar(current)
        if calendar is not None:
            return UnitDuty(unit, _plan_of(calendar), current)
        current = current.parent
    return UnitDuty(unit, None, None)


def own_calendar(unit: Unit) -> DutyCalendar | None:
    return db.session.scalar(
        select(DutyCalendar).options(selectinload(DutyCalendar.crews)).where(DutyCalendar.unit_id == unit.id))


def crew_on_duty(unit: Unit, at: datetime) -> str | None:
    """The name of the crew of the unit on duty at an instant; None for day work or no calendar."""
    plan = unit_duty(unit).plan
    crew = plan.crew_on_duty(at) if plan else None
    return crew.name if crew else None


def staff_group(staff: Staff) -> tuple[DutyPlan | None, str | None]:
    """The staff member's plan and duty group (a crew name or DAY_CREW; None when not known)."""
    plan = unit_duty(staff.unit).plan
    return plan, (plan.group_of(staff.crew) if plan else None)


def staff_state(staff: Staff, day: date) -> str | None:
    """ON_DUTY, OFF_DUTY or REST for the staff member on a date; None when their crew is unknown."""
    plan, group = staff_group(staff)
    return plan.state(group, day) if plan and group else None


def station_venue_ids(unit_id: int, venues_by_unit: dict[int, list[int]], units: dict[int, Unit]) -> list[int]:
    """The venues of a group's own station: the unit's own, else those of the nearest parent with one.

    A branch office (出張所) has no desk of its own, so its staff's station is their
    station's; a station with its own hall is not "at" the headquarters above it.
    """
    current, seen = units.get(unit_id), set()
    while current is not None and current.id not in seen:
        seen.add(current.id)
        if venues_by_unit.get(current.id):
            return venues_by_unit[current.id]
        current = units.get(current.parent_id) if current.parent_id else None
    return []


# --- editing --------------------------------------------------------------------------


def save_calendar(actor: Actor, unit: Unit, *, system: str, shift_start: time | None,
                  crews: list[tuple[str, date | None]]) -> DutyCalendar:
    """Give a unit its own duty calendar (replacing the crews it had)."""
    require_role(actor, "admin")
    calendar = store_plan(unit, check_plan(system, shift_start, crews))
    audit.record("unit.duty_calendar", actor=actor, target_type="unit", target_id=unit.id, code=unit.code,
                 system=calendar.system, shift_start=calendar.shift_start.strftime("%H:%M"),
                 crews=[[c.name, c.anchor_date.isoformat()] for c in calendar.crews])
    return calendar


def store_plan(unit: Unit, plan: DutyPlan) -> DutyCalendar:
    """Write a checked plan as the unit's own calendar (the demo and save_calendar)."""
    calendar = own_calendar(unit)
    if calendar is None:
        calendar = DutyCalendar(unit=unit, system=plan.system)
        db.session.add(calendar)
    calendar.system = plan.system
    calendar.shift_start = plan.shift_start
    # Old crews go first (in their own flush) so that a kept name never meets the unique index twice.
    calendar.crews = []
    db.session.flush()
    calendar.crews = [DutyCrew(name=c.name, anchor_date=c.anchor, position=i) for i, c in enumerate(plan.crews)]
    db.session.flush()
    return calendar


def clear_calendar(actor: Actor, unit: Unit) -> bool:
    """Let the unit follow its parent's calendar again; False (and no event) when it had none of its own."""
    require_role(actor, "admin")
    calendar = own_calendar(unit)
    if calendar is None:
        return False
    db.session.delete(calendar)
    db.session.flush()
    audit.record("unit.duty_calendar", actor=actor, target_type="unit", target_id=unit.id, code=unit.code,
                 system="inherit")
    return True


def week_preview(plan: DutyPlan, first: date, days: int = 14) -> list[dict]:
    """Who is on duty on each of the next days, for the editor to show before and after saving."""
    rows = []
    for n in range(days):
        day = first + timedelta(days=n)
        crew = plan.crew_starting(day) if plan.crews else None
        rows.append({
            "day": day,
            "crew": crew.name if crew else None,
            "day_work": is_working_day(day),
            "holiday": public_holiday(day) or (_l("Year-end closure") if is_year_end_closure(day) else None),
        })
    return rows


# --- the booker's view ----------------------------------------------------------------

#: How a session sits in a booker's duty, best first for each kind of worker.
DUTY_HERE = "duty_here"            # shift crew on duty, desk at their own station (当務日・自署)
WORK_HERE = "work_here"            # day worker in working hours, desk at their own unit
OFF_DAY = "off_duty"               # the day their shift ended (非番)
REST_DAY = "rest"                  # rest day: 週休, or a day worker's weekend / holiday
WORKING_DAY = "working_day"        # day worker, a working day, desk elsewhere or after hours
DUTY_ELSEWHERE = "duty_elsewhere"  # shift crew on duty at their station while the desk is elsewhere


@dataclass(frozen=True)
class Placement:
    kind: str | None
    rank: int
    #: The session overlaps the booker's duty hours (a booking then may need the chief's approval).
    in_duty_hours: bool = False


UNKNOWN = Placement(None, 1)


@dataclass
class BookerFit:
    """A booker's plan, duty group and station venues, to place each session of a list."""

    plan: DutyPlan | None
    group: str | None
    station: frozenset[int]

    def place(self, session: DeskSession) -> Placement:
        if self.plan is None or self.group is None:
            return UNKNOWN
        try:
            return self._place(session)
        except OverflowError:
            # A date at the end of the calendar: no duty can be worked out for it, and the
            # rest of the booker's list must still show (issue 16).
            return UNKNOWN

    def _place(self, session: DeskSession) -> Placement:
        assert self.plan is not None and self.group is not None
        from .slots import session_bounds

        start, end = session_bounds(session.date, session.start_time, session.end_time)
        on_duty = self.plan.on_duty_during(self.group, start, end)
        here = session.venue_id in self.station
        if self.group == DAY_CREW:
            # Day workers: their own unit in working hours, then any other working day, then days off.
            if on_duty and here:
                return Placement(WORK_HERE, 0, True)
            if is_working_day(session.date):
                return Placement(WORKING_DAY, 1, on_duty)
            return Placement(REST_DAY, 2)
        if on_duty:
            return Placement(DUTY_HERE, 0, True) if here else Placement(DUTY_ELSEWHERE, 2, True)
        state = self.plan.state(self.group, self.plan.shift_day(start))
        return Placement(OFF_DAY if state == OFF_DUTY else REST_DAY, 1)


def booker_fit(staff: Staff) -> BookerFit:
    """Everything needed to place a booker's sessions, in two or three small queries."""
    from ..models import Venue

    plan, group = staff_group(staff)
    if plan is None or group is None:
        return BookerFit(plan, group, frozenset())
    chain: list[Unit] = []
    current: Unit | None = staff.unit
    while current is not None and current.id not in {u.id for u in chain}:
        chain.append(current)
        current = current.parent
    rows = db.session.execute(select(Venue.id, Venue.unit_id).where(Venue.unit_id.in_([u.id for u in chain])))
    by_unit: dict[int, list[int]] = {}
    for venue_id, unit_id in rows:
        if unit_id is not None:
            by_unit.setdefault(unit_id, []).append(venue_id)
    units = {u.id: u for u in chain}
    return BookerFit(plan, group, frozenset(station_venue_ids(staff.unit_id, by_unit, units)))
