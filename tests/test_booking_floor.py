"""bench/floor.py, the bare booking endpoint the rush is compared with (issue 21), answers as the
app's POST /api/v1/reservations does and writes the same rows, so that its figures measure the
same work and bench/rush.py's checks hold for its bookings."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import text

from booking.extensions import db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def floor(app, tmp_path):
    spec = importlib.util.spec_from_file_location("bench_floor", ROOT / "bench" / "floor.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    floor_app = module.create_app(app.config["SQLALCHEMY_DATABASE_URI"], app.config["SECRET_KEY"],
                                  instance=tmp_path, wake_worker=False)
    yield floor_app.test_client()
    floor_app.extensions["floor.db"].close()


def book(client, slot_id: int, number: str, code: str):
    return client.post("/api/v1/reservations", headers={"Accept-Language": "en"},
                       json={"slot_id": slot_id, "staff_number": number, "invitation_code": code})


def rows(app, sql: str, **params) -> list[dict]:
    with app.app_context():
        return [dict(r._mapping) for r in db.session.execute(text(sql), params)]


def shape(value):
    """The keys of every object, and the type of every other value."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def test_a_floor_booking_answers_and_writes_what_the_apps_does(app, client, world, floor):
    (number_a, code_a), (number_b, code_b) = world.add_staff(2)
    slot_id = world.slot_ids[0]
    by_app = book(client, slot_id, number_a, code_a)
    by_floor = book(floor, slot_id, number_b, code_b)
    assert by_app.status_code == by_floor.status_code == 201, (by_app.get_json(), by_floor.get_json())
    a, f = by_app.get_json(), by_floor.get_json()
    assert shape(a) == shape(f)
    assert a["slot"] == f["slot"]
    assert f["people"] == [{"kind": "staff", "name": f"田中 {number_b}", "starts_at": a["people"][0]["starts_at"]}]
    for key in ("manage_url", "ics_url", "qr_url"):
        assert f[key].replace(f["manage_token"], "T") == a[key].replace(a["manage_token"], "T")
    # The floor's manage token opens its booking in the app: the same HMAC, the same stored hash.
    shown = client.get(f"/api/v1/reservations/{f['manage_token']}")
    assert shown.status_code == 200 and shown.get_json()["code"] == f["code"]

    ids = (a["id"], f["id"])
    reservations = rows(app, "SELECT * FROM reservations WHERE id IN (:a, :f) ORDER BY id", a=ids[0], f=ids[1])
    apart = {"id", "code", "staff_id", "token_nonce", "manage_token_hash", "created_at", "updated_at"}
    by_app_row, by_floor_row = ({k: v for k, v in r.items() if k not in apart} for r in reservations)
    assert by_app_row == by_floor_row
    people = rows(app, "SELECT reservation_id, kind, dependent_id, slot_id FROM reservation_people "
                  "WHERE reservation_id IN (:a, :f) ORDER BY reservation_id", a=ids[0], f=ids[1])
    assert [p["kind"] for p in people] == ["staff", "staff"] and {p["slot_id"] for p in people} == {slot_id}
    events = rows(app, "SELECT user_id, actor, channel, action, target_type, target_id, remote_addr, details "
                  "FROM audit_events WHERE action = 'reservation.book' ORDER BY id")
    assert [e["actor"] for e in events] == [f"booker:{number_a}", f"booker:{number_b}"]
    assert [e["target_id"] for e in events] == [str(ids[0]), str(ids[1])]
    apart = {"actor", "target_id", "details"}
    assert {k: v for k, v in events[0].items() if k not in apart} == {k: v for k, v in events[1].items()
                                                                       if k not in apart}
    messages = rows(app, "SELECT * FROM outbox_messages ORDER BY id")
    assert [m["reservation_id"] for m in messages] == list(ids)
    apart = {"id", "reservation_id", "staff_id", "next_attempt_at", "created_at"}
    assert {k: v for k, v in messages[0].items() if k not in apart} == {k: v for k, v in messages[1].items()
                                                                         if k not in apart}
    assert messages[1]["locale"] == "en"
    assert rows(app, "SELECT seats_taken FROM slots WHERE id = :s", s=slot_id) == [{"seats_taken": 2}]


def test_the_floor_refuses_as_the_app_does(app, client, world, floor):
    (number_a, code_a), (number_b, code_b), (number_c, code_c) = world.add_staff(3)
    full = world.slot_ids[0]
    assert book(client, full, number_a, code_a).status_code == 201
    assert book(floor, full, number_b, code_b).status_code == 201
    for who in (client, floor):
        wrong = book(who, world.slot_ids[1], number_c, "AAAAAAAA")
        assert (wrong.status_code, wrong.get_json()["error"]) == (403, "invalid_invitation")
        refused = book(who, full, number_c, code_c)
        assert (refused.status_code, refused.get_json()["error"]) == (409, "slot_full")
    for who, number, code in ((client, number_b, code_b), (floor, number_a, code_a)):
        again = book(who, world.slot_ids[1], number, code)
        assert (again.status_code, again.get_json()["error"]) == (409, "already_reserved")
        assert again.get_json()["reservation_code"]
    assert rows(app, "SELECT seats_taken FROM slots WHERE id = :s", s=world.slot_ids[1]) == [{"seats_taken": 0}]
