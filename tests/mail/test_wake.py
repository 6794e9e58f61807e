"""Waking the worker after commits: at most one wake-up per window per process in a rush, and one
at the window's end, so that every message still goes out at once (issue 13's "no slower")."""
from __future__ import annotations

import time

import pytest

from booking.extensions import db
from booking.models import Staff
from booking.services import bookings, directory
from booking.services.actor import Actor

pytestmark = pytest.mark.slow


def add_staff(app, count: int) -> list[int]:
    with app.test_request_context():
        unit = directory.unit_by_code("A")
        ids = [directory.add_staff(
            staff_number=f"9{n:03d}", family_name="田中", given_name=f"{n}", family_name_kana="タナカ",
            given_name_kana="タロウ", unit=unit, email=f"s{n}@example.jp").id for n in range(count)]
        db.session.commit()
        return ids


def book(app, world, staff_id: int, slot: int) -> None:
    with app.test_request_context(base_url="http://localhost"):
        bookings.book(Actor.system(), world.slot_ids[slot], db.session.get(Staff, staff_id))
        db.session.commit()


def pending(app) -> int:
    return app.extensions["huey"].pending_count()


def settled(app, seconds: float = 30.0) -> int:
    """The queue's length once the window's wake-up at its end has had time to go."""
    deadline = time.monotonic() + seconds
    count = pending(app)
    while time.monotonic() < deadline and app.extensions["outbox.wake"].trailing is not None:
        time.sleep(0.02)
        count = pending(app)
    return count


def test_a_burst_of_bookings_wakes_the_worker_twice_and_every_message_goes(mail_app, world, smtp, workers):
    mail_app.config["WAKE_COALESCE_SECONDS"] = 5.0  # the whole burst falls in one window
    from booking import worker

    worker.init_app(mail_app)
    staff = add_staff(mail_app, 12)
    book(mail_app, world, staff[0], 0)
    assert pending(mail_app) == 1  # the first commit wakes at once
    for n, staff_id in enumerate(staff[1:], start=1):
        book(mail_app, world, staff_id, n // 2)
    assert pending(mail_app) == 1  # the rest wait for the window's end…
    assert settled(mail_app) == 2  # …and then wake it once more
    workers.start()
    workers.wait_started()
    received = smtp.inbox.wait_for(12)
    assert sorted(m["To"] for m in received) == sorted(f"s{n}@example.jp" for n in range(12))
