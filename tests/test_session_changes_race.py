"""A session cancelled or edited while bookings are made, cancelled or moved in it.

A booking racing a session's cancellation is either refused or cancelled with the session, never
left booked in a cancelled session (SQLite and PostgreSQL). On PostgreSQL a session edit and a
cancel lock the same rows in the same order, so one waits for the other instead of deadlocking."""
from __future__ import annotations

import threading
import time as clock
from datetime import time

import pytest

from booking.extensions import db
from booking.models import DeskSession, Reservation, Slot, User
from booking.services import accounts, campaigns, capacity, directory, reservations
from booking.services.actor import Actor
from booking.services.errors import DomainError
from tests.conftest import requires_postgres


def _cancel_session(app, session_id: int, admin_id: int, done: threading.Event | None = None) -> None:
    with app.app_context():  # a context of its own, so a session and connection of its own
        session = db.session.get(DeskSession, session_id)
        campaigns.cancel_session(Actor("system", user=db.session.get(User, admin_id)), session)
        db.session.commit()
    if done is not None:
        done.set()


@pytest.fixture
def admin_id(app, world) -> int:
    with app.app_context():
        admin = accounts.ensure_user("race-admin", "admin")
        db.session.commit()
        return admin.id


def test_a_cancellation_between_the_checks_and_the_seats_refuses_the_booking(app, ctx, world, admin_id,
                                                                             monkeypatch):
    staff = directory.staff_by_number(world.staff_number)
    real_begin_write = reservations.begin_write

    def cancelled_meanwhile():
        # The admin's request commits after this booking read the session as open.
        _cancel_session(app, world.session_id, admin_id)
        real_begin_write()

    monkeypatch.setattr(reservations, "begin_write", cancelled_meanwhile)
    with pytest.raises(DomainError) as refused:
        reservations.reserve(world.slot_ids[0], staff)
    assert refused.value.code == "booking_closed"
    db.session.rollback()
    assert db.session.query(Reservation).count() == 0
    assert db.session.get(Slot, world.slot_ids[0]).seats_taken == 0


def test_a_cancellation_that_starts_after_the_seats_were_taken_waits_and_cancels_the_booking(app, ctx, world,
                                                                                              admin_id):
    staff = directory.staff_by_number(world.staff_number)
    reservation = reservations.reserve(world.slot_ids[0], staff)  # seats taken, not yet committed
    done = threading.Event()
    canceller = threading.Thread(target=_cancel_session, args=(app, world.session_id, admin_id, done))
    canceller.start()
    # It waits for this booking: the write lock on SQLite, the slot's row lock on PostgreSQL.
    assert not done.wait(1.0)
    db.session.commit()
    canceller.join(timeout=30)
    assert done.is_set()
    db.session.expire_all()
    assert db.session.get(DeskSession, world.session_id).is_cancelled
    assert db.session.get(Reservation, reservation.id).status == "cancelled"
    assert db.session.get(Slot, world.slot_ids[0]).seats_taken == 0


@requires_postgres
def test_a_cancel_and_a_session_edit_at_the_same_moment_wait_for_each_other(app, world, admin_id, monkeypatch):
    with app.app_context():
        staff = directory.staff_by_number(world.staff_number)
        reservation_id = reservations.reserve(world.slot_ids[0], staff).id
        db.session.commit()
    cancel_started = threading.Event()
    release_seats = capacity.release
    failures: dict[str, str] = {}

    def release_slowly(slot_id: int, seats: int) -> None:
        # The cancel holds its locks for a second: long enough for the edit to ask for the same rows.
        if threading.current_thread().name == "cancel":
            cancel_started.set()
            clock.sleep(1.0)
        release_seats(slot_id, seats)

    monkeypatch.setattr(capacity, "release", release_slowly)

    def cancel() -> None:
        with app.app_context():
            try:
                reservations.cancel(db.session.get(Reservation, reservation_id))
                db.session.commit()
            except Exception as error:  # noqa: BLE001  (reported below)
                failures["cancel"] = repr(error)[:300]

    def edit() -> None:
        cancel_started.wait(10)
        with app.app_context():
            try:
                session = db.session.get(DeskSession, world.session_id)
                campaigns.update_session(Actor("system", user=db.session.get(User, admin_id)), session, venue_id=session.venue_id,
                                         day=session.date, start=time(15), end=time(16), slot_minutes=10, desks=3)
                db.session.commit()
            except Exception as error:  # noqa: BLE001
                failures["edit"] = repr(error)[:300]

    threads = [threading.Thread(target=cancel, name="cancel"), threading.Thread(target=edit, name="edit")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == {}
    with app.app_context():
        assert db.session.get(Reservation, reservation_id).status == "cancelled"
        assert {s.capacity for s in db.session.get(DeskSession, world.session_id).slots} == {3}


@requires_postgres
def test_a_move_made_with_a_booking_another_tab_has_just_moved_does_not_deadlock(app, world):
    """The booker moves the same booking from two tabs while someone else moves out of the slot it
    has just landed in. The stale request must lock the slot the booking is in now, in order."""
    s0, _s1, s2, s3 = world.slot_ids[:4]
    (other_number, _code), = world.add_staff(1)
    with app.app_context():
        mine = reservations.reserve(s0, directory.staff_by_number(world.staff_number)).id
        theirs = reservations.reserve(s2, directory.staff_by_number(other_number)).id
        db.session.commit()
    failures: dict[str, str] = {}
    release_seats = capacity.release

    def release_slowly(slot_id: int, seats: int) -> None:
        if threading.current_thread().name == "stale" and slot_id == s2:
            other.start()  # it locks s2, then wants s3, which the stale move holds
            clock.sleep(1.0)
        release_seats(slot_id, seats)

    def move(name: str, reservation_id: int, target: int, before=None) -> None:
        with app.app_context():
            try:
                reservation = db.session.get(Reservation, reservation_id)
                if before:
                    before()
                reservations.reschedule(reservation, target)
                db.session.commit()
            except Exception as error:  # noqa: BLE001  (reported below)
                failures[name] = repr(error)[:300]
                db.session.rollback()

    def other_tab_moves_it() -> None:
        with app.app_context():
            reservations.reschedule(db.session.get(Reservation, mine), s2)
            db.session.commit()

    other = threading.Thread(target=move, args=("other", theirs, s3), name="other")
    stale = threading.Thread(target=move, args=("stale", mine, s3, other_tab_moves_it), name="stale")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(capacity, "release", release_slowly)
        stale.start()
        stale.join(30)
        other.join(30)
    assert failures == {}
    with app.app_context():
        assert db.session.get(Reservation, mine).slot_id == s3
        assert db.session.get(Reservation, theirs).slot_id == s3
        assert [db.session.get(Slot, s).seats_taken for s in (s0, s2, s3)] == [0, 0, 2]
