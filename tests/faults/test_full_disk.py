"""SQLite on a full disk: writes answer 503 (page and JSON) with nothing half-written, and the app
serves again once there is room.

The tests run as root, so a real full file system cannot be made here without
mounting one. SQLite's own cap does the same from the inside: ``PRAGMA
max_page_count = 1`` on each of the app's connections caps the database at its
current size, and a write that needs one more page fails with SQLITE_FULL
("database or disk is full"), exactly the error a full disk gives. As on a real
full disk, a write that still fits in the free room of a page succeeds; the
tests book until the database is truly full, then check the failed write and
the ones after it.
"""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from conftest_helpers import PG_URL, pragma_switch
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Campaign, Reservation, Slot
from booking.services import directory, invitations, slots

#: Bookings tried before giving up on filling the database (it fills after a few dozen).
MAX_BOOKINGS = 600


@pytest.fixture
def disk_cap(app):
    """switch(True): every new connection of the app's engine is capped at the database's size."""
    if PG_URL:
        pytest.skip("SQLITE_FULL is an SQLite matter")

    yield from pragma_switch(app, "PRAGMA max_page_count = 1")  # cannot go below the size: caps it there


@pytest.fixture
def big_session(app, world):
    """A session with room for everyone, and 600 staff who may book it."""
    world.add_staff(MAX_BOOKINGS, start=5000)
    with app.test_request_context(base_url="http://localhost"):
        campaign = db.session.get(Campaign, world.campaign_id)
        session = slots.create_session(campaign, world.venue_id, world.session_day + timedelta(days=1),
                                       time(8), time(20), 10, 10)
        db.session.commit()
        return [s.id for s in session.slots]


def book_api(client, slot_id: int, staff_number: str, headers):
    return client.post("/api/v1/reservations", json={"slot_id": slot_id, "staff_number": staff_number},
                       headers={**headers, "Accept-Language": "en"})


def reservations(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Reservation.id)))


def fill_with_bookings(app, client, slot_ids, headers) -> tuple[int, object]:
    """Book staff 5000, 5001… until the first refusal; returns how many went through and that answer."""
    for n in range(MAX_BOOKINGS):
        response = book_api(client, slot_ids[n % len(slot_ids)], str(5000 + n), headers)
        if response.status_code != 201:
            return n, response
    pytest.fail(f"{MAX_BOOKINGS} bookings fitted in a database capped at its size")


def test_bookings_on_a_full_disk_are_a_503_json_with_nothing_half_written(app, client, big_session, admin_headers,
                                                                          disk_cap, runner, caplog):
    before = reservations(app)
    disk_cap(True)
    booked, refused = fill_with_bookings(app, client, big_session, admin_headers)
    assert refused.status_code == 503, refused.get_data(as_text=True)[:500]
    # It was the full disk that refused it (SQLITE_FULL), logged for the operator.
    assert any(r.exc_info and "database or disk is full" in str(r.exc_info[1]) for r in caplog.records)
    body = refused.get_json()
    assert body["error"] == "unavailable" and "Nothing was saved" in body["message"]
    assert int(refused.headers["Retry-After"]) > 0
    assert reservations(app) == before + booked  # the refused booking left no row
    # Still full: the same booking is refused again, nothing added.
    assert book_api(client, big_session[booked % len(big_session)], str(5000 + booked), admin_headers).status_code == 503
    assert reservations(app) == before + booked
    # Seats taken equal reservations everywhere, one reservation per person: the check passes.
    disk_cap(False)
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0, result.output


def test_a_booking_page_on_a_full_disk_is_a_calm_503_page(app, client, big_session, admin_headers, disk_cap):
    disk_cap(True)
    booked, _refused = fill_with_bookings(app, client, big_session, admin_headers)
    with app.test_request_context(base_url="http://localhost"):
        token = invitations.link_token(directory.staff_by_number(str(5000 + booked)))
    slot_id = big_session[booked % len(big_session)]
    session_id = _session_of(app, slot_id)
    response = client.post(f"/i/{token}/sessions/{session_id}?lang=en", data={"slot_id": slot_id})
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Temporarily unavailable" in page and "Nothing was saved" in page
    assert "Traceback" not in page and "OperationalError" not in page and "disk is full" not in page
    assert int(response.headers["Retry-After"]) > 0


def test_the_app_serves_writes_again_once_there_is_room(app, client, big_session, admin_headers, disk_cap):
    disk_cap(True)
    booked, refused = fill_with_bookings(app, client, big_session, admin_headers)
    assert refused.status_code == 503
    disk_cap(False)  # room again (the operator freed the disk); no restart
    response = book_api(client, big_session[booked % len(big_session)], str(5000 + booked), admin_headers)
    assert response.status_code == 201, response.get_json()
    assert reservations(app) == booked + 1


def _session_of(app, slot_id: int) -> int:
    with app.app_context():
        return db.session.get(Slot, slot_id).desk_session_id
