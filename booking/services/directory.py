"""The staff directory as the office sees it: units, venues, staff and dependents.

Queries take the acting user and are cut to the units that user may see (a
chief: their unit and everything under it), so a page cannot show another
unit's record by forgetting a check: a record outside the reach is refused
with ``forbidden``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, joinedload, selectinload

from ..extensions import db
from ..localtime import local_today
from ..models import (
    CARD_STATUSES,
    Dependent,
    ReservationPerson,
    Staff,
    Unit,
    User,
    Venue,
    kana_key,
    katakana,
)
from . import audit, invitations, municipalities
from .accounts import require_role
from .actor import Actor
from .card_status import record_change
from .errors import DomainError, NotFound, invalid
from .guard import refuse_individual_numbers
from .invitations import normalise_staff_number

PAGE_SIZE = 50
#: A unit code after folding: letters, digits and hyphens, no spaces.
UNIT_CODE = re.compile(r"[0-9A-Za-z-]{1,32}")
_FORBIDDEN = _l("This record belongs to a unit outside yours.")



# --- reach ------------------------------------------------------------------------------


def reach(user: User) -> set[int] | None:
    """The unit ids a user may see; None means every unit (admin, clerk)."""
    if user.role != "chief":
        return None
    unit = db.session.get(Unit, user.unit_id) if user.unit_id else None
    return set(units_under(unit)) if unit else set()


def require_reach(user: User, unit_id: int | None) -> None:
    allowed = reach(user)
    if allowed is not None and unit_id not in allowed:
        raise DomainError("forbidden", _FORBIDDEN)


# --- units ------------------------------------------------------------------------------


@dataclass
class UnitNode:
    unit: Unit
    depth: int
    staff_count: int


def unit_tree(user: User) -> list[UnitNode]:
    """Units in tree order (HQ, its stations, their branch offices), cut to the user's reach."""
    units = db.session.scalars(select(Unit).order_by(Unit.code)).all()
    counts = dict(db.session.execute(select(Staff.unit_id, func.count(Staff.id)).group_by(Staff.unit_id)).all())
    allowed = reach(user)
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ordered: list[UnitNode] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for unit in children.get(parent_id, []):
            if allowed is None or unit.id in allowed:
                ordered.append(UnitNode(unit, depth, counts.get(unit.id, 0)))
            walk(unit.id, depth + 1)

    walk(None, 0)
    if allowed is not None and ordered:
        # A chief's own unit is their root: indent from there.
        shift = min(node.depth for node in ordered)
        ordered = [UnitNode(n.unit, n.depth - shift, n.staff_count) for n in ordered]
    return ordered


def get_unit(user: User, unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(_l("No such unit."))
    require_reach(user, unit.id)
    return unit


def unit_by_code(code: str) -> Unit | None:
    return db.session.scalar(select(Unit).where(Unit.code == fold_unit_code(code)))


def units_under(unit: Unit) -> list[int]:
    """The ids of a unit and everything below it (a chief's reach)."""
    ids, stack = [], [unit]
    while stack:
        current = stack.pop()
        ids.append(current.id)
        stack.extend(current.children)
    return ids


def fold_unit_code(code: str | None) -> str:
    """A unit code as stored: full-width letters and digits folded (NFKC), outer spaces dropped."""
    return unicodedata.normalize("NFKC", code or "").strip()


def _checked_unit_code(code: str) -> str:
    if not UNIT_CODE.fullmatch(code):
        raise invalid(code=_l("Use 1 to 32 letters, digits and hyphens, without spaces."))
    return code


def _unit_named(field: str, *, unit_id: int | None = None, unit_code: str | None = None) -> Unit | None:
    """The unit a form names by id or an API body by code; None when neither is given."""
    if unit_id:
        unit = db.session.get(Unit, unit_id)
        if unit is None:
            raise invalid(**{field: _l("No such unit.")})
        return unit
    if unit_code:
        unit = unit_by_code(unit_code)
        if unit is None:
            raise invalid(**{field: _l("No unit has this code.")})
        return unit
    return None


def _refuse_taken_code(code: str, unit: Unit | None) -> None:
    clash = db.session.scalar(select(Unit).where(Unit.code == code))
    if clash is not None and clash is not unit:
        raise DomainError("duplicate", _l("A unit with code %(code)s already exists.", code=code),
                          fields={"code": _l("This code is taken.")})


def create_unit(actor: Actor, *, code: str, name: str, parent_id: int | None = None,
                parent_code: str | None = None) -> Unit:
    """Add a unit, at the top or under the unit given by id (pages) or code (API)."""
    require_role(actor, "admin")
    code, name = fold_unit_code(code), (name or "").strip()
    refuse_individual_numbers({"code": code, "name": name})
    _checked_unit_code(code)
    if not name:
        raise invalid(name=_l("Give the unit a name."))
    _refuse_taken_code(code, None)
    parent = _unit_named("parent_code" if parent_code else "parent_id", unit_id=parent_id, unit_code=parent_code)
    unit = Unit(code=code, name=name, parent=parent)
    db.session.add(unit)
    db.session.flush()
    audit.record("unit.create", actor=actor, target_type="unit", target_id=unit.id, code=unit.code)
    return unit


def update_unit(actor: Actor, unit: Unit, *, code: str, name: str, parent_id: int | None) -> Unit:
    """Change a unit's code, name or place in the tree; a unit cannot move under itself.

    A code kept as it was is not checked again, so a unit made before the code rule
    can still be renamed.
    """
    require_role(actor, "admin")
    code, name = fold_unit_code(code), (name or "").strip()
    refuse_individual_numbers({"code": code, "name": name})
    if code != unit.code:
        _checked_unit_code(code)
    if not name:
        raise invalid(name=_l("Give the unit a name."))
    _refuse_taken_code(code, unit)
    parent = _unit_named("parent_id", unit_id=parent_id)
    if parent is not None and parent.id in units_under(unit):
        raise invalid(parent_id=_l("A unit cannot be placed under itself or one of its own units."))
    unit.code, unit.name, unit.parent = code, name, parent
    db.session.flush()
    audit.record("unit.update", actor=actor, target_type="unit", target_id=unit.id, code=unit.code)
    return unit


# --- venues -----------------------------------------------------------------------------


def list_venues() -> list[Venue]:
    return list(db.session.scalars(select(Venue).options(joinedload(Venue.unit)).order_by(Venue.name)))


def get_venue(venue_id: int) -> Venue:
    venue = db.session.get(Venue, venue_id)
    if venue is None:
        raise NotFound(_l("No such venue."))
    return venue


def _venue_values(name: str, address: str, notes: str) -> dict[str, str]:
    values = {"name": (name or "").strip(), "address": (address or "").strip(), "notes": notes or ""}
    refuse_individual_numbers(values)
    if not values["name"]:
        raise invalid(name=_l("Give the venue a name."))
    if not values["address"]:
        raise invalid(address=_l("Give the venue's address."))
    return values


def create_venue(actor: Actor, *, name: str, address: str, unit_id: int | None = None,
                 unit_code: str | None = None, notes: str = "") -> Venue:
    """Add a venue, optionally belonging to the unit given by id (pages) or code (API)."""
    require_role(actor, "admin")
    values = _venue_values(name, address, notes)
    unit = _unit_named("unit_code" if unit_code else "unit_id", unit_id=unit_id, unit_code=unit_code)
    venue = Venue(unit=unit, **values)
    db.session.add(venue)
    db.session.flush()
    audit.record("venue.create", actor=actor, target_type="venue", target_id=venue.id)
    return venue


def update_venue(actor: Actor, venue: Venue, *, name: str, address: str, unit_id: int | None,
                 notes: str) -> Venue:
    require_role(actor, "admin")
    values = _venue_values(name, address, notes)
    unit = _unit_named("unit_id", unit_id=unit_id)
    venue.name, venue.address, venue.notes, venue.unit = values["name"], values["address"], values["notes"], unit
    db.session.flush()
    audit.record("venue.update", actor=actor, target_type="venue", target_id=venue.id)
    return venue


# --- staff ------------------------------------------------------------------------------


@dataclass
class StaffFilter:
    q: str = ""
    unit_id: int | None = None
    #: Include the units under the chosen unit.
    subunits: bool = True
    crew: str = ""
    card_status: str = ""


@dataclass
class StaffPage:
    rows: list[Staff]
    total: int
    page: int
    pages: int
    per_page: int


def search_terms(q: str) -> tuple[str, str]:
    """What the person typed as a staff number and as a kana key (either may be empty)."""
    number = normalise_staff_number(q)
    key = kana_key(q)
    is_number = bool(number) and all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in number)
    return (number if is_number else "", key if not is_number else "")


def _prefix(column: InstrumentedAttribute[str], prefix: str) -> ColumnElement[bool]:
    # A range the column's index can serve, plus LIKE so that a collation that
    # orders differently from code points cannot add wrong rows.
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(escaped + "%", escape="\\") & (column >= prefix) & (column < prefix + "\U0010ffff")


def staff_query(user: User, filters: StaffFilter) -> Select[Staff]:
    """The SELECT of staff a user may see, filtered; ordered by staff number for paging."""
    query = select(Staff)
    allowed = reach(user)
    if filters.unit_id:
        unit = get_unit(user, filters.unit_id)
        ids = set(units_under(unit)) if filters.subunits else {unit.id}
        if allowed is not None:
            ids &= allowed
        query = query.where(Staff.unit_id.in_(sorted(ids)))
    elif allowed is not None:
        query = query.where(Staff.unit_id.in_(sorted(allowed)))
    number, key = search_terms(filters.q)
    if number:
        query = query.where(_prefix(Staff.staff_number, number))
    elif key:
        query = query.where(_prefix(Staff.search_kana, key))
    if filters.crew:
        query = query.where(Staff.crew == filters.crew)
    if filters.card_status in CARD_STATUSES:
        query = query.where(Staff.card_status == filters.card_status)
    return query


def staff_page(user: User, filters: StaffFilter, page: int = 1, per_page: int = PAGE_SIZE) -> StaffPage:
    """One page of the directory: LIMIT/OFFSET over the staff-number index, never the whole table."""
    require_role(user, "admin", "chief")
    query = staff_query(user, filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = db.session.scalars(
        query.options(joinedload(Staff.unit))
        .order_by(Staff.staff_number)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return StaffPage(list(rows), total, page, pages, per_page)


def crews(user: User) -> list[str]:
    """The crew names in use among the staff the user may see, for the filter."""
    query = select(Staff.crew).where(Staff.crew != "").distinct().order_by(Staff.crew)
    allowed = reach(user)
    if allowed is not None:
        query = query.where(Staff.unit_id.in_(sorted(allowed)))
    return list(db.session.scalars(query))


def find_staff(user: User, q: str, *, limit: int = 20) -> list[Staff]:
    """Staff whose number or kana starts with what was typed (the phone page's search)."""
    number, key = search_terms(q)
    if not number and not key:
        return []
    query = staff_query(user, StaffFilter(q=q)).options(joinedload(Staff.unit))
    if number:
        exact = db.session.scalar(query.where(Staff.staff_number == number))
        if exact is not None:
            return [exact]
    return list(db.session.scalars(query.order_by(Staff.search_kana, Staff.staff_number).limit(limit)))


def get_staff(user: User, staff_id: int) -> Staff:
    staff = db.session.scalar(
        select(Staff).options(joinedload(Staff.unit), selectinload(Staff.dependents)).where(Staff.id == staff_id)
    )
    if staff is None:
        raise NotFound(_l("No such staff member."))
    require_reach(user, staff.unit_id)
    return staff


def staff_by_number(staff_number: str) -> Staff:
    staff = db.session.scalar(select(Staff).where(Staff.staff_number == normalise_staff_number(staff_number)))
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
    """A staff member with a fresh invitation, for the demo and tests.

    Staff reach the system through the staff import, which audits the import as a whole.
    """
    staff = Staff(
        staff_number=normalise_staff_number(staff_number),
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


def update_staff(actor: Actor, staff: Staff, *, family_name: str, given_name: str, family_name_kana: str,
                 given_name_kana: str, unit_id: int, crew: str, email: str, phone: str, card_status: str,
                 card_status_on: date | None, municipality_code: str | None = None) -> list[str]:
    """Change a staff member's record; returns the names of the fields that changed.
    ``municipality_code``: where they are registered; "" clears it, None keeps it."""
    require_role(actor, "admin")
    values: dict[str, object] = {
        "family_name": family_name.strip(), "given_name": given_name.strip(),
        "family_name_kana": katakana(family_name_kana), "given_name_kana": katakana(given_name_kana),
        "crew": crew.strip(), "email": email.strip(), "phone": phone.strip(),
    }
    refuse_individual_numbers(values)
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise invalid(unit_id=_l("No such unit."))
    if card_status not in CARD_STATUSES:
        raise invalid(card_status=_l("Use none, applied or received."))
    values["unit_id"] = unit.id
    if municipality_code is not None:
        town = municipalities.get(municipality_code)
        values["municipality_code"] = town.code if town else None
    new_on = card_status_on if card_status != "none" else None
    changed = []
    if (staff.card_status, staff.card_status_on) != (card_status, new_on):
        # A dated card status event, so rates as of past days stay right.
        record_change(staff, card_status, on=new_on, source="edit", user=actor.user)
        staff.card_status_on = new_on
        changed.append("card_status")
    for name, value in values.items():
        if getattr(staff, name) != value:
            changed.append(name)
            setattr(staff, name, value)
    if "email" in changed:
        # The office set the address: a refusal of the old one no longer applies, and the booker's
        # confirmation was of another address.
        staff.email_failure, staff.email_confirmed_at = "", None
    db.session.flush()
    if changed:
        audit.record("staff.update", actor=actor, target_type="staff", target_id=staff.id,
                     staff_number=staff.staff_number, changed=changed)
    return changed


def reissue_invitation(actor: Actor, staff: Staff) -> None:
    """Revoke the staff member's invitation link and code and give them new ones."""
    require_role(actor, "admin", "chief")
    if actor.user is not None:
        require_reach(actor.user, staff.unit_id)
    invitations.issue(staff)
    db.session.flush()
    audit.record("invitation.reissue", actor=actor, target_type="staff", target_id=staff.id,
                 staff_number=staff.staff_number)


# --- dependents -------------------------------------------------------------------------


def get_dependent(user: User, staff: Staff, dependent_id: int) -> Dependent:
    dependent = db.session.get(Dependent, dependent_id)
    if dependent is None or dependent.staff_id != staff.id:
        raise NotFound(_l("No such dependent."))
    return dependent


def _dependent_values(family_name: str, given_name: str, family_name_kana: str, given_name_kana: str,
                      relation: str, card_status: str) -> dict[str, str]:
    values = {
        "family_name": family_name.strip(), "given_name": given_name.strip(),
        "family_name_kana": katakana(family_name_kana), "given_name_kana": katakana(given_name_kana),
        "relation": relation.strip(),
    }
    refuse_individual_numbers(values)
    if card_status not in CARD_STATUSES:
        raise invalid(card_status=_l("Use none, applied or received."))
    return values


def check_birth_date(birth_date: date | None) -> None:
    """A birth date is optional; when given it is a real one: not ahead, not before 1900."""
    if birth_date is not None and not date(1900, 1, 1) <= birth_date <= local_today():
        raise invalid(birth_date=_l("Enter the date of birth as it is on a document, e.g. 2015-04-01."))


def add_dependent(actor: Actor, staff: Staff, *, family_name: str, given_name: str, family_name_kana: str,
                  given_name_kana: str, relation: str, card_status: str = "none",
                  birth_date: date | None = None, municipality_code: str | None = None) -> Dependent:
    """A new dependent; without ``municipality_code`` they are taken to be registered where the
    staff member is."""
    require_role(actor, "admin")
    values = _dependent_values(family_name, given_name, family_name_kana, given_name_kana, relation, card_status)
    check_birth_date(birth_date)
    town = municipalities.get(municipality_code)
    dependent = Dependent(staff=staff, card_status=card_status, birth_date=birth_date,
                          municipality_code=town.code if town else None, **values)
    db.session.add(dependent)
    db.session.flush()
    audit.record("dependent.create", actor=actor, target_type="dependent", target_id=dependent.id,
                 staff_number=staff.staff_number)
    return dependent


def update_dependent(actor: Actor, dependent: Dependent, *, family_name: str, given_name: str,
                     family_name_kana: str, given_name_kana: str, relation: str, card_status: str,
                     birth_date: date | None = None, municipality_code: str | None = None) -> Dependent:
    """Change a dependent; ``municipality_code`` "" clears it (registered as the staff member),
    None keeps it."""
    require_role(actor, "admin")
    values = _dependent_values(family_name, given_name, family_name_kana, given_name_kana, relation, card_status)
    check_birth_date(birth_date)
    if municipality_code is not None:
        town = municipalities.get(municipality_code)
        dependent.municipality_code = town.code if town else None
    for name, value in values.items():
        setattr(dependent, name, value)
    dependent.birth_date = birth_date
    if dependent.card_status != card_status:
        # A dated card status event, so rates as of past days stay right.
        record_change(dependent, card_status, source="edit", user=actor.user)
    db.session.flush()
    audit.record("dependent.update", actor=actor, target_type="dependent", target_id=dependent.id,
                 staff_number=dependent.staff.staff_number)
    return dependent


def remove_dependent(actor: Actor, dependent: Dependent) -> None:
    """Delete a dependent who has never been on a reservation; otherwise refuse."""
    require_role(actor, "admin")
    used = db.session.scalar(select(ReservationPerson.id).where(ReservationPerson.dependent_id == dependent.id).limit(1))
    if used is not None:
        raise DomainError("in_use", _l(
            "This dependent appears on a reservation (perhaps a cancelled one) and is kept "
            "for its history. Leave the record in place."))
    dependent_id, staff_number = dependent.id, dependent.staff.staff_number
    db.session.delete(dependent)
    db.session.flush()
    audit.record("dependent.delete", actor=actor, target_type="dependent", target_id=dependent_id,
                 staff_number=staff_number)
