"""Seats: the one place that takes, releases and (for the desk's override) forces them (rule 1).

Capacity is decided by the database, not by counting in Python: a slot's row is only
updated when the seats still fit, and concurrent requests serialise on that row
(PostgreSQL re-checks the WHERE after the row lock; SQLite holds the write lock from
``database.begin_write``). ``CHECK (seats_taken <= capacity)`` backs it in the schema.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import NoReturn, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import BindParameter, Table, Update, bindparam, case, select, update

from ..extensions import db
from ..models import Slot
from .errors import DomainError

# A mapped class's table is a Table; the declarative base types ``__table__`` as any FromClause,
# which update() does not take.
_slots = cast(Table, Slot.__table__)


def try_take(slot_id: int, seats: int) -> bool:
    """Take ``seats`` in the slot if they still fit; False when they do not."""
    result = db.session.connection().execute(_take_statement(), {"slot_id": slot_id, "seats": seats})
    return result.rowcount == 1


def take(slot_id: int, seats: int) -> None:
    """Take ``seats`` in the slot, or refuse with ``slot_full``."""
    if not try_take(slot_id, seats):
        refuse_full()


def refuse_full() -> NoReturn:
    raise DomainError("slot_full", _l("This time is full. Choose another time."))


def release(slot_id: int, seats: int) -> None:
    """Give ``seats`` back at once (rule 4)."""
    db.session.connection().execute(_release_statement(), {"slot_id": slot_id, "seats": seats})


@dataclass(frozen=True)
class Forced:
    capacity_before: int
    seats_taken_before: int
    added_capacity: int


def force(slot_id: int, seats: int) -> Forced:
    """Seat people over capacity (the desk's override): the capacity grows by just the missing
    seats in the same statement, so the CHECK keeps holding and the change shows in the slot."""
    before = db.session.execute(
        select(_slots.c.capacity, _slots.c.seats_taken).where(_slots.c.id == slot_id)
    ).one()
    db.session.connection().execute(_force_statement(), {"slot_id": slot_id, "seats": seats})
    return Forced(before.capacity, before.seats_taken, max(before.seats_taken + seats - before.capacity, 0))


# Built once per process: the booking rush runs these thousands of times a minute.

@cache
def _take_statement() -> Update:
    seats: BindParameter[int] = bindparam("seats")
    return (
        update(_slots)
        .where(_slots.c.id == bindparam("slot_id"), _slots.c.seats_taken + seats <= _slots.c.capacity)
        .values(seats_taken=_slots.c.seats_taken + seats)
    )


@cache
def _release_statement() -> Update:
    return (
        update(_slots)
        .where(_slots.c.id == bindparam("slot_id"))
        .values(seats_taken=_slots.c.seats_taken - bindparam("seats"))
    )


@cache
def _force_statement() -> Update:
    seats: BindParameter[int] = bindparam("seats")
    return (
        update(_slots)
        .where(_slots.c.id == bindparam("slot_id"))
        .values(
            capacity=case((_slots.c.seats_taken + seats > _slots.c.capacity, _slots.c.seats_taken + seats),
                          else_=_slots.c.capacity),
            seats_taken=_slots.c.seats_taken + seats,
        )
    )
