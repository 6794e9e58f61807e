"""A queue sent twice at the same moment (a retry while the first answer is on its way; two
tablets with the same person), over real HTTP: one check-in, one answer per id.

Runs on SQLite by default and on PostgreSQL with TEST_DATABASE_URL set.
"""
from __future__ import annotations

import threading
import uuid

import requests
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import CheckIn, DeskAction
from booking.services import accounts


def signed_in(app, base: str, username: str) -> requests.Session:
    with app.app_context():
        accounts.ensure_user(username, "clerk", password="pass-word-1")
        db.session.commit()
    session = requests.Session()
    answer = session.post(f"{base}/office/login", data={"username": username, "password": "pass-word-1"},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 302
    return session


def race(sends) -> list[requests.Response]:
    barrier = threading.Barrier(len(sends))
    results: list[requests.Response | None] = [None] * len(sends)

    def one(index: int) -> None:
        barrier.wait()
        results[index] = sends[index]()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(sends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def test_the_same_action_sent_twice_at_once_is_one_check_in_and_one_answer(app, live_server, book_for, world):
    world.add_staff(4)
    booked = [book_for()] + [book_for(str(n), slot_index=1 + i // 2) for i, n in enumerate(range(2000, 2004))]
    desk = signed_in(app, live_server, "desk-A")

    for reservation in booked:
        fields = {"action_id": str(uuid.uuid4()), "device_id": "tablet-aaaa", "kind": "check_in",
                  "reservation_id": str(reservation.id)}
        url = f"{live_server}/desk/sessions/{reservation.session_id}/actions"
        results = race([lambda url=url, fields=fields: desk.post(url, files={"x": ("", b"")}, data=fields, timeout=30)] * 2)
        assert [r.status_code for r in results] == [200, 200], [r.text[:300] for r in results]
        assert results[0].json() == results[1].json()
        assert results[0].json()["outcome"] == "applied"

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 2 + 4
        assert db.session.scalar(select(func.count()).select_from(DeskAction)) == 5


def test_two_tablets_sending_the_same_person_at_once_make_one_check_in_and_a_note(app, live_server, book_for,
                                                                                 world):
    booked = book_for()
    tablets = [signed_in(app, live_server, "desk-A"), signed_in(app, live_server, "desk-B")]
    url = f"{live_server}/desk/sessions/{booked.session_id}/actions"

    def send(tablet: requests.Session, device: str):
        fields = {"action_id": str(uuid.uuid4()), "device_id": device, "kind": "check_in",
                  "reservation_id": str(booked.id)}
        return lambda: tablet.post(url, files={"x": ("", b"")}, data=fields, timeout=30)

    results = race([send(tablets[0], "tablet-aaaa"), send(tablets[1], "tablet-bbbb")])

    assert sorted(r.json()["outcome"] for r in results) == ["applied", "note"], [r.text[:300] for r in results]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 2
