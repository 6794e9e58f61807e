"""Card status over time: every change is a dated event, so any rate can be computed as of any day.

Every path that changes a person's card status goes through ``record_change``:
the monthly status import, the desk's "application submitted" and a chief's or
admin's edit. The staff row keeps the current status (for quick lists); the
events keep the history.

How a person's status on a day D is found (``Timeline.on``):
- the last event whose effective date is on or before D gives its ``to_status``;
- before their first event, the first event's ``from_status`` (what was known then);
- a person with no events has their current status on every day since
  ``card_status_on`` (always, when that date is unknown), and ``none`` before;
- a status written to the staff row by a path that skipped this module is
  taken as a last change on ``card_status_on`` (or today), so lists and rates agree.
"""
from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from ..extensions import db
from ..localtime import TOKYO, local_today, utcnow
from ..models import (
    CARD_STATUSES,
    NON_APPLICATION_REASONS,
    CardStatusEvent,
    Dependent,
    NonApplicationReason,
    Staff,
    User,
)
from . import audit, membership
from .accounts import require_role
from .actor import Actor
from .errors import DomainError
from .guard import refuse_individual_numbers

#: Labels of the fixed list of reasons for not applying, in the order a chief sees them.
REASON_LABELS = {
    "considering": _l("Still considering"),
    "not_needed": _l("Does not see the need"),
    "loss_theft": _l("Worried about loss or theft"),
    "no_time": _l("No time for the procedure"),
    "photo_documents": _l("Preparing the photo or documents"),
    "other": _l("Other"),
}
STATUS_LABELS = {
    "none": _l("No card"),
    "applied": _l("Applied"),
    "received": _l("Received"),
}
#: Where a recorded change came from (CardStatusEvent.source).
SOURCE_LABELS = {
    "import": _l("Status survey"),
    "desk": _l("At the application desk"),
    "edit": _l("Entered by a chief or the office"),
}
#: Card statuses as people write them in staff lists and surveys: the codes, the words the
#: section uses, and the app's own labels (未申請 / 申請済み / 取得済み), with and without okurigana.
STATUS_WORDS = {
    "none": "none", "未申請": "none", "なし": "none", "無": "none", "未取得": "none",
    "applied": "applied", "申請済": "applied", "申請済み": "applied", "申請中": "applied",
    "received": "received", "取得済": "received", "取得済み": "received", "受取済": "received",
    "受取済み": "received", "交付済": "received", "交付済み": "received",
}


def fold(text: str) -> str:
    """A cell as typed, compared: full-width letters and digits folded (NFKC), spaces removed."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def status_from_word(text: str) -> str | None:
    """The status a cell means, or None for an unknown word."""
    return STATUS_WORDS.get(fold(text).lower())


#: Statuses that count as "has applied" (the application rate counts holders too).
APPLIED = ("applied", "received")

Person = Staff | Dependent


def today() -> date:
    return local_today()


# --- the timeline of one person -----------------------------------------------------------


@dataclass
class Timeline:
    """A person's known changes, sorted by (effective date, id), and what stood before them."""

    current: str
    current_on: date | None
    days: list[date] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    first_from: str | None = None

    def add(self, effective_on: date, from_status: str, to_status: str) -> None:
        if self.first_from is None:
            self.first_from = from_status
        self.days.append(effective_on)
        self.statuses.append(to_status)

    def close(self, fallback_day: date) -> Timeline:
        """Take in a current status written without an event (see the module docstring)."""
        if self.statuses and self.statuses[-1] != self.current:
            day = max(self.current_on or fallback_day, self.days[-1])
            self.days.append(day)
            self.statuses.append(self.current)
        return self

    def on(self, day: date) -> str:
        if not self.days:
            if self.current_on is None or self.current_on <= day:
                return self.current
            return "none"
        index = bisect_right(self.days, day)
        return self.statuses[index - 1] if index else (self.first_from or "none")


def person_key(person: Person) -> tuple[str, int]:
    """("staff", id) or ("dependent", id): how the timelines of many people are keyed."""
    return ("staff" if isinstance(person, Staff) else "dependent", person.id)


def _events_for(person: Person) -> list[CardStatusEvent]:
    return _events_for_many([person])[person_key(person)]


def _events_for_many(people: list[Person]) -> dict[tuple[str, int], list[CardStatusEvent]]:
    """Each person's events, sorted by (effective date, id), in one query per 500 people."""
    found: dict[tuple[str, int], list[CardStatusEvent]] = {person_key(p): [] for p in people}
    for kind, column in (("staff", CardStatusEvent.staff_id), ("dependent", CardStatusEvent.dependent_id)):
        ids = [pid for k, pid in found if k == kind]
        for start in range(0, len(ids), 500):
            for event in db.session.scalars(
                select(CardStatusEvent).where(column.in_(ids[start:start + 500]))
                .order_by(CardStatusEvent.effective_on, CardStatusEvent.id)
            ):
                person_id = event.staff_id if kind == "staff" else event.dependent_id
                found[(kind, person_id or 0)].append(event)  # never 0: the query matched an id
    return found


def _timeline(person: Person, events: list[CardStatusEvent]) -> Timeline:
    timeline = Timeline(person.card_status, person.card_status_on)
    for event in events:
        timeline.add(event.effective_on, event.from_status, event.to_status)
    return timeline.close(today())


def timeline_of(person: Person) -> Timeline:
    return _timeline(person, _events_for(person))


def timelines_of(people: list[Person]) -> dict[tuple[str, int], Timeline]:
    """The timelines of many people (an import's), keyed like ``("staff", id)``, in few queries."""
    events = _events_for_many(people)
    return {person_key(p): _timeline(p, events[person_key(p)]) for p in people}


def history(person: Person) -> list[CardStatusEvent]:
    """The person's events, newest first, for the edit page."""
    return list(reversed(_events_for(person)))


# --- changing a status ---------------------------------------------------------------------


def record_change(
    person: Person,
    to_status: str,
    *,
    on: date | None = None,
    source: str,
    user: User | None = None,
) -> CardStatusEvent | None:
    """Record that the person's card status became ``to_status`` on ``on`` (default today).

    Returns the new event, or None when the history already says so. A change
    dated in the past is slotted into the history at its date; the staff row
    then shows the status of the latest change. A same-status edit with another
    date corrects the date of the latest change instead of adding one.
    """
    values = _record(person, _events_for(person), to_status, on, source=source, user=user)
    event = None if values is None else CardStatusEvent(**values)
    if event is not None:
        db.session.add(event)
    db.session.flush()
    return event


def record_changes(changes: list[tuple[Person, str, date | None]], *, source: str,
                   user: User | None = None) -> int:
    """``record_change`` for many people at once (imports): their histories read in a few
    queries and the new events inserted by one executemany (as rows, not objects: the ORM
    would insert them one by one to learn their ids). Each person appears at most once.
    Returns how many events were recorded."""
    events = _events_for_many([person for person, _status, _on in changes])
    rows = [
        values for person, to_status, on in changes
        if (values := _record(person, events[person_key(person)], to_status, on, source=source, user=user))
    ]
    if rows:
        db.session.execute(insert(CardStatusEvent), rows)
    db.session.flush()
    return len(rows)


def _record(person: Person, events: list[CardStatusEvent], to_status: str, on: date | None, *,
            source: str, user: User | None) -> dict | None:
    """The new event's columns, worked out against the person's events (sorted by effective
    date and id), with the person's row updated; None when nothing changes. Writes nothing."""
    if to_status not in CARD_STATUSES:
        raise DomainError("invalid", _l("Check the highlighted fields."),
                          fields={"card_status": _l("Use none, applied or received.")})
    on = on or today()
    if on > today():
        raise DomainError("invalid", _l("Check the highlighted fields."),
                          fields={"card_status_on": _l("The date cannot be in the future.")})
    before = _timeline(person, events).on(on)
    if before == to_status:
        if source == "edit" and person.card_status == to_status and person.card_status_on != on:
            _correct_latest_date(person, events, to_status, on)
        return None
    kind, person_id = person_key(person)
    # The row shows the latest change by (effective date, id): the new event gets the
    # highest id, so it is the latest unless an existing one is dated after it.
    if events and events[-1].effective_on > on:
        person.card_status, person.card_status_on = events[-1].to_status, events[-1].effective_on
    else:
        person.card_status, person.card_status_on = to_status, on
    return {
        "staff_id": person_id if kind == "staff" else None,
        "dependent_id": person_id if kind == "dependent" else None,
        "from_status": before,
        "to_status": to_status,
        "effective_on": on,
        "source": source,
        "user_id": user.id if user else None,
        "recorded_at": utcnow(),
    }


def record_application(person: Person, *, on: date | None = None, source: str = "desk",
                       user: User | None = None) -> CardStatusEvent | None:
    """The desk's "application submitted": none becomes applied; a received card stays received."""
    if person.card_status != "none":
        return None
    return record_change(person, "applied", on=on, source=source, user=user)


def _correct_latest_date(person: Person, events: list[CardStatusEvent], status: str, on: date) -> None:
    if events and events[-1].to_status == status and (len(events) == 1 or events[-2].effective_on <= on):
        events[-1].effective_on = on
    person.card_status_on = on


def edit_status(actor: Actor, person: Person, to_status: str, *, on: date | None = None) -> CardStatusEvent | None:
    """A chief's or admin's correction of a person's card status (the unit page); one event
    whether or not the history changed (``changed``)."""
    require_role(actor, "chief", "admin")
    event = record_change(person, to_status, on=on, source="edit", user=actor.user)
    kind, person_id = person_key(person)
    audit.record("card_status.edit", actor=actor, target_type=kind, target_id=person_id, status=to_status,
                 on=(on or today()).isoformat(), changed=event is not None)
    return event


# --- reasons for not applying --------------------------------------------------------------


def set_reason(staff: Staff, reason: str | None, note: str = "", *, user: User | None = None) -> None:
    """Record (or with no reason, clear) why a staff member has not applied."""
    note = (note or "").strip()
    refuse_individual_numbers({"note": note})
    existing = db.session.scalar(select(NonApplicationReason).where(NonApplicationReason.staff_id == staff.id))
    if not reason:
        if existing is not None:
            db.session.delete(existing)
            db.session.flush()
        return
    if reason not in NON_APPLICATION_REASONS:
        raise DomainError("invalid", _l("Check the highlighted fields."),
                          fields={"reason": _l("Choose a reason from the list.")})
    if len(note) > 200:
        raise DomainError("invalid", _l("Check the highlighted fields."),
                          fields={"note": _l("Keep the note under 200 characters.")})
    if existing is None:
        existing = NonApplicationReason(staff_id=staff.id)
        db.session.add(existing)
    existing.reason = reason
    existing.note = note
    existing.recorded_by_id = user.id if user else None
    existing.recorded_at = utcnow()
    db.session.flush()


def edit_reason(actor: Actor, staff: Staff, reason: str | None, note: str = "") -> None:
    """A chief's or admin's record of why a staff member has not applied (or, with none, its removal)."""
    require_role(actor, "chief", "admin")
    set_reason(staff, reason, note, user=actor.user)
    audit.record("reason.edit", actor=actor, target_type="staff", target_id=staff.id, reason=reason or "")


def reasons_for(staff_ids: Iterable[int]) -> dict[int, NonApplicationReason]:
    ids = list(staff_ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(NonApplicationReason).where(NonApplicationReason.staff_id.in_(ids)))
    return {r.staff_id: r for r in rows}


# --- many people at once, for reports -------------------------------------------------------


@dataclass(frozen=True)
class PersonRow:
    kind: str  # "staff" or "dependent"
    id: int
    unit_id: int
    timeline: Timeline
    #: The days the person belonged to the department (services.membership).
    member: membership.Window = membership.ALWAYS


def all_timelines(unit_ids: set[int] | None = None) -> list[PersonRow]:
    """Every staff member and dependent (of the given units) with their timeline and the days
    they belonged, in three queries: counts as of a day take only those who belonged then."""
    staff_q = select(Staff.id, Staff.unit_id, Staff.card_status, Staff.card_status_on,
                     Staff.joined_on, Staff.left_on, Staff.created_at)
    dep_q = select(Dependent.id, Staff.unit_id, Dependent.card_status, Dependent.card_status_on,
                   Dependent.joined_on, Dependent.left_on, Dependent.created_at, Dependent.staff_id).join(
        Staff, Dependent.staff_id == Staff.id)
    if unit_ids is not None:
        staff_q = staff_q.where(Staff.unit_id.in_(unit_ids))
        dep_q = dep_q.where(Staff.unit_id.in_(unit_ids))
    people: dict[tuple[str, int], PersonRow] = {}
    staff_windows: dict[int, membership.Window] = {}
    for pid, unit_id, status, status_on, joined_on, left_on, created_at in db.session.execute(staff_q):
        member = membership.window(joined_on, left_on, created_at)
        staff_windows[pid] = member
        people[("staff", pid)] = PersonRow("staff", pid, unit_id, Timeline(status, status_on), member)
    for pid, unit_id, status, status_on, joined_on, left_on, made_at, owner in db.session.execute(dep_q):
        # A dependent recorded before issue 18 (no creation time) counts from its staff member's.
        member = membership.window(joined_on, left_on, made_at).within(staff_windows.get(owner, membership.ALWAYS))
        people[("dependent", pid)] = PersonRow("dependent", pid, unit_id, Timeline(status, status_on), member)
    events = db.session.execute(
        select(CardStatusEvent.staff_id, CardStatusEvent.dependent_id, CardStatusEvent.from_status,
               CardStatusEvent.to_status, CardStatusEvent.effective_on)
        .order_by(CardStatusEvent.effective_on, CardStatusEvent.id)
    )
    for staff_id, dependent_id, from_status, to_status, effective_on in events:
        key = ("staff", staff_id) if staff_id is not None else ("dependent", dependent_id or 0)
        row = people.get(key)
        if row is not None:
            row.timeline.add(effective_on, from_status, to_status)
    fallback = today()
    for row in people.values():
        row.timeline.close(fallback)
    return list(people.values())


def earliest_known_day() -> date | None:
    """The first day the system knows anything about: the earliest event or staff record."""
    first_event = db.session.scalar(select(db.func.min(CardStatusEvent.effective_on)))
    first_staff = db.session.scalar(select(db.func.min(Staff.created_at)))
    days = [d for d in (first_event, first_staff.astimezone(TOKYO).date() if first_staff else None) if d]
    return min(days) if days else None


def count_by_unit(rows: list[PersonRow], day: date) -> dict[int, dict[str, int]]:
    """Per unit: staff, staff_applied, staff_received, dependents, dependents_applied, dependents_received."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(
        ("staff", "staff_applied", "staff_received", "dependents", "dependents_applied",
         "dependents_received"), 0))
    for row in rows:
        if not row.member.holds(day):
            continue  # not yet joined, or already left, on that day
        bucket = counts[row.unit_id]
        prefix = "staff" if row.kind == "staff" else "dependents"
        bucket[prefix] += 1
        status = row.timeline.on(day)
        if status in APPLIED:
            bucket[f"{prefix}_applied"] += 1
        if status == "received":
            bucket[f"{prefix}_received"] += 1
    return counts
