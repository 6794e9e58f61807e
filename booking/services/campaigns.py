"""Campaigns and sessions as the My Number section edits them.

The rule that shapes this module: changing a session that people have booked
never strands anyone silently. An edit that would leave a reservation without
its time (shorter hours, another slot length, another date), without its
seat (fewer desks) or at another place (another venue) is refused with the
list of those reservations, unless the admin says explicitly to move them to
the nearest free time or to cancel them; either way the caller gets the list
of people to contact. Cancelling a session cancels its reservations and gives
the same list.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Literal

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..localtime import TOKYO, in_our_years, utcnow, year_range_message
from ..models import (
    ACTIVE_STATUSES,
    AuditEvent,
    Campaign,
    DeskSession,
    Municipality,
    Reservation,
    ReservationPerson,
    Slot,
    Staff,
    Unit,
    Venue,
    WaitlistEntry,
)
from . import approvals, audit, capacity, directory, municipalities, outbox, seating, tokens, waitlist
from . import reservations as reservation_service
from . import slots as slot_service
from .accounts import require_role
from .actor import Actor
from .database import begin_write
from .errors import DomainError, NotFound, invalid
from .guard import refuse_individual_numbers

RESOLUTIONS = ("move", "cancel")


class Keep(Enum):
    """A setting left out of a change, where None has a meaning of its own."""
    KEEP = "keep"


MAX_COPIES = 31
#: Booking closes at most this long before a slot (7 days).
MAX_CUTOFF_MINUTES = 7 * 24 * 60
#: The longest wait after a slot's end before its bookings may be marked as no-shows (one day).
MAX_NO_SHOW_GRACE_MINUTES = 24 * 60
#: A phone number as people write it: digits, spaces, hyphens, brackets, a leading +, an extension.
PHONE_PATTERN = re.compile(r"^\+?[0-9０-９ ()（）\-－ー‐内線ext.]{3,30}$")


def _mailing_municipalities(codes: list[str]) -> list[Municipality]:
    """The listed municipalities of typed codes, refused whole for one unknown or invalid code."""
    found = (municipalities.get(code, field="mailing_municipality_codes") for code in dict.fromkeys(codes))
    return sorted({m.code: m for m in found if m is not None}.values(), key=lambda m: m.code)


# --- campaigns --------------------------------------------------------------------------


def get_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_l("No such campaign."))
    return campaign


def _campaign_values(title: str, booking_opens_at: datetime, booking_closes_at: datetime, published: bool,
                    what_to_bring: str, cutoff_minutes: int, contact_phone: str,
                    no_show_grace_minutes: int) -> dict[str, object]:
    title = (title or "").strip()
    contact_phone = (contact_phone or "").strip()
    refuse_individual_numbers({"title": title, "what_to_bring": what_to_bring, "contact_phone": contact_phone})
    if not title:
        raise invalid(title=_l("Give the campaign a title."))
    for name, value in (("booking_opens_at", booking_opens_at), ("booking_closes_at", booking_closes_at)):
        if not in_our_years(value):
            raise invalid(**{name: year_range_message()})
    if booking_closes_at <= booking_opens_at:
        raise invalid(booking_closes_at=_l("Booking must close after it opens."))
    if not 0 <= cutoff_minutes <= MAX_CUTOFF_MINUTES:
        raise invalid(cutoff_minutes=_l("Use 0 to %(max)s minutes (7 days).", max=MAX_CUTOFF_MINUTES))
    if not 0 <= no_show_grace_minutes <= MAX_NO_SHOW_GRACE_MINUTES:
        raise invalid(no_show_grace_minutes=_l("Use 0 to %(max)s minutes (one day).", max=MAX_NO_SHOW_GRACE_MINUTES))
    if contact_phone and (not PHONE_PATTERN.match(contact_phone) or sum(c.isdigit() for c in contact_phone) < 3):
        raise invalid(contact_phone=_l("Write a phone number, for example 024-535-1111 (ext. 1234)."))
    return {
        "title": title,
        "booking_opens_at": booking_opens_at,
        "booking_closes_at": booking_closes_at,
        "is_published": bool(published),
        "what_to_bring": what_to_bring or "",
        "cutoff_minutes": cutoff_minutes,
        "contact_phone": contact_phone,
        "no_show_grace_minutes": no_show_grace_minutes,
    }


def _target_units(ids: list[int] | None, codes: list[str] | None) -> list[Unit]:
    """The units named by id (pages) or by code (API); either list refused whole for one unknown unit."""
    if codes:
        units = []
        for code in codes:
            unit = directory.unit_by_code(code)
            if unit is None:
                raise invalid(target_unit_codes=_l("No unit has the code %(code)s.", code=code))
            units.append(unit)
        return sorted(set(units), key=lambda u: u.code)
    wanted = set(ids or [])
    units = list(db.session.scalars(select(Unit).where(Unit.id.in_(wanted)).order_by(Unit.code)))
    if len(units) != len(wanted):
        raise invalid(target_unit_ids=_l("No such unit."))
    return units


def create_campaign(actor: Actor, *, title: str, booking_opens_at: datetime, booking_closes_at: datetime,
                    published: bool = False, what_to_bring: str = "", cutoff_minutes: int = 60,
                    contact_phone: str = "", no_show_grace_minutes: int = 30,
                    target_unit_ids: list[int] | None = None,
                    target_unit_codes: list[str] | None = None, allows_single_photo_id_with_pin: bool = False,
                    mailing_municipality_codes: list[str] | None = None,
                    reminder_minutes_before: int | None = None, waitlist_offer_minutes: int = 120,
                    desk_offline_keep_minutes: int | None = None) -> Campaign:
    """A new campaign; no target units means every unit's staff may book; no mailing
    municipalities means its desks verify the home municipality's residents. ``reminder_minutes_before``:
    when the reminder mail goes out before each booking (None: the day before at noon);
    ``desk_offline_keep_minutes``: how long a desk tablet keeps its offline roster (None: the
    DESK_OFFLINE_KEEP_MINUTES setting)."""
    require_role(actor, "admin")
    values = _campaign_values(title, booking_opens_at, booking_closes_at, published, what_to_bring,
                              cutoff_minutes, contact_phone, no_show_grace_minutes)
    _check_reminder(reminder_minutes_before)
    _check_offer_minutes(waitlist_offer_minutes)
    _check_offline_keep(desk_offline_keep_minutes)
    campaign = Campaign(waitlist_offer_minutes=waitlist_offer_minutes,
                        desk_offline_keep_minutes=desk_offline_keep_minutes, target_units=_target_units(target_unit_ids, target_unit_codes),
                        allows_single_photo_id_with_pin=bool(allows_single_photo_id_with_pin),
                        mailing_municipalities=_mailing_municipalities(mailing_municipality_codes or []),
                        reminder_minutes_before=reminder_minutes_before, **values)
    db.session.add(campaign)
    db.session.flush()
    audit.record("campaign.create", actor=actor, target_type="campaign", target_id=campaign.id,
                 changed=["created"])
    return campaign


def update_campaign(actor: Actor, campaign: Campaign, *, title: str, booking_opens_at: datetime,
                    booking_closes_at: datetime, published: bool, what_to_bring: str, cutoff_minutes: int,
                    target_unit_ids: list[int], allows_single_photo_id_with_pin: bool | None = None,
                    mailing_municipality_codes: list[str] | None = None, contact_phone: str | None = None,
                    no_show_grace_minutes: int | None = None, waitlist_offer_minutes: int | None = None,
                    reminder_minutes_before: int | None | Literal[Keep.KEEP] = Keep.KEEP,
                    desk_offline_keep_minutes: int | None | Literal[Keep.KEEP] = Keep.KEEP) -> list[str]:
    """Change a campaign; returns the fields that changed (audited only when some did). The
    application settings, ``contact_phone``, ``no_show_grace_minutes`` and ``waitlist_offer_minutes``
    are kept when not given (None), the reminder and ``desk_offline_keep_minutes`` when not given
    (``Keep.KEEP``: None there means the day before at noon, and the app setting)."""
    require_role(actor, "admin")
    values = _campaign_values(
        title, booking_opens_at, booking_closes_at, published, what_to_bring, cutoff_minutes,
        campaign.contact_phone if contact_phone is None else contact_phone,
        campaign.no_show_grace_minutes if no_show_grace_minutes is None else no_show_grace_minutes)
    targets = _target_units(target_unit_ids, None)
    changed = [name for name, value in values.items() if getattr(campaign, name) != value]
    for name in changed:
        setattr(campaign, name, values[name])
    if {u.id for u in campaign.target_units} != {u.id for u in targets}:
        campaign.target_units = targets
        changed.append("target_units")
    if (allows_single_photo_id_with_pin is not None
            and campaign.allows_single_photo_id_with_pin != bool(allows_single_photo_id_with_pin)):
        campaign.allows_single_photo_id_with_pin = bool(allows_single_photo_id_with_pin)
        changed.append("allows_single_photo_id_with_pin")
    if waitlist_offer_minutes is not None and waitlist_offer_minutes != campaign.waitlist_offer_minutes:
        _check_offer_minutes(waitlist_offer_minutes)
        campaign.waitlist_offer_minutes = waitlist_offer_minutes
        changed.append("waitlist_offer_minutes")
    if mailing_municipality_codes is not None:
        mailing = _mailing_municipalities(mailing_municipality_codes)
        if [m.code for m in campaign.mailing_municipalities] != [m.code for m in mailing]:
            campaign.mailing_municipalities = mailing
            changed.append("mailing_municipalities")
    if reminder_minutes_before is not Keep.KEEP and campaign.reminder_minutes_before != reminder_minutes_before:
        _check_reminder(reminder_minutes_before)
        campaign.reminder_minutes_before = reminder_minutes_before
        changed.append("reminder_minutes_before")
    if (desk_offline_keep_minutes is not Keep.KEEP
            and campaign.desk_offline_keep_minutes != desk_offline_keep_minutes):
        _check_offline_keep(desk_offline_keep_minutes)
        campaign.desk_offline_keep_minutes = desk_offline_keep_minutes
        changed.append("desk_offline_keep_minutes")
    db.session.flush()
    if changed:
        audit.record("campaign.update", actor=actor, target_type="campaign", target_id=campaign.id,
                     changed=changed)
    return changed


MAX_REMINDER_MINUTES = 14 * 24 * 60


def _check_reminder(minutes: int | None) -> None:
    if minutes is not None and not 10 <= minutes <= MAX_REMINDER_MINUTES:
        raise invalid(reminder_minutes_before=_l(
            "Use 10 to %(max)s minutes (14 days), or leave it empty for the day before at noon.",
            max=MAX_REMINDER_MINUTES))


MAX_OFFER_MINUTES = 7 * 24 * 60


def _check_offer_minutes(minutes: int) -> None:
    if not 10 <= (minutes or 0) <= MAX_OFFER_MINUTES:
        raise invalid(waitlist_offer_minutes=_l(
            "Use 10 to %(max)s minutes (7 days).", max=MAX_OFFER_MINUTES))


#: A desk tablet never keeps its roster past the session's day anyway (booking.desk.offline).
MIN_OFFLINE_KEEP_MINUTES, MAX_OFFLINE_KEEP_MINUTES = 10, 24 * 60


def _check_offline_keep(minutes: int | None) -> None:
    if minutes is not None and not MIN_OFFLINE_KEEP_MINUTES <= minutes <= MAX_OFFLINE_KEEP_MINUTES:
        raise invalid(desk_offline_keep_minutes=_l(
            "Use %(min)s to %(max)s minutes (24 hours), or leave it empty for the usual time.",
            min=MIN_OFFLINE_KEEP_MINUTES, max=MAX_OFFLINE_KEEP_MINUTES))


def set_reminder(actor: Actor, campaign: Campaign, minutes_before: int | None) -> bool:
    """When the reminder mail goes out before each booking (None: the day before at noon, Tokyo
    time); True when it changed. Bookings whose reminder has gone out do not get a second one."""
    require_role(actor, "admin")
    _check_reminder(minutes_before)
    if campaign.reminder_minutes_before == minutes_before:
        return False
    campaign.reminder_minutes_before = minutes_before
    db.session.flush()
    audit.record("campaign.update", actor=actor, target_type="campaign", target_id=campaign.id,
                 changed=["reminder_minutes_before"])
    return True


def set_duty_approval(actor: Actor, campaign: Campaign, required: bool) -> bool:
    """Turn the chief's approval of bookings in duty hours on or off; True when it changed.

    Bookings made before the change keep their state: only new bookings and moves are held.
    """
    require_role(actor, "admin")
    if campaign.requires_duty_approval == bool(required):
        return False
    campaign.requires_duty_approval = bool(required)
    db.session.flush()
    audit.record("campaign.update", actor=actor, target_type="campaign", target_id=campaign.id,
                 changed=["requires_duty_approval"], requires_duty_approval=bool(required))
    return True


# --- the slot preview -------------------------------------------------------------------


@dataclass
class SlotPreview:
    """What a session's times, slot length and desks will give."""

    slots: list[slot_service.PlannedSlot]

    @property
    def count(self) -> int:
        return len(self.slots)

    @property
    def capacity(self) -> int:
        return sum(s.capacity for s in self.slots)

    @property
    def desks(self) -> int:
        return self.slots[0].capacity if self.slots else 0

    def as_dict(self) -> dict:
        return {
            "count": self.count,
            "capacity": self.capacity,
            "desks": self.desks,
            "slots": [
                {"starts_at": s.starts_at.astimezone(TOKYO).strftime("%H:%M"),
                 "ends_at": s.ends_at.astimezone(TOKYO).strftime("%H:%M")}
                for s in self.slots
            ],
        }


def preview(day: date, start: time, end: time, slot_minutes: int, desks: int) -> SlotPreview:
    return SlotPreview(slot_service.plan_slots(day, start, end, slot_minutes, desks))


# --- sessions ---------------------------------------------------------------------------


def get_session(session_id: int) -> DeskSession:
    session = db.session.get(DeskSession, session_id)
    if session is None:
        raise NotFound(_l("No such session."))
    return session


@dataclass(frozen=True)
class SessionWarning:
    """Something about a session that is allowed but rarely meant: the office page asks the admin to
    confirm it, the API saves and answers with the list (docs/api.md)."""

    #: "overlap": another session at the same venue runs at the same time (its id in ``session_id``);
    #: "starts_in_past": the session starts before now.
    code: str
    message: str
    session_id: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "session_id": self.session_id}


def session_warnings(*, venue_id: int, day: date, start: time, end: time, now: datetime | None = None,
                     ignore_session_id: int | None = None, past: bool = True) -> list[SessionWarning]:
    """What to confirm before saving a session with these values (``ignore_session_id``: the one edited)."""
    from ..formatting import day_label, when

    now = now or utcnow()
    starts_at, ends_at = slot_service.session_bounds(day, start, end)
    found: list[SessionWarning] = []
    if past and starts_at <= now:
        found.append(SessionWarning("starts_in_past", str(_l(
            "This session starts in the past (%(when)s): staff cannot book it any more. Save it only to "
            "record a desk that has already taken place.", when=when(starts_at, year=True)))))
    # Sessions that end the next morning may overlap one on the day after; look one day each side.
    others = db.session.scalars(
        select(DeskSession)
        .options(joinedload(DeskSession.venue), joinedload(DeskSession.campaign))
        .where(DeskSession.venue_id == venue_id, DeskSession.is_cancelled.is_(False),
               DeskSession.date.between(day - timedelta(days=1), day + timedelta(days=1)),
               DeskSession.id != (ignore_session_id or 0))
        .order_by(DeskSession.date, DeskSession.start_time, DeskSession.id))
    for other in others:
        other_start, other_end = slot_service.session_bounds(other.date, other.start_time, other.end_time)
        if other_start < ends_at and starts_at < other_end:
            found.append(SessionWarning("overlap", str(_l(
                "%(venue)s already has a session at the same time: %(date)s %(start)s–%(end)s (%(campaign)s).",
                venue=other.venue.name, date=day_label(other.date, year=True),
                start=other.start_time.strftime("%H:%M"), end=other.end_time.strftime("%H:%M"),
                campaign=other.campaign.title)), other.id))
    return found


def needs_confirmation(warnings: list[SessionWarning]) -> DomainError:
    return DomainError("needs_confirmation", _l("Check the warnings below and confirm to save the session."),
                       warnings=[w.as_dict() for w in warnings])


@dataclass
class NewSession:
    session: DeskSession
    warnings: list[SessionWarning]


def add_session(actor: Actor, campaign: Campaign, *, venue_id: int, day: date, start: time, end: time,
                slot_minutes: int, desks: int, suggested_for: dict[str, object] | None = None,
                confirmed: bool = True, now: datetime | None = None) -> NewSession:
    """Add a session and its slots to a campaign (``suggested_for``: the coverage gap it closes).

    A session overlapping another at the same venue, or starting in the past, is saved with its
    warnings when ``confirmed`` (the API, and the page once the admin has ticked the box); otherwise
    nothing is written and ``needs_confirmation`` carries the warnings.
    """
    require_role(actor, "admin")
    _check_numbers(slot_minutes, desks)
    slot_service.check_day(day)
    warnings = session_warnings(venue_id=venue_id, day=day, start=start, end=end, now=now)
    if warnings and not confirmed:
        raise needs_confirmation(warnings)
    session = slot_service.create_session(campaign, venue_id, day, start, end, slot_minutes, desks)
    audit.record("session.create", actor=actor, target_type="session", target_id=session.id,
                 campaign_id=campaign.id, date=session.date.isoformat(), slots=len(session.slots),
                 suggested_for=suggested_for, warnings=[w.code for w in warnings] or None)
    return NewSession(session, warnings)


def create_session(actor: Actor, campaign: Campaign, *, venue_id: int, day: date, start: time, end: time,
                   slot_minutes: int, desks: int, suggested_for: dict[str, object] | None = None) -> DeskSession:
    """add_session for callers that have nothing to confirm (the demo, coverage suggestions, scripts)."""
    return add_session(actor, campaign, venue_id=venue_id, day=day, start=start, end=end,
                       slot_minutes=slot_minutes, desks=desks, suggested_for=suggested_for).session


def copy_session(actor: Actor, session: DeskSession, days: list[date]) -> list[DeskSession]:
    """The same venue, hours, slot length and desks on other dates, all in one step (one event)."""
    require_role(actor, "admin")
    wanted = sorted({d for d in days if d})
    if not wanted:
        raise invalid(dates=_l("Give at least one date."))
    if len(wanted) > MAX_COPIES:
        raise invalid(dates=_l("Copy to at most %(n)s dates at once.", n=MAX_COPIES))
    for day in wanted:
        slot_service.check_day(day, "dates")
    taken = set(db.session.scalars(
        select(DeskSession.date).where(
            DeskSession.campaign_id == session.campaign_id,
            DeskSession.venue_id == session.venue_id,
            DeskSession.start_time == session.start_time,
            DeskSession.is_cancelled.is_(False),
            DeskSession.date.in_(wanted),
        )
    ))
    clashes = [d for d in wanted if d in taken or d == session.date]
    if clashes:
        raise invalid(dates=_l(
            "This venue already has this session on %(dates)s.",
            dates=", ".join(d.isoformat() for d in clashes)))
    copies = [
        slot_service.create_session(session.campaign, session.venue_id, d, session.start_time, session.end_time,
                                    session.slot_minutes, session.desks)
        for d in wanted
    ]
    audit.record("session.copy", actor=actor, target_type="session", target_id=session.id,
                 campaign_id=session.campaign_id, copies=[c.id for c in copies],
                 dates=[c.date.isoformat() for c in copies])
    return copies


@dataclass
class Affected:
    """A reservation an edit would push out of its slot, and why."""

    reservation: Reservation
    #: "time": its slot disappears; "desks": its slot shrinks below the people in it;
    #: "venue": the session moves to another venue.
    reason: str


@dataclass
class SessionChange:
    changed: list[str] = field(default_factory=list)
    #: (reservation, old start, new start)
    moved: list[tuple[Reservation, datetime, datetime]] = field(default_factory=list)
    #: (reservation, old start)
    cancelled: list[tuple[Reservation, datetime]] = field(default_factory=list)
    #: The audit event of the change (None when nothing changed): the contact list is built from it.
    event: AuditEvent | None = None

    def audit_details(self) -> dict[str, object]:
        """Numbers only: which reservations went where (the contact list is built from them)."""
        return {
            "changed": self.changed,
            "moved": [{"reservation_id": r.id, "code": r.code, "from": old.isoformat(), "to": new.isoformat()}
                      for r, old, new in self.moved],
            "cancelled": [{"reservation_id": r.id, "code": r.code, "from": old.isoformat()}
                          for r, old in self.cancelled],
        }


def _check_numbers(slot_minutes: int, desks: int) -> None:
    if not 1 <= (slot_minutes or 0) <= 24 * 60:
        raise invalid(slot_minutes=_l("Use 1 to 1440 minutes."))
    if not 1 <= (desks or 0) <= 100:
        raise invalid(desks=_l("Use 1 to 100 desks."))


def _active_in(slot_ids: list[int]) -> list[Reservation]:
    if not slot_ids:
        return []
    return list(db.session.scalars(
        select(Reservation)
        .options(joinedload(Reservation.staff).joinedload(Staff.unit), joinedload(Reservation.slot),
                 selectinload(Reservation.people).joinedload(ReservationPerson.dependent))
        .where(Reservation.id.in_(select(ReservationPerson.reservation_id)
                                  .where(ReservationPerson.slot_id.in_(slot_ids))),
               Reservation.status.in_(ACTIVE_STATUSES))
        .order_by(Reservation.created_at, Reservation.id)
        .with_for_update(of=Reservation)
    ).unique())


def _fresh_slots(session: DeskSession) -> list[Slot]:
    # The counters change under us (bookings go on while the admin edits), so
    # read them afresh, and on PostgreSQL lock them until the edit commits. Slots
    # before reservations and in id order, as reservations.lock_for_change does: the same
    # order everywhere, so an edit and a cancel or move wait for each other
    # instead of deadlocking.
    locked = db.session.scalars(
        select(Slot).where(Slot.desk_session_id == session.id).order_by(Slot.id)
        .with_for_update().execution_options(populate_existing=True)
    )
    return sorted(locked, key=lambda slot: slot.starts_at)


def affected_by(session: DeskSession, *, venue_id: int, day: date, start: time, end: time, slot_minutes: int,
                desks: int) -> list[Affected]:
    """The reservations an edit would push out, without changing anything."""
    planned = {(p.starts_at, p.ends_at) for p in slot_service.plan_slots(day, start, end, slot_minutes, desks)}
    current = _fresh_slots(session)
    active = _active_in([s.id for s in current])
    # Who sits in each slot, per reservation: a party may span several slots.
    by_slot: dict[int, dict[Reservation, int]] = {}
    for r in active:
        for person in r.people:
            here = by_slot.setdefault(person.slot_id, {})
            here[r] = here.get(r, 0) + 1
    affected: list[Affected] = []
    pushed: set[int] = set()

    def push(reservation: Reservation, reason: str) -> None:
        if reservation.id not in pushed:
            pushed.add(reservation.id)
            affected.append(Affected(reservation, reason))

    for slot in current:
        here = by_slot.get(slot.id, {})
        if (slot.starts_at, slot.ends_at) not in planned:
            for r in here:
                push(r, "time")
            continue
        seats = sum(count for r, count in here.items() if r.id not in pushed)
        # The latest bookings give way first: the earliest bookers keep their seats.
        for r, count in reversed(here.items()):
            if seats <= desks:
                break
            if r.id not in pushed:
                push(r, "desks")
                seats -= count
    if venue_id != session.venue_id:
        for r in active:
            push(r, "venue")
    affected.sort(key=lambda a: (a.reservation.slot.starts_at, a.reservation.id))
    return affected


def update_session(actor: Actor, session: DeskSession, *, venue_id: int, day: date, start: time, end: time,
                   slot_minutes: int, desks: int, resolution: str | None = None,
                   now: datetime | None = None, confirmed: bool = True) -> SessionChange:
    """Change a session's venue, date, hours, slot length or desks, keeping every booking accounted for.

    ``resolution`` is None (refuse when anyone is affected, with ``session_conflict``
    listing them), "move" (each affected booking goes to the nearest time with room in
    the new plan; refused with ``no_room`` when one does not fit) or "cancel".
    """
    require_role(actor, "admin")
    now = now or utcnow()
    if resolution not in (None, *RESOLUTIONS):
        raise invalid(resolution=_l("Choose to move or to cancel the affected reservations."))
    if session.is_cancelled:
        raise DomainError("cancelled", _l("This session is cancelled and can no longer be changed."))
    if db.session.get(Venue, venue_id) is None:
        raise invalid(venue_id=_l("No such venue."))
    _check_numbers(slot_minutes, desks)
    slot_service.check_day(day)
    if start == end:
        raise invalid(end_time=_l("The end time must differ from the start time."))
    planned = slot_service.plan_slots(day, start, end, slot_minutes, desks)
    if not planned:
        raise invalid(slot_minutes=_l("Not even one slot of this length fits between the times."))
    starts_at, _ends_at = slot_service.session_bounds(session.date, session.start_time, session.end_time)
    if starts_at <= now:
        raise DomainError("session_started", _l(
            "This session has already started, so its times and desks can no longer be changed."))
    if planned[0].starts_at <= now:
        raise invalid(date=_l("Choose a date and time that are still ahead."))
    moves = (venue_id, day, start, end) != (session.venue_id, session.date, session.start_time, session.end_time)
    if moves and not confirmed:
        warnings = session_warnings(venue_id=venue_id, day=day, start=start, end=end, now=now,
                                    ignore_session_id=session.id, past=False)
        if warnings:
            raise needs_confirmation(warnings)

    begin_write()
    # Seats held by waiting-list offers are given back first (offered again after the change).
    waitlist.recall_offers(session.id, now=now)
    affected = affected_by(session, venue_id=venue_id, day=day, start=start, end=end,
                           slot_minutes=slot_minutes, desks=desks)
    if affected and resolution is None:
        raise DomainError(
            "session_conflict",
            _l("%(n)s reservations do not fit the changed session. Move them to the nearest free "
               "times or cancel them, and contact the people listed.", n=len(affected)),
            affected=[a.reservation.id for a in affected],
        )

    used = [a.reservation for a in affected if a.reservation.status != "booked"]
    if used:
        raise DomainError("not_movable", _l(
            "Reservation %(code)s has already been checked in, so this change cannot be made.",
            code=used[0].code))

    change = SessionChange()
    values = {"venue_id": venue_id, "date": day, "start_time": start, "end_time": end,
              "slot_minutes": slot_minutes, "desks": desks}
    change.changed = [name for name, value in values.items() if getattr(session, name) != value]
    for name in change.changed:
        setattr(session, name, values[name])

    current = _fresh_slots(session)
    by_key = {(s.starts_at, s.ends_at): s for s in current}
    planned_keys = {(p.starts_at, p.ends_at) for p in planned}
    removed = [s for s in current if (s.starts_at, s.ends_at) not in planned_keys]
    kept_ids = [s.id for s in current if (s.starts_at, s.ends_at) in planned_keys]
    new_slots = [Slot(desk_session_id=session.id, starts_at=p.starts_at, ends_at=p.ends_at, capacity=p.capacity)
                 for p in planned if (p.starts_at, p.ends_at) not in by_key]
    db.session.add_all(new_slots)
    db.session.flush()
    if kept_ids:
        # A kept slot fuller than the new desk count is closed for now (capacity =
        # seats taken) so that nothing moves into it; its excess moves out below.
        db.session.execute(
            update(Slot).where(Slot.id.in_(kept_ids))
            .values(capacity=case((Slot.seats_taken > desks, Slot.seats_taken), else_=desks))
            .execution_options(synchronize_session=False)
        )

    targets = kept_ids + [s.id for s in new_slots]
    for item in affected:
        reservation = item.reservation
        old_start = reservation.slot.starts_at
        if resolution == "cancel":
            reservation_service.cancel(reservation, now=now)
            change.cancelled.append((reservation, old_start))
        elif item.reason == "venue":
            reservation.sequence += 1
            reservation.updated_at = now
            change.moved.append((reservation, old_start, old_start))
        else:
            try:
                new_start = _move_to_nearest(reservation, targets, desks, now)
            except DomainError as error:
                # The choice stays open: the page lists the bookings again with "cancel them".
                error.extra["affected"] = [a.reservation.id for a in affected]
                raise
            change.moved.append((reservation, old_start, new_start))
            # A chief's decision was for the old time, as when the booker moves it.
            approvals.review_after_move(reservation, now=now)

    if kept_ids:
        db.session.execute(
            update(Slot).where(Slot.id.in_(kept_ids)).values(capacity=desks)
            .execution_options(synchronize_session=False)
        )
    if removed:
        _retire_slots(removed, targets)
    db.session.flush()
    db.session.expire(session, ["slots"])
    offered = waitlist.offer_freed(session.id, now=now)  # more desks, or seats the change freed
    if change.changed or change.moved or change.cancelled:
        details = change.audit_details()
        change.event = audit.record("session.update", actor=actor, target_type="session", target_id=session.id,
                                    campaign_id=session.campaign_id, changed=details["changed"],
                                    moved=details["moved"], cancelled=details["cancelled"],
                                    waitlist_offers=[e.id for e in offered] or None)
    for reservation, old_start, _new_start in change.moved:
        outbox.enqueue("changed", reservation, now=now, by="session_change", previous_start=old_start.isoformat())
    for reservation, _old_start in change.cancelled:
        outbox.enqueue("cancelled", reservation, now=now, by="session_change")
    return change


def _move_to_nearest(reservation: Reservation, target_ids: list[int], desks: int, now: datetime) -> datetime:
    """Seat the whole party again from the start nearest its old time that has room for it
    (services.seating's rule), among the slots the changed session keeps or gains."""
    old_slot_id, old_start = reservation.slot_id, reservation.slot.starts_at
    seating.release(p.slot_id for p in reservation.people)
    db.session.flush()
    # Locked by _fresh_slots (or created by this edit): the counters read here stay true.
    targets = sorted(
        db.session.scalars(select(Slot).where(Slot.id.in_(target_ids)).execution_options(populate_existing=True)),
        key=lambda s: (s.starts_at, s.id),
    )
    # A kept slot fuller than the new desk count was closed at its seats taken: what it has free
    # is what the new desk count leaves, even once this party's seats in it are given back.
    free = [min(s.capacity, desks) - s.seats_taken for s in targets]
    reach = seating.reach(free)
    starts = [(i, slot) for i, slot in enumerate(targets) if slot.id != old_slot_id and reach[i] >= reservation.seats]
    for index, slot in sorted(starts, key=lambda item: (abs(item[1].starts_at - old_start), item[1].starts_at)):
        counts = seating.plan(free[index:], reservation.seats)
        if counts is None:
            continue
        seats: list[int] = []
        for target, count in zip(targets[index:], counts):
            capacity.take(target.id, count)
            seats += [target.id] * count
        people = list(reservation.people)
        reservation_service.seat_people(reservation, [p.dependent for p in people], seats)
        reservation.sequence += 1
        reservation.updated_at = now
        db.session.flush()
        db.session.expire(reservation, ["slot"])
        return slot.starts_at
    raise DomainError(
        "no_room",
        _l("There is no free time left in the changed session for reservation %(code)s "
           "(%(people)s people). Keep more desks or hours, or cancel the affected reservations.",
           code=tokens.format_code(reservation.code), people=reservation.seats),
    )


def _retire_slots(removed: list[Slot], target_ids: list[int]) -> None:
    """Delete slots that left the plan; cancelled bookings in them point to the nearest remaining slot.

    Only cancelled (or otherwise inactive) reservations can still name a removed
    slot here; they keep their history in the audit log and need a slot row.
    """
    remaining = db.session.scalars(select(Slot).where(Slot.id.in_(target_ids))).all()
    for slot in removed:
        nearest = min(remaining, key=lambda s: (abs(s.starts_at - slot.starts_at), s.starts_at))
        for moved in (Reservation, ReservationPerson):
            db.session.execute(
                update(moved).where(moved.slot_id == slot.id).values(slot_id=nearest.id)
                .execution_options(synchronize_session=False)
            )
        # A past offer (accepted, expired, withdrawn) still names its slot: open ones were recalled.
        db.session.execute(
            update(WaitlistEntry).where(WaitlistEntry.offer_slot_id == slot.id).values(offer_slot_id=nearest.id)
            .execution_options(synchronize_session=False)
        )
    db.session.execute(
        delete(Slot).where(Slot.id.in_([s.id for s in removed])).execution_options(synchronize_session=False)
    )


def cancel_session(actor: Actor, session: DeskSession, *, reason: str = "",
                   now: datetime | None = None) -> SessionChange:
    """Cancel a session and every booking in it; its ``cancelled`` are the bookings to tell people about
    (each gets a message with the office's ``reason`` and a link to book another time).

    A session already cancelled is left as it is (no event).
    """
    require_role(actor, "admin")
    now = now or utcnow()
    change = SessionChange()
    if session.is_cancelled:
        return change
    reason = (reason or "").strip()
    if reason:
        refuse_individual_numbers({"reason": reason})
    begin_write()
    # The slots first: a booking that has taken its seats finishes before this
    # reads the bookings to cancel, and one that has not yet finds the session
    # cancelled (reservations.insert_reservation checks it last).
    for reservation in _active_in([s.id for s in _fresh_slots(session)]):
        if reservation.status != "booked":
            continue  # already served at the desk: nothing to cancel
        old_start = reservation.slot.starts_at
        reservation_service.cancel(reservation, now=now)
        change.cancelled.append((reservation, old_start))
    waitlist.recall_offers(session.id, now=now, close=True)
    session.is_cancelled = True
    change.changed = ["is_cancelled"]
    db.session.flush()
    change.event = audit.record("session.cancel", actor=actor, target_type="session", target_id=session.id,
                                campaign_id=session.campaign_id, cancelled=change.audit_details()["cancelled"],
                                reason=reason or None)
    for reservation, _old_start in change.cancelled:
        outbox.enqueue("cancelled", reservation, now=now, by="session_cancelled", reason=reason)
    return change


# --- who to contact ---------------------------------------------------------------------


@dataclass
class Contact:
    reservation: Reservation
    outcome: str  # "moved" or "cancelled"
    old_start: datetime
    new_start: datetime | None


def contacts(details: dict) -> list[Contact]:
    """The people behind an audit event's moved and cancelled reservations, for calling them."""
    entries = [("moved", e) for e in details.get("moved", [])] + [("cancelled", e) for e in details.get("cancelled", [])]
    ids = [e["reservation_id"] for _kind, e in entries]
    found = {
        r.id: r for r in db.session.scalars(
            select(Reservation)
            .options(joinedload(Reservation.staff).joinedload(Staff.unit), joinedload(Reservation.slot),
                     selectinload(Reservation.people).joinedload(ReservationPerson.dependent))
            .where(Reservation.id.in_(ids))
        ).unique()
    }
    rows = []
    for kind, entry in entries:
        reservation = found.get(entry["reservation_id"])
        if reservation is None:
            continue
        rows.append(Contact(
            reservation, kind, datetime.fromisoformat(entry["from"]),
            datetime.fromisoformat(entry["to"]) if entry.get("to") else None,
        ))
    rows.sort(key=lambda c: (c.old_start, c.reservation.staff.staff_number))
    return rows


# --- the overview -----------------------------------------------------------------------


@dataclass
class SessionFill:
    session: DeskSession
    capacity: int
    taken: int

    @property
    def percent(self) -> int:
        return round(100 * self.taken / self.capacity) if self.capacity else 0


@dataclass
class CampaignFill:
    campaign: Campaign
    sessions: list[SessionFill]

    @property
    def capacity(self) -> int:
        return sum(s.capacity for s in self.sessions if not s.session.is_cancelled)

    @property
    def taken(self) -> int:
        return sum(s.taken for s in self.sessions if not s.session.is_cancelled)

    @property
    def percent(self) -> int:
        return round(100 * self.taken / self.capacity) if self.capacity else 0


@dataclass
class Overview:
    today: date
    #: Today's sessions and the next ones, across campaigns, soonest first.
    upcoming: list[SessionFill]
    campaigns: list[CampaignFill]


def overview(*, today: date, published_only: bool = False, upcoming_limit: int = 8) -> Overview:
    """Every campaign's sessions with seats taken and capacity: today's and the next first, past ones last."""
    query = (
        select(Campaign)
        .options(selectinload(Campaign.sessions).joinedload(DeskSession.venue),
                 selectinload(Campaign.target_units))
        .order_by(Campaign.booking_opens_at.desc(), Campaign.id.desc())
    )
    if published_only:
        query = query.where(Campaign.is_published.is_(True))
    campaigns = db.session.scalars(query).all()
    # One grouped query for every session's counters instead of loading every slot.
    totals = {
        row.desk_session_id: (row.capacity or 0, row.taken or 0)
        for row in db.session.execute(
            select(Slot.desk_session_id, func.sum(Slot.capacity).label("capacity"),
                   func.sum(Slot.seats_taken).label("taken"))
            .group_by(Slot.desk_session_id)
        )
    }
    fills = []
    upcoming = []
    for campaign in campaigns:
        sessions = []
        for session in campaign.sessions:
            capacity, taken = totals.get(session.id, (0, 0))
            fill = SessionFill(session, capacity, taken)
            sessions.append(fill)
            if session.date >= today and not session.is_cancelled:
                upcoming.append(fill)
        # Today and ahead in date order, then the past, most recent first.
        sessions.sort(key=lambda f: (f.session.date < today,
                                     abs(f.session.date.toordinal() - today.toordinal()), f.session.start_time))
        fills.append(CampaignFill(campaign, sessions))
    upcoming.sort(key=lambda f: (f.session.date, f.session.start_time, f.session.id))
    # Campaigns with a session today or ahead come first, soonest first; the rest keep their order.
    next_day = {c.campaign.id: min((f.session.date for f in c.sessions if f.session.date >= today), default=None)
                for c in fills}
    fills.sort(key=lambda c: (next_day[c.campaign.id] is None, next_day[c.campaign.id] or date.max))
    return Overview(today, upcoming[:upcoming_limit], fills)
