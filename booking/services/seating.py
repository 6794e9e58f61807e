"""Seating a party: one seat per person, from the chosen slot on, without a gap (DESIGN rule 11).

A family of three on a two-desk session is served in two slots in a row: the party fills the
chosen slot as far as it has free seats, then the free seats of the following slots of the same
session, in order, never skipping one. A chosen slot with no free seat is never a start.

``plan`` is the rule on plain numbers (the slot grid uses it to grey out the times a party cannot
start at); ``seat`` applies it to the database through services.capacity. A party of one, the
booking rush, costs exactly what it did before parties: one conditional UPDATE.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy import select

from ..extensions import db
from ..models import Slot
from . import capacity


def plan(free_seats: Iterable[int], people: int) -> list[int] | None:
    """How many of the party sit in each slot from the chosen one on, or None when they cannot.

    ``free_seats`` are the free seats of the chosen slot and the ones after it, in time order.
    """
    counts: list[int] = []
    left = people
    for free in free_seats:
        if left <= 0:
            break
        if free <= 0:
            return None  # never skip a slot: the party stays together
        counts.append(min(free, left))
        left -= counts[-1]
    return counts if left <= 0 and counts else None


def reach(free_seats: Sequence[int]) -> list[int]:
    """For each slot, how many people a party starting there can bring (0 when it is full).

    The grid's rule in one pass from the end: a slot's reach is its free seats plus the next
    slot's reach, as long as it has a free seat itself.
    """
    result = [0] * len(free_seats)
    following = 0
    for index in range(len(free_seats) - 1, -1, -1):
        free = max(free_seats[index], 0)
        following = free + following if free else 0
        result[index] = following
    return result


def seat(slot: Slot, people: int) -> list[int]:
    """Take the seats of a party starting in ``slot``: the slot id of each person, in order.

    Refused with ``slot_full`` when the party cannot be seated. The caller holds the write lock
    (services.database.begin_write); on PostgreSQL the slots a spanning party needs are locked
    here, in id order as everywhere, before their counters are read.
    """
    if capacity.try_take(slot.id, people):
        return [slot.id] * people
    if people > 1:
        following = _lock_following(slot, people)
        counts = plan([s.capacity - s.seats_taken for s in following], people)
        if counts is not None:
            seats: list[int] = []
            for next_slot, count in zip(following, counts):
                capacity.take(next_slot.id, count)
                seats += [next_slot.id] * count
            return seats
    capacity.refuse_full()


def release(slot_ids: Iterable[int]) -> None:
    """Give back the seats of the people sitting in these slots (one slot id per person)."""
    for slot_id, count in sorted(Counter(slot_ids).items()):
        capacity.release(slot_id, count)


def _lock_following(slot: Slot, people: int) -> list[Slot]:
    """The chosen slot and up to ``people - 1`` slots after it in the session, locked, in time order."""
    ids = db.session.scalars(
        select(Slot.id)
        .where(Slot.desk_session_id == slot.desk_session_id, Slot.starts_at >= slot.starts_at)
        .order_by(Slot.starts_at, Slot.id)
        .limit(people)
    ).all()
    locked = db.session.scalars(
        select(Slot).where(Slot.id.in_(ids)).order_by(Slot.id)
        .with_for_update().execution_options(populate_existing=True)
    ).all()
    return sorted(locked, key=lambda s: (s.starts_at, s.id))
