"""What chiefs and HQ read: rosters, unit status as of a day, trends, fill and the report upward.

Every function takes the units the caller may see (``unit_ids``, None for all),
so a chief's rows stop at the boundary of their units in the query itself.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Exists, Select, case, exists, func, select
from sqlalchemy.orm import aliased, joinedload

from ..extensions import db
from ..formatting import clock
from ..models import (
    ACTIVE_STATUSES,
    Campaign,
    CheckIn,
    Dependent,
    DeskSession,
    Photo,
    Reservation,
    ReservationPerson,
    Slot,
    Staff,
    StatusSnapshot,
    Unit,
    Venue,
)
from . import card_status, municipalities

# --- rates ----------------------------------------------------------------------------------


def percent(part: int, whole: int) -> Decimal:
    """A percentage with one decimal, rounded half up (66.67 → 66.7); 0.0 when there is nobody."""
    if not whole:
        return Decimal("0.0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class UnitStatus:
    """One unit's counts as of a day. "applied" counts everyone who has applied, holders included."""

    unit_id: int | None
    unit_code: str
    unit: str
    staff: int = 0
    staff_applied: int = 0
    staff_received: int = 0
    dependents: int = 0
    dependents_applied: int = 0
    dependents_received: int = 0
    depth: int = 0

    def add(self, other: UnitStatus) -> None:
        for name in COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def people(self) -> int:
        return self.staff + self.dependents

    @property
    def staff_application_rate(self) -> Decimal:
        return percent(self.staff_applied, self.staff)

    @property
    def staff_acquisition_rate(self) -> Decimal:
        return percent(self.staff_received, self.staff)

    @property
    def dependents_application_rate(self) -> Decimal:
        return percent(self.dependents_applied, self.dependents)

    @property
    def dependents_acquisition_rate(self) -> Decimal:
        return percent(self.dependents_received, self.dependents)

    @property
    def application_rate(self) -> Decimal:
        """Staff and dependents together (職員等), as the survey counts them."""
        return percent(self.staff_applied + self.dependents_applied, self.people)

    @property
    def acquisition_rate(self) -> Decimal:
        return percent(self.staff_received + self.dependents_received, self.people)


COUNT_FIELDS = ("staff", "staff_applied", "staff_received", "dependents", "dependents_applied",
                "dependents_received")


def units_in_order(unit_ids: set[int] | None = None) -> list[tuple[Unit, int]]:
    """Units as a tree walk (HQ, then each station and its branch offices) with their depth."""
    units = list(db.session.scalars(select(Unit).order_by(Unit.code)))
    children: dict[int | None, list[Unit]] = {}
    known = {u.id for u in units}
    for unit in units:
        parent = unit.parent_id if unit.parent_id in known else None
        children.setdefault(parent, []).append(unit)
    ordered: list[tuple[Unit, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in children.get(parent, []):
            if unit_ids is None or unit.id in unit_ids:
                ordered.append((unit, depth))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return ordered


def unit_status(as_of: date, unit_ids: set[int] | None = None, *,
                rows: list | None = None) -> list[UnitStatus]:
    """One row per unit (tree order) with its own staff and dependents' counts as of the day."""
    rows = card_status.all_timelines(unit_ids) if rows is None else rows
    counts = card_status.count_by_unit(rows, as_of)
    result = []
    for unit, depth in units_in_order(unit_ids):
        status = UnitStatus(unit.id, unit.code, unit.name, depth=depth, **counts.get(unit.id, {}))
        result.append(status)
    return result


def total(statuses: list[UnitStatus], label: str = "") -> UnitStatus:
    summed = UnitStatus(None, "", label)
    for status in statuses:
        summed.add(status)
    return summed


def ranking(statuses: list[UnitStatus]) -> list[tuple[int, UnitStatus]]:
    """Units with people, best application rate first (then acquisition), with shared ranks for ties."""
    ranked = sorted(
        (s for s in statuses if s.people),
        key=lambda s: (-s.application_rate, -s.acquisition_rate, s.unit_code),
    )
    result, previous, rank = [], None, 0
    for index, status in enumerate(ranked, start=1):
        key = (status.application_rate, status.acquisition_rate)
        if key != previous:
            rank, previous = index, key
        result.append((rank, status))
    return result


# --- month by month -------------------------------------------------------------------------


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class MonthPoint:
    month: date
    as_of: date
    is_snapshot: bool
    units: dict[int, UnitStatus] = field(default_factory=dict)

    def total(self, unit_ids: set[int] | None = None) -> UnitStatus:
        return total([s for uid, s in self.units.items() if unit_ids is None or uid in unit_ids])


def monthly(today: date, *, months: int = 12, unit_ids: set[int] | None = None) -> list[MonthPoint]:
    """Month by month up to this month: the frozen snapshot where one was taken, else computed now.

    Starts at the month the system first knew anything (no flat line before the
    staff list was imported), at most ``months`` back.
    """
    first_day = card_status.earliest_known_day() or today
    start = max(add_months(today.replace(day=1), -(months - 1)), first_day.replace(day=1))
    snapshots: dict[date, dict[int, StatusSnapshot]] = {}
    for snap in db.session.scalars(select(StatusSnapshot).where(StatusSnapshot.month >= start)):
        snapshots.setdefault(snap.month, {})[snap.unit_id] = snap
    rows = None
    names = {u.id: u for u, _depth in units_in_order(unit_ids)}
    points = []
    month = start
    while month <= today.replace(day=1):
        as_of = min(month_end(month), today)
        if month in snapshots:
            frozen = snapshots[month]
            point = MonthPoint(month, next(iter(frozen.values())).as_of, True)
            for unit_id, snap in frozen.items():
                if unit_id in names:
                    point.units[unit_id] = UnitStatus(
                        unit_id, names[unit_id].code, names[unit_id].name,
                        **{name: getattr(snap, name) for name in COUNT_FIELDS})
        else:
            if rows is None:
                rows = card_status.all_timelines(unit_ids)
            point = MonthPoint(month, as_of, False)
            point.units = {s.unit_id: s for s in unit_status(as_of, unit_ids, rows=rows) if s.unit_id is not None}
        points.append(point)
        month = add_months(month, 1)
    return points


# --- rosters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterRow:
    session_id: int
    starts_at: datetime
    code: str
    staff_number: str
    name: str
    kana: str
    unit: str
    unit_code: str
    crew: str
    kind: str  # "staff" or "dependent"
    relation: str
    status: str
    #: The municipality (name) the person is registered in when the campaign's desks cannot
    #: verify its residents for mailing: the card is collected at that town's counter, and the
    #: chief tells them before the day. "" otherwise.
    counter_town: str = ""
    #: What the desk has recorded for this person: printed as ticked boxes on the roster.
    checked_in: bool = False
    photographed: bool = False
    application_submitted: bool = False

    @property
    def time(self) -> str:
        return clock(self.starts_at)


def roster_rows(session_ids: list[int], unit_ids: set[int] | None = None) -> list[RosterRow]:
    """One row per person booked (not cancelled) in the sessions, in time order.

    A chief (``unit_ids``) gets only the rows of staff in their units and of
    those staff's dependents, whoever else booked the same session.
    """
    if not session_ids:
        return []
    owner = aliased(Staff)
    # Columns, not whole records: six ORM objects per row made a 500-person roster slow.
    query = (
        select(
            Slot.desk_session_id, Slot.starts_at, Reservation.code, Reservation.status, ReservationPerson.kind,
            owner.staff_number, owner.family_name, owner.given_name, owner.family_name_kana,
            owner.given_name_kana, owner.crew, Unit.name, Unit.code, Dependent.id, Dependent.family_name,
            Dependent.given_name, Dependent.family_name_kana, Dependent.given_name_kana, Dependent.relation,
            owner.municipality_code, Dependent.municipality_code,
            CheckIn.id, CheckIn.is_application_submitted,
            select(Photo.id).where(Photo.check_in_id == CheckIn.id).exists(),
        )
        .join(Reservation, ReservationPerson.reservation_id == Reservation.id)
        # Each person's own time: a family larger than a time's free seats continues in the next.
        .join(Slot, ReservationPerson.slot_id == Slot.id)
        .join(owner, Reservation.staff_id == owner.id)
        .join(Unit, owner.unit_id == Unit.id)
        .outerjoin(Dependent, ReservationPerson.dependent_id == Dependent.id)
        .outerjoin(CheckIn, CheckIn.reservation_person_id == ReservationPerson.id)
        .where(Slot.desk_session_id.in_(session_ids), Reservation.status != "cancelled")
        .order_by(Slot.starts_at, Reservation.id,
                  case((ReservationPerson.kind == "staff", 0), else_=1), ReservationPerson.id)
    )
    if unit_ids is not None:
        query = query.where(owner.unit_id.in_(unit_ids))
    rows = []
    towns = municipalities.names_by_code()
    verified = {s.id: municipalities.verifying(s.campaign) for s in db.session.scalars(
        select(DeskSession).options(joinedload(DeskSession.campaign)).where(DeskSession.id.in_(session_ids)))}
    for (session_id, starts_at, code, status, kind, staff_number, family, given, family_kana, given_kana, crew,
         unit_name, unit_code, dependent_id, d_family, d_given, d_family_kana, d_given_kana,
         relation, staff_town, dependent_town, check_in_id, submitted, photographed) in db.session.execute(query):
        # A dependent without a town of their own lives with the staff member (registered_in).
        town = dependent_town or staff_town if dependent_id is not None else staff_town
        codes = verified.get(session_id, set())
        counter_town = towns.get(town, town) if town and codes and town not in codes else ""
        # Names as Staff.name / Dependent.name and .kana write them.
        if dependent_id is not None:
            name, kana = f"{d_family} {d_given}", f"{d_family_kana} {d_given_kana}"
        else:
            name, kana = f"{family} {given}", f"{family_kana} {given_kana}"
        rows.append(RosterRow(
            session_id=session_id,
            starts_at=starts_at,
            code=code,
            staff_number=staff_number,
            name=name,
            kana=kana,
            unit=unit_name,
            unit_code=unit_code,
            crew=crew,
            kind=kind,
            relation=relation if dependent_id is not None else "",
            status=status,
            counter_town=counter_town or "",
            checked_in=check_in_id is not None,
            photographed=bool(photographed),
            application_submitted=bool(submitted),
        ))
    return rows


def sessions_for_day(venue_id: int, day: date) -> list[DeskSession]:
    return list(db.session.scalars(
        select(DeskSession)
        .options(joinedload(DeskSession.campaign), joinedload(DeskSession.venue))
        .where(DeskSession.venue_id == venue_id, DeskSession.date == day, DeskSession.is_cancelled.is_(False))
        .order_by(DeskSession.start_time)
    ).unique())


@dataclass
class SessionLine:
    session: DeskSession
    capacity: int
    taken: int
    people: int  # of the caller's units
    no_shows: int
    checked_in: int
    is_my_venue: bool

    @property
    def fill(self) -> Decimal:
        return percent(self.taken, self.capacity)


def session_lines(unit_ids: set[int] | None = None, *, since: date | None = None,
                  campaign_id: int | None = None) -> list[SessionLine]:
    """Sessions with their fill, and the people of the caller's units booked, no-shows and arrivals."""
    query = (
        select(DeskSession)
        .options(joinedload(DeskSession.campaign), joinedload(DeskSession.venue))
        .where(DeskSession.is_cancelled.is_(False))
        .order_by(DeskSession.date, DeskSession.start_time, DeskSession.id)
    )
    if since is not None:
        query = query.where(DeskSession.date >= since)
    if campaign_id is not None:
        query = query.where(DeskSession.campaign_id == campaign_id)
    sessions = list(db.session.scalars(query).unique())
    ids = [s.id for s in sessions]
    if not ids:
        return []
    fill = {
        sid: (cap, taken) for sid, cap, taken in db.session.execute(
            select(Slot.desk_session_id, func.sum(Slot.capacity), func.sum(Slot.seats_taken))
            .where(Slot.desk_session_id.in_(ids)).group_by(Slot.desk_session_id))
    }
    people_q = (
        select(Slot.desk_session_id, Reservation.status, func.sum(Reservation.seats))
        .join(Reservation, Reservation.slot_id == Slot.id)
        .join(Staff, Reservation.staff_id == Staff.id)
        .where(Slot.desk_session_id.in_(ids), Reservation.status != "cancelled")
        .group_by(Slot.desk_session_id, Reservation.status)
    )
    if unit_ids is not None:
        people_q = people_q.where(Staff.unit_id.in_(unit_ids))
    by_status: dict[int, dict[str, int]] = {}
    for sid, status, seats in db.session.execute(people_q):
        by_status.setdefault(sid, {})[status] = int(seats or 0)
    from .retention import (
        session_tallies,  # purged or erased bookings still count, as numbers
    )

    for sid, counts in session_tallies(ids, unit_ids).items():
        for status, seats in counts.items():
            by_status.setdefault(sid, {})[status] = by_status.get(sid, {}).get(status, 0) + seats
    lines = []
    for session in sessions:
        cap, taken = fill.get(session.id, (0, 0))
        counts = by_status.get(session.id, {})
        lines.append(SessionLine(
            session=session,
            capacity=int(cap or 0),
            taken=int(taken or 0),
            people=sum(counts.values()),
            no_shows=counts.get("no_show", 0),
            checked_in=counts.get("checked_in", 0),
            is_my_venue=unit_ids is None or (session.venue.unit_id in unit_ids),
        ))
    return lines


# --- the chief's unit page ------------------------------------------------------------------

UNIT_FILTERS = ("all", "no_card", "no_card_no_reservation", "no_show", "no_reason")


@dataclass
class StaffLine:
    staff: Staff
    reservation: Reservation | None
    no_show_on: date | None
    reason: object | None
    dependents: list[Dependent]


def _active_reservation_exists() -> Exists:
    return exists().where(Reservation.staff_id == Staff.id, Reservation.status.in_(ACTIVE_STATUSES))


def staff_query(unit_ids: set[int] | None, filter_name: str = "all") -> Select[Staff]:
    """Staff of the units, filtered as the chief asked; the query, for paging and for slips."""
    from ..models import NonApplicationReason

    query = select(Staff).join(Unit, Staff.unit_id == Unit.id)
    if unit_ids is not None:
        query = query.where(Staff.unit_id.in_(unit_ids))
    if filter_name in ("no_card", "no_card_no_reservation", "no_reason"):
        query = query.where(Staff.card_status == "none")
    if filter_name == "no_card_no_reservation":
        query = query.where(~_active_reservation_exists())
    if filter_name == "no_reason":
        query = query.where(~exists().where(NonApplicationReason.staff_id == Staff.id))
    if filter_name == "no_show":
        query = query.where(
            exists().where(Reservation.staff_id == Staff.id, Reservation.status == "no_show"),
            ~_active_reservation_exists(),
        )
    return query.order_by(Unit.code, Staff.crew, Staff.family_name_kana, Staff.given_name_kana, Staff.id)


def count_staff(query: Select[Staff]) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def staff_lines(staff: list[Staff]) -> list[StaffLine]:
    """Each staff member with their next (or latest) active booking, last no-show and reason."""
    ids = [s.id for s in staff]
    if not ids:
        return []
    bookings: dict[int, Reservation] = {}
    no_shows: dict[int, date] = {}
    reservations = db.session.scalars(
        select(Reservation)
        .join(Slot, Reservation.slot_id == Slot.id)
        .options(joinedload(Reservation.slot).joinedload(Slot.desk_session).joinedload(DeskSession.venue))
        .where(Reservation.staff_id.in_(ids), Reservation.status.in_((*ACTIVE_STATUSES, "no_show")))
        .order_by(Slot.starts_at)
    ).unique()
    for reservation in reservations:
        if reservation.status == "no_show":
            no_shows[reservation.staff_id] = reservation.slot.desk_session.date
        else:
            bookings.setdefault(reservation.staff_id, reservation)
    reasons = card_status.reasons_for(ids)
    dependents: dict[int, list[Dependent]] = {}
    for dependent in db.session.scalars(select(Dependent).where(Dependent.staff_id.in_(ids)).order_by(Dependent.id)):
        dependents.setdefault(dependent.staff_id, []).append(dependent)
    return [
        StaffLine(s, bookings.get(s.id), no_shows.get(s.id), reasons.get(s.id), dependents.get(s.id, []))
        for s in staff
    ]


# --- invitation slips -----------------------------------------------------------------------


def station_unit_ids(unit: Unit) -> list[int]:
    """A unit and its parents: a branch office's staff go to their station's venue."""
    ids: list[int] = []
    current: Unit | None = unit
    seen: set[int] = set()
    while current is not None and current.id not in seen:
        seen.add(current.id)
        ids.append(current.id)
        current = current.parent
    return ids


def upcoming_sessions_by_unit(today: date) -> dict[int, list[DeskSession]]:
    """Published, bookable sessions from today on, by the unit whose building hosts the venue."""
    sessions = db.session.scalars(
        select(DeskSession)
        .join(Campaign, DeskSession.campaign_id == Campaign.id)
        .join(Venue, DeskSession.venue_id == Venue.id)
        .options(joinedload(DeskSession.venue), joinedload(DeskSession.campaign))
        .where(Campaign.is_published.is_(True), DeskSession.is_cancelled.is_(False),
               DeskSession.date >= today, Venue.unit_id.is_not(None))
        .order_by(DeskSession.date, DeskSession.start_time)
    ).unique()
    result: dict[int, list[DeskSession]] = {}
    for session in sessions:
        if session.venue.unit_id is not None:  # a venue in no unit's building is no station's
            result.setdefault(session.venue.unit_id, []).append(session)
    return result


def sessions_at_station(unit: Unit, by_unit: dict[int, list[DeskSession]]) -> list[DeskSession]:
    for unit_id in station_unit_ids(unit):
        if by_unit.get(unit_id):
            return by_unit[unit_id]
    return []


# --- the report upward ----------------------------------------------------------------------


def default_report_dates(today: date) -> list[date]:
    """The coming surveys (as of 31 December and 31 March), never past ones: the report is
    prepared towards them. From April to December that is the fiscal year's two, in December
    2026 [2026-12-31, 2027-03-31]; from January to March the March one, [2027-03-31]. A survey
    date is still coming on the day itself."""
    if today.month <= 3:
        return [date(today.year, 3, 31)]
    return [date(today.year, 12, 31), date(today.year + 1, 3, 31)]


def department_name() -> str:
    """The fire HQ's name for the report: the root unit's name (the unit without a parent)."""
    root = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    return root.name if root else ""


__all__ = [
    "UNIT_FILTERS", "MonthPoint", "RosterRow", "SessionLine", "StaffLine", "UnitStatus", "add_months",
    "count_staff", "default_report_dates", "department_name", "month_end", "monthly", "percent", "ranking",
    "roster_rows", "session_lines", "sessions_at_station", "sessions_for_day", "staff_lines", "staff_query",
    "total", "unit_status", "units_in_order", "upcoming_sessions_by_unit",
]
