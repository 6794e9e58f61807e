"""The card's life after the application: mailed or ready at the counter, received, returned to
sender, and when the card and its certificates expire (reference/desk-process.md, "After the desk").

``card_status`` (none / applied / received) keeps its meaning everywhere (API.md); a stage change
that moves it goes through ``card_status.record_change``, so every rate and history agrees. The
office page and the API call ``change_card``; the status survey calls ``survey_change``, which
takes what the survey says without checking the way there.
"""
from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import (
    CARD_STAGES,
    STAGE_STATUS,
    Application,
    CheckIn,
    Dependent,
    Reservation,
    ReservationPerson,
    Staff,
    User,
)
from . import audit, card_status
from .accounts import require_role
from .actor import Actor
from .errors import DomainError

Person = Staff | Dependent

#: What can be asked for: a stage, or ``returned`` — the mailed card came back to the city (返戻)
#: and now waits at the counter.
CARD_ACTIONS = (*CARD_STAGES, "returned")
#: Where a card can go from each stage. Backwards moves are corrections (and a lost or renewed
#: card): applied → none, received → applied or none.
NEXT = {
    "none": ("applied", "received"),
    "applied": ("none", "mailed", "at_counter", "received"),
    "mailed": ("applied", "returned", "received"),
    "at_counter": ("applied", "received"),
    "received": ("none", "applied"),
}
STAGE_LABELS = {
    "none": _l("No card"),
    "applied": _l("Applied"),
    "mailed": _l("Mailed to the person"),
    "at_counter": _l("Ready at the counter"),
    "received": _l("Received"),
    "returned": _l("Returned to sender"),
}
#: Stage words as a survey writes them (the codes, and the section's words).
STAGE_WORDS = {
    **card_status.STATUS_WORDS,
    "mailed": "mailed", "郵送": "mailed", "郵送済": "mailed", "郵送済み": "mailed", "発送済": "mailed",
    "発送済み": "mailed",
    "at_counter": "at_counter", "窓口": "at_counter", "窓口交付": "at_counter", "交付待ち": "at_counter",
    "窓口交付待ち": "at_counter", "交付通知済": "at_counter", "交付通知済み": "at_counter",
    "returned": "returned", "返戻": "returned", "返戻済": "returned", "返戻済み": "returned",
}
#: Years a card is valid for (5 for those under 18 on the day of issue), and its certificates.
CARD_YEARS, CARD_YEARS_YOUNG, YOUNG_UNDER, CERTIFICATE_YEARS = 10, 5, 18, 5


def stage_from_word(text: str) -> str | None:
    return STAGE_WORDS.get(card_status.fold(text).lower())


# --- dates -----------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has none (31 Aug + 6 → 28 or
    29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _anniversary(day: date, years: int) -> date:
    """``day`` that many years on; 29 February becomes 28 February in a common year (the day a
    person born on 29 February comes of age, 年齢計算ニ関スル法律)."""
    year = day.year + years
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def expiry_estimate(issued_on: date, birth_date: date | None = None) -> tuple[date, date]:
    """(card, certificates) expiry for a card issued on ``issued_on``: the 10th (5th under 18) and
    5th birthday after issue; without a birth date, as many years after issue. Only a suggestion:
    the date printed on the card is what counts."""
    from .applicants import age_on

    young = birth_date is not None and birth_date <= issued_on and age_on(birth_date, issued_on) < YOUNG_UNDER
    card_years = CARD_YEARS_YOUNG if young else CARD_YEARS

    def nth_birthday(years: int) -> date:
        if birth_date is None:
            return _anniversary(issued_on, years)
        this_year = _anniversary(birth_date, issued_on.year - birth_date.year)
        # The first birthday after issue is this year's if it is still to come, else next year's.
        return _anniversary(birth_date, issued_on.year - birth_date.year + years - (this_year > issued_on))

    return nth_birthday(card_years), nth_birthday(CERTIFICATE_YEARS)


def holds_valid_card(status_on_day: str, expires_on: date | None, day: date) -> bool:
    """Received by ``day`` and not expired on it (a card is valid through its expiry date; one
    whose expiry is not known counts as valid)."""
    return status_on_day == "received" and (expires_on is None or expires_on >= day)


def expires_within(expires_on: date | None, day: date, months: int) -> bool:
    """Expires on ``day`` or later, up to and including the same day ``months`` later."""
    return expires_on is not None and day <= expires_on <= add_months(day, months)


# --- the delivery the desk decided ---------------------------------------------------------------


def delivery_of(person: Person) -> str | None:
    """``mail`` or ``counter`` as decided when the person's latest application was handed in."""
    query = (select(Application.delivery)
             .join(CheckIn, Application.check_in_id == CheckIn.id)
             .join(ReservationPerson, CheckIn.reservation_person_id == ReservationPerson.id)
             .where(Application.submitted_at.is_not(None)))
    if isinstance(person, Staff):
        query = query.join(Reservation, ReservationPerson.reservation_id == Reservation.id).where(
            ReservationPerson.kind == "staff", Reservation.staff_id == person.id)
    else:
        query = query.where(ReservationPerson.dependent_id == person.id)
    return db.session.scalar(query.order_by(Application.submitted_at.desc()).limit(1))


# --- changing the card ---------------------------------------------------------------------------

_KEEP = object()


def _refuse(field: str, message: object) -> DomainError:
    return DomainError("invalid", _l("Check the highlighted fields."), fields={field: message})


def _check_dates(on: date, card_expires_on: date | None, certificates_expire_on: date | None) -> None:
    if on > card_status.today():
        raise _refuse("on", _l("The date cannot be in the future."))
    if card_expires_on and certificates_expire_on and certificates_expire_on > card_expires_on:
        raise _refuse("certificates_expire_on", _l("The certificates cannot outlast the card."))


def _set_stage(person: Person, stage: str, on: date, *, source: str, user: User | None) -> None:
    """Write the stage and move card_status with it (a dated event when it changes)."""
    returned = stage == "returned"
    stage = "at_counter" if returned else stage
    if STAGE_STATUS[stage] != person.card_status:
        card_status.record_change(person, STAGE_STATUS[stage], on=on, source=source, user=user)
    person.card_stage, person.card_stage_on = stage, on
    if returned:
        person.card_returned_on = on
    elif stage in ("none", "applied", "mailed"):
        person.card_returned_on = None
    if stage == "none":
        # A card given up or lost: its dates no longer stand for a card held.
        person.card_expires_on = person.certificates_expire_on = None


def change_card(actor: Actor, person: Person, *, stage: str | None = None, on: date | None = None,
                card_expires_on: object = _KEEP, certificates_expire_on: object = _KEEP) -> bool:
    """The office's record of the card's next step and/or its expiry dates (the staff page, the API).

    ``stage`` is one of CARD_ACTIONS; a move that the card cannot make from where it is is refused
    with ``invalid_transition``. Expiry dates left out are kept; None clears them. Returns whether
    anything changed."""
    require_role(actor, "chief", "admin")
    on = on or card_status.today()
    expires = person.card_expires_on if card_expires_on is _KEEP else card_expires_on
    certificates = person.certificates_expire_on if certificates_expire_on is _KEEP else certificates_expire_on
    assert expires is None or isinstance(expires, date)
    assert certificates is None or isinstance(certificates, date)
    _check_dates(on, expires, certificates)
    before = person.card_stage_now
    moving = stage is not None and stage != before
    if stage is not None and stage not in CARD_ACTIONS:
        raise _refuse("stage", _l("Choose a stage from the list."))
    if moving and stage not in NEXT[before]:
        raise DomainError("invalid_transition", _l(
            "A card that is “%(before)s” cannot become “%(after)s”.",
            before=STAGE_LABELS[before], after=STAGE_LABELS[stage or before]), stage=before)
    if stage == "returned" and person.card_stage_since and on < person.card_stage_since:
        raise _refuse("on", _l("The card came back before it was mailed: check the date."))
    dates_changed = (expires, certificates) != (person.card_expires_on, person.certificates_expire_on)
    if not moving and not dates_changed:
        return False
    person.card_expires_on, person.certificates_expire_on = expires, certificates
    if moving:
        _set_stage(person, stage or before, on, source="edit", user=actor.user)
    db.session.flush()
    audit.record("card.change", actor=actor, target_type=card_status.person_key(person)[0],
                 target_id=person.id, previous_stage=before, stage=stage if moving else before,
                 on=on.isoformat() if moving else None,
                 card_expires_on=expires.isoformat() if expires else None,
                 certificates_expire_on=certificates.isoformat() if certificates else None)
    return True


def survey_change(person: Person, *, stage: str | None, on: date, card_expires_on: date | None,
                  certificates_expire_on: date | None, user: User | None) -> bool:
    """What a status survey line says about the card, taken as the record (no transition check).
    Blank expiry cells keep the dates on file. Returns whether anything changed."""
    changed = False
    if stage is not None and (stage != person.card_stage_now or (
            stage == "returned" and person.card_returned_now != on)):
        _set_stage(person, stage, on, source="import", user=user)
        changed = True
    for name, value in (("card_expires_on", card_expires_on), ("certificates_expire_on", certificates_expire_on)):
        if value is not None and getattr(person, name) != value:
            setattr(person, name, value)
            changed = True
    return changed


# --- many people, for reports -------------------------------------------------------------------

#: The longest window a report may ask for ("expires within N months").
MAX_WINDOW_MONTHS = 120


def window_months(asked: int | None = None) -> int:
    """The "expires within N months" window: as asked, else the setting (3 months by default)."""
    if asked is not None:
        return asked
    return int(current_app.config.get("CARD_EXPIRY_WINDOW_MONTHS", 3))


@dataclass
class CardCounts:
    """A unit's people holding a valid card on a day, and of those whose card or certificates
    expire within the window (certificates: expired already, or within it)."""

    staff_valid: int = 0
    staff_expiring: int = 0
    staff_certificates_due: int = 0
    dependents_valid: int = 0
    dependents_expiring: int = 0
    dependents_certificates_due: int = 0


def expiry_dates(unit_ids: set[int] | None = None) -> dict[tuple[str, int], tuple[date | None, date | None]]:
    """(card, certificates) expiry by person key, for the people who have either."""
    staff_q = select(Staff.id, Staff.card_expires_on, Staff.certificates_expire_on).where(
        (Staff.card_expires_on.is_not(None)) | (Staff.certificates_expire_on.is_not(None)))
    dep_q = select(Dependent.id, Dependent.card_expires_on, Dependent.certificates_expire_on).join(
        Staff, Dependent.staff_id == Staff.id).where(
        (Dependent.card_expires_on.is_not(None)) | (Dependent.certificates_expire_on.is_not(None)))
    if unit_ids is not None:
        staff_q = staff_q.where(Staff.unit_id.in_(unit_ids))
        dep_q = dep_q.where(Staff.unit_id.in_(unit_ids))
    found: dict[tuple[str, int], tuple[date | None, date | None]] = {}
    for kind, query in (("staff", staff_q), ("dependent", dep_q)):
        for pid, card, certificates in db.session.execute(query):
            found[(kind, pid)] = (card, certificates)
    return found


def counts_by_unit(day: date, months: int, unit_ids: set[int] | None = None, *,
                   rows: list[card_status.PersonRow] | None = None) -> dict[int, CardCounts]:
    """Per unit, from the same people (``card_status.all_timelines``) the status counts use."""
    rows = card_status.all_timelines(unit_ids) if rows is None else rows
    dates = expiry_dates(unit_ids)
    counts: dict[int, CardCounts] = defaultdict(CardCounts)
    for row in rows:
        if not row.member.holds(day):
            continue  # not yet joined, or already left, on that day: as the status counts
        card, certificates = dates.get((row.kind, row.id), (None, None))
        if not holds_valid_card(row.timeline.on(day), card, day):
            continue
        bucket, prefix = counts[row.unit_id], "staff" if row.kind == "staff" else "dependents"
        setattr(bucket, f"{prefix}_valid", getattr(bucket, f"{prefix}_valid") + 1)
        if expires_within(card, day, months):
            setattr(bucket, f"{prefix}_expiring", getattr(bucket, f"{prefix}_expiring") + 1)
        if certificates is not None and certificates <= add_months(day, months):
            setattr(bucket, f"{prefix}_certificates_due", getattr(bucket, f"{prefix}_certificates_due") + 1)
    return counts


@dataclass(frozen=True)
class ExpiryMonth:
    month: date  # its first day
    cards: int
    certificates: int


def expiring_by_month(today: date, months: int = 18, unit_ids: set[int] | None = None) -> list[ExpiryMonth]:
    """Cards and certificates of people holding a card that expire in each month from this one on
    (this month from today: what already expired is not "expiring")."""
    first = today.replace(day=1)
    months_list = [add_months(first, n) for n in range(months)]
    end = add_months(first, months)
    cards: dict[date, int] = defaultdict(int)
    certificates: dict[date, int] = defaultdict(int)
    for model in (Staff, Dependent):
        # Only people still with the department: whoever has left is no longer the HQ's to nudge.
        query = select(model.card_expires_on, model.certificates_expire_on).where(
            model.card_status == "received", model.left_on.is_(None) | (model.left_on > today))
        if model is Dependent:
            query = query.join(Staff, Dependent.staff_id == Staff.id).where(
                Staff.left_on.is_(None) | (Staff.left_on > today))
        if unit_ids is not None:
            query = query.where(Staff.unit_id.in_(unit_ids))
        for card, certificate in db.session.execute(query):
            if card is not None and today <= card < end:
                cards[card.replace(day=1)] += 1
            if certificate is not None and today <= certificate < end:
                certificates[certificate.replace(day=1)] += 1
    return [ExpiryMonth(m, cards[m], certificates[m]) for m in months_list]
