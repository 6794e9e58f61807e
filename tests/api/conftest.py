"""Helpers for the JSON API tests: booking through the API as a booker would."""
from __future__ import annotations

import pytest

from booking.extensions import db
from booking.models import Reservation, Slot


@pytest.fixture
def book(client, world):
    """POST /api/v1/reservations as the world's booker; keyword arguments override the body."""

    def post(slot_index: int = 0, **overrides):
        payload = {
            "slot_id": world.slot_ids[slot_index],
            "staff_number": world.staff_number,
            "invitation_code": world.invitation_code,
        }
        payload.update(overrides)
        headers = payload.pop("headers", None)
        return client.post("/api/v1/reservations", json=payload, headers=headers)

    return post


@pytest.fixture
def seats(app):
    """seats_taken of a slot, read straight from the database."""

    def read(slot_id: int) -> int:
        with app.app_context():
            return db.session.get(Slot, slot_id).seats_taken

    return read


@pytest.fixture
def reservation_row(app):
    def read(reservation_id: int) -> tuple[str, int, int]:
        with app.app_context():
            r = db.session.get(Reservation, reservation_id)
            return r.status, r.slot_id, r.sequence

    return read


def check_digit(eleven: str) -> str:
    """The individual number's check digit, written here from the rule (not taken from the app).

    P_n is the n-th of the first eleven digits counted from the right, Q_n is
    n + 1 for n <= 6 and n - 5 above; the check digit is 11 - (sum P_n Q_n mod 11),
    or 0 when that remainder is 0 or 1.
    """
    total = sum(int(d) * (n + 1 if n <= 6 else n - 5) for n, d in enumerate(reversed(eleven), start=1))
    remainder = total % 11
    return "0" if remainder <= 1 else str(11 - remainder)


@pytest.fixture
def my_number():
    """A 12-digit number that passes the check digit; the prefix is padded to eleven digits."""

    def make(prefix: str = "") -> str:
        eleven = (prefix + "31415926535")[:11]
        return eleven + check_digit(eleven)

    return make


@pytest.fixture
def not_my_number(my_number):
    """Twelve digits whose last digit is wrong for the check digit."""

    def make(prefix: str = "") -> str:
        valid = my_number(prefix)
        return valid[:11] + str((int(valid[11]) + 1) % 10)

    return make
