"""The invariants the whole database must keep, checked after the fact (``flask check``).

The booking code keeps these rules with conditional updates, unique indexes and
transactions; this module does not trust any of that and recounts everything
from the rows. An operator runs it after a crash, a restore or a kill -9 of a
worker: any violation printed here is a bug or damage, never normal data.

Seats: a reservation holds its seats from booking until it is cancelled (a
no-show's seats stay taken: the time has passed). Purged or erased
reservations leave their seats in roster_tallies (services.retention).
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, func, select

from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    CheckIn,
    DeskSession,
    Photo,
    Reservation,
    ReservationPerson,
    RosterTally,
    Slot,
    WaitlistHold,
)

#: Reservation statuses whose seats count in slots.seats_taken.
SEAT_HOLDING_STATUSES = ("booked", "checked_in", "no_show")

#: Kinds of violation, in the order they are reported.
KINDS = (
    "slot_seats_mismatch",
    "slot_over_capacity",
    "duplicate_active_reservation",
    "reservation_seats_mismatch",
    "party_split",
    "reservation_campaign_mismatch",
    "check_in_not_checked_in",
    "photo_file_missing",
    "photo_file_stray",
)


@dataclass(frozen=True)
class Violation:
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass
class Report:
    violations: list[Violation] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations


#: Where each check adds the violations it finds.
Add = Callable[[Violation], None]


def check(photo_dir: str | os.PathLike | None = None, *, stray_grace_seconds: float = 600) -> Report:
    """Every invariant over the whole database (and the photo folder when given); read-only."""
    report = Report()
    add = report.violations.append
    _seats(add)
    _active_duplicates(add)
    _reservation_people(add)
    _reservation_campaigns(add)
    _check_ins(add)
    if photo_dir is not None:
        _photos(Path(photo_dir), stray_grace_seconds, add)
    report.counts = {
        "slots": db.session.scalar(select(func.count(Slot.id))) or 0,
        "reservations": db.session.scalar(select(func.count(Reservation.id))) or 0,
        "check_ins": db.session.scalar(select(func.count(CheckIn.id))) or 0,
        "photos": db.session.scalar(select(func.count(Photo.id))) or 0,
    }
    report.violations.sort(key=lambda v: KINDS.index(v.kind))
    return report


def _seats(add: Add) -> None:
    # Each person holds a seat in the slot they sit in: a party may span several slots.
    held = (
        select(ReservationPerson.slot_id, func.count(ReservationPerson.id).label("seats"))
        .join(Reservation, Reservation.id == ReservationPerson.reservation_id)
        .where(Reservation.status.in_(SEAT_HOLDING_STATUSES))
        .group_by(ReservationPerson.slot_id)
        .subquery()
    )
    tallied = (
        select(RosterTally.slot_id, func.sum(RosterTally.people).label("seats"))
        .where(RosterTally.status.in_(SEAT_HOLDING_STATUSES))
        .group_by(RosterTally.slot_id)
        .subquery()
    )
    # Seats a waiting-list offer holds count as taken until it is accepted or expires.
    offered = (
        select(WaitlistHold.slot_id, func.sum(WaitlistHold.seats).label("seats"))
        .group_by(WaitlistHold.slot_id)
        .subquery()
    )
    expected = func.coalesce(held.c.seats, 0) + func.coalesce(tallied.c.seats, 0) + func.coalesce(offered.c.seats, 0)
    rows = db.session.execute(
        select(Slot.id, Slot.desk_session_id, Slot.seats_taken, Slot.capacity, expected)
        .outerjoin(held, held.c.slot_id == Slot.id)
        .outerjoin(tallied, tallied.c.slot_id == Slot.id)
        .outerjoin(offered, offered.c.slot_id == Slot.id)
        .where((Slot.seats_taken != expected) | (Slot.seats_taken > Slot.capacity))
        .order_by(Slot.id)
    )
    for slot_id, session_id, taken, capacity, wanted in rows:
        if taken != wanted:
            add(Violation("slot_seats_mismatch",
                          f"slot {slot_id} (session {session_id}) has seats_taken {taken} but its "
                          f"reservations hold {wanted} seats"))
        if taken > capacity:
            add(Violation("slot_over_capacity",
                          f"slot {slot_id} (session {session_id}) has {taken} seats taken of capacity {capacity}"))


def _active_duplicates(add: Add) -> None:
    rows = db.session.execute(
        select(Reservation.staff_id, Reservation.campaign_id, func.count(Reservation.id))
        .where(Reservation.status.in_(ACTIVE_STATUSES))
        .group_by(Reservation.staff_id, Reservation.campaign_id)
        .having(func.count(Reservation.id) > 1)
        .order_by(Reservation.staff_id, Reservation.campaign_id)
    )
    for staff_id, campaign_id, count in rows:
        add(Violation("duplicate_active_reservation",
                      f"staff {staff_id} holds {count} active reservations in campaign {campaign_id}"))


def _reservation_people(add: Add) -> None:
    people = (
        select(ReservationPerson.reservation_id, func.count(ReservationPerson.id).label("n"))
        .group_by(ReservationPerson.reservation_id)
        .subquery()
    )
    count = func.coalesce(people.c.n, 0)
    rows = db.session.execute(
        select(Reservation.id, Reservation.code, Reservation.seats, count)
        .outerjoin(people, people.c.reservation_id == Reservation.id)
        .where(Reservation.seats != count)
        .order_by(Reservation.id)
    )
    for reservation_id, code, seats, n in rows:
        add(Violation("reservation_seats_mismatch",
                      f"reservation {reservation_id} ({code}) has seats {seats} but {n} people"))
    # A booking for dependents only lists no staff member; none lists them twice.
    staff_rows = db.session.execute(
        select(ReservationPerson.reservation_id, func.count(ReservationPerson.id))
        .where(ReservationPerson.kind == "staff")
        .group_by(ReservationPerson.reservation_id)
        .having(func.count(ReservationPerson.id) > 1)
    )
    for reservation_id, n in staff_rows:
        add(Violation("reservation_seats_mismatch",
                      f"reservation {reservation_id} lists the staff member {n} times"))
    _party_seating(add)


def _party_seating(add: Add) -> None:
    """A party sits in its first slot and the slots right after it in the same session, never
    with a gap: one person in each slot at least, from the first to the last it uses."""
    rows = db.session.execute(
        select(Reservation.id, Reservation.code, Reservation.slot_id, ReservationPerson.slot_id,
               Slot.desk_session_id, Slot.starts_at)
        .join(ReservationPerson, ReservationPerson.reservation_id == Reservation.id)
        .join(Slot, Slot.id == ReservationPerson.slot_id)
        .where(Reservation.status.in_(ACTIVE_STATUSES), Reservation.seats > 1)
        .order_by(Reservation.id)
    ).all()
    parties: dict[tuple[int, str, int], list[tuple[int, int, datetime]]] = {}
    for rid, code, first, person_slot, session_id, starts_at in rows:
        parties.setdefault((rid, code, first), []).append((person_slot, session_id, starts_at))
    spanning = {key: seats for key, seats in parties.items() if len({s for s, _, _ in seats}) > 1}
    if not spanning:
        return
    session_slots: dict[int, list[int]] = {}
    for slot_id, session_id in db.session.execute(
        select(Slot.id, Slot.desk_session_id)
        .where(Slot.desk_session_id.in_({session for seats in spanning.values() for _, session, _ in seats}))
        .order_by(Slot.starts_at, Slot.id)
    ):
        session_slots.setdefault(session_id, []).append(slot_id)
    for (rid, code, first), seats in spanning.items():
        sessions = {session for _, session, _ in seats}
        used = {slot for slot, _, _ in seats}
        order = session_slots.get(next(iter(sessions)), [])
        expected = order[order.index(first):order.index(first) + len(used)] if first in order else []
        if len(sessions) != 1 or set(expected) != used:
            add(Violation("party_split",
                          f"reservation {rid} ({code}) is not seated in its first slot and the ones right after it"))


def _reservation_campaigns(add: Add) -> None:
    rows = db.session.execute(
        select(Reservation.id, Reservation.campaign_id, DeskSession.campaign_id)
        .join(Slot, Slot.id == Reservation.slot_id)
        .join(DeskSession, DeskSession.id == Slot.desk_session_id)
        .where(Reservation.campaign_id != DeskSession.campaign_id)
        .order_by(Reservation.id)
    )
    for reservation_id, own, actual in rows:
        add(Violation("reservation_campaign_mismatch",
                      f"reservation {reservation_id} says campaign {own} but its slot belongs to campaign {actual}"))


def _check_ins(add: Add) -> None:
    # services.checkin moves a reservation to checked_in in the same transaction
    # that writes its first check-in, and nothing moves it out again (cancel and
    # reschedule refuse anything not booked), so a check-in on any other status is damage.
    rows = db.session.execute(
        select(CheckIn.id, Reservation.id, Reservation.status)
        .join(ReservationPerson, ReservationPerson.id == CheckIn.reservation_person_id)
        .join(Reservation, and_(Reservation.id == ReservationPerson.reservation_id,
                                Reservation.status != "checked_in"))
        .order_by(CheckIn.id)
    )
    for check_in_id, reservation_id, status in rows:
        add(Violation("check_in_not_checked_in",
                      f"check-in {check_in_id} belongs to reservation {reservation_id}, which is {status}"))


def _photos(folder: Path, grace: float, add: Add) -> None:
    names = dict(db.session.execute(select(Photo.storage_name, Photo.id)).all())
    on_disk: dict[str, float] = {}
    if folder.is_dir():
        for entry in os.scandir(folder):
            if entry.is_file():
                on_disk[entry.name] = entry.stat().st_mtime
    for name, photo_id in sorted(names.items(), key=lambda item: item[1]):
        if name not in on_disk:
            add(Violation("photo_file_missing", f"photo {photo_id}: file {folder / name} is missing"))
    cutoff = time.time() - grace
    for name, mtime in sorted(on_disk.items()):
        # A file written a moment ago may belong to an upload whose transaction is
        # still open; only older files with no row are strays.
        if name not in names and mtime < cutoff:
            add(Violation("photo_file_stray", f"file {folder / name} has no photo row"))
