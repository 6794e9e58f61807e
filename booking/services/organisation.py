"""Setting up the department: units, venues, staff and their dependents, campaigns."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Campaign, Dependent, Staff, Unit, Venue
from . import invitations
from .errors import DomainError, NotFound
from .guard import refuse_individual_numbers


def invalid(**fields) -> DomainError:
    return DomainError("invalid", _l("Check the highlighted fields."), fields=fields)


def unit_by_code(code: str) -> Unit | None:
    return db.session.scalar(select(Unit).where(Unit.code == code))


def create_unit(code: str, name: str, parent_code: str | None = None) -> Unit:
    refuse_individual_numbers({"code": code, "name": name})
    if unit_by_code(code) is not None:
        raise DomainError("duplicate", _l("A unit with code %(code)s already exists.", code=code))
    parent = None
    if parent_code:
        parent = unit_by_code(parent_code)
        if parent is None:
            raise invalid(parent_code=_l("No unit has this code."))
    unit = Unit(code=code, name=name, parent=parent)
    db.session.add(unit)
    db.session.flush()
    return unit


def units_under(unit: Unit) -> list[int]:
    """The ids of a unit and everything below it (a chief's reach)."""
    ids, stack = [], [unit]
    while stack:
        current = stack.pop()
        ids.append(current.id)
        stack.extend(current.children)
    return ids


def create_venue(name: str, address: str, *, unit_code: str | None = None, notes: str = "") -> Venue:
    refuse_individual_numbers({"name": name, "address": address, "notes": notes})
    unit = None
    if unit_code:
        unit = unit_by_code(unit_code)
        if unit is None:
            raise invalid(unit_code=_l("No unit has this code."))
    venue = Venue(name=name, address=address, unit=unit, notes=notes or "")
    db.session.add(venue)
    db.session.flush()
    return venue


def create_campaign(
    title: str,
    booking_opens_at: datetime,
    booking_closes_at: datetime,
    *,
    published: bool = False,
    what_to_bring: str = "",
    cutoff_minutes: int = 60,
    target_unit_codes: list[str] | None = None,
) -> Campaign:
    refuse_individual_numbers({"title": title, "what_to_bring": what_to_bring})
    if booking_closes_at <= booking_opens_at:
        raise invalid(booking_closes_at=_l("Booking must close after it opens."))
    targets = []
    for code in target_unit_codes or []:
        unit = unit_by_code(code)
        if unit is None:
            raise invalid(target_unit_codes=_l("No unit has the code %(code)s.", code=code))
        targets.append(unit)
    campaign = Campaign(
        title=title,
        booking_opens_at=booking_opens_at,
        booking_closes_at=booking_closes_at,
        is_published=published,
        what_to_bring=what_to_bring,
        cutoff_minutes=cutoff_minutes,
        target_units=targets,
    )
    db.session.add(campaign)
    db.session.flush()
    return campaign


def staff_by_number(staff_number: str) -> Staff:
    staff = db.session.scalar(
        select(Staff).where(Staff.staff_number == invitations.normalise_staff_number(staff_number))
    )
    if staff is None:
        raise NotFound(_l("No staff member has this staff number."))
    return staff


def add_staff(
    *,
    staff_number: str,
    family_name: str,
    given_name: str,
    family_name_kana: str,
    given_name_kana: str,
    unit: Unit,
    crew: str = "",
    email: str = "",
    phone: str = "",
    card_status: str = "none",
    card_status_on: date | None = None,
) -> Staff:
    staff = Staff(
        staff_number=invitations.normalise_staff_number(staff_number),
        family_name=family_name,
        given_name=given_name,
        family_name_kana=family_name_kana,
        given_name_kana=given_name_kana,
        unit=unit,
        crew=crew,
        email=email,
        phone=phone,
        card_status=card_status,
        card_status_on=card_status_on,
        invitation_nonce="",
        invitation_link_hash=invitations.tokens.new_nonce(),  # replaced by issue() below
    )
    db.session.add(staff)
    db.session.flush()
    invitations.issue(staff)
    return staff


def add_dependent(
    staff: Staff,
    *,
    family_name: str,
    given_name: str,
    family_name_kana: str,
    given_name_kana: str,
    relation: str,
    card_status: str = "none",
) -> Dependent:
    refuse_individual_numbers(
        {
            "family_name": family_name,
            "given_name": given_name,
            "family_name_kana": family_name_kana,
            "given_name_kana": given_name_kana,
            "relation": relation,
        }
    )
    dependent = Dependent(
        staff=staff,
        family_name=family_name,
        given_name=given_name,
        family_name_kana=family_name_kana,
        given_name_kana=given_name_kana,
        relation=relation,
        card_status=card_status,
    )
    db.session.add(dependent)
    db.session.flush()
    return dependent
