"""DESIGN.md rules 1, 2 and 4 under real concurrency: threads released together by a
barrier send real HTTP requests to the app served by a threaded server, on SQLite
or on PostgreSQL (TEST_DATABASE_URL)."""
from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select

from booking.extensions import db
from booking.models import ACTIVE_STATUSES, Reservation, ReservationPerson, Slot


class Call:
    """One HTTP request whose connection is opened before the barrier, so that only
    sending the request is left when the threads are released."""

    def __init__(self, base: str, method: str, path: str, payload: dict | None = None):
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        self.method, self.path, self.payload = method, path, payload

    def __call__(self) -> tuple[int, dict]:
        body = json.dumps(self.payload).encode() if self.payload is not None else None
        headers = {"Content-Type": "application/json", "Accept-Language": "en", "Connection": "close"}
        self.connection.request(self.method, self.path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        self.connection.close()
        return response.status, json.loads(data)


def concurrently(calls: list[Call]) -> list[tuple[int, dict]]:
    """Run the calls in one thread each, all released at once; answers in call order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Call) -> None:
        try:
            call.connection.connect()
            barrier.wait(timeout=60)
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread below
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    if errors:
        raise errors[0]
    assert all(r is not None for r in results), "a request did not finish"
    return results


def book_call(base: str, slot_id: int, staff_number: str, code: str, dependent_ids=()) -> Call:
    return Call(base, "POST", "/api/v1/reservations", {
        "slot_id": slot_id, "staff_number": staff_number, "invitation_code": code,
        "dependent_ids": list(dependent_ids)})


def book(base: str, slot_id: int, staff_number: str, code: str, dependent_ids=()) -> dict:
    call = book_call(base, slot_id, staff_number, code, dependent_ids)
    status, body = call()
    assert status == 201, body
    return body


def seats_in_step(app) -> list[tuple[int, int, int]]:
    """Slots whose seats_taken differs from the seats of their active reservations."""
    with app.app_context():
        held = dict(db.session.execute(
            # One seat per person, in the slot that person sits in (a party may span slots).
            select(ReservationPerson.slot_id, func.count(ReservationPerson.id))
            .join(Reservation, Reservation.id == ReservationPerson.reservation_id)
            .where(Reservation.status.in_(ACTIVE_STATUSES))
            .group_by(ReservationPerson.slot_id)
        ).all())
        return [(s.id, s.seats_taken, held.get(s.id, 0)) for s in db.session.scalars(select(Slot))
                if s.seats_taken != held.get(s.id, 0)]


def seats_taken(app, slot_id: int) -> int:
    with app.app_context():
        return db.session.get(Slot, slot_id).seats_taken


def active_reservations(app, **where) -> list[Reservation]:
    with app.app_context():
        query = select(Reservation).where(Reservation.status.in_(ACTIVE_STATUSES))
        for name, value in where.items():
            query = query.where(getattr(Reservation, name) == value)
        return list(db.session.scalars(query))


# --- rule 1: capacity ---------------------------------------------------------------


def test_forty_concurrent_bookings_at_a_two_seat_slot_seat_exactly_two(app, live_server, world):
    slot = world.slot_ids[0]
    pairs = world.add_staff(40)
    answers = concurrently([book_call(live_server, slot, number, code) for number, code in pairs])
    assert Counter(status for status, _ in answers) == {201: 2, 409: 38}
    assert {body["error"] for status, body in answers if status == 409} == {"slot_full"}
    assert seats_taken(app, slot) == 2
    assert len(active_reservations(app, slot_id=slot)) == 2
    assert seats_in_step(app) == []


def test_a_staff_member_with_a_dependent_takes_both_seats(app, live_server, world):
    slot = world.slot_ids[0]
    book(live_server, slot, world.staff_number, world.invitation_code, [world.dependent_id])
    assert seats_taken(app, slot) == 2
    [(number, code)] = world.add_staff(1)
    status, body = book_call(live_server, slot, number, code)()
    assert (status, body["error"]) == (409, "slot_full")


def test_a_party_racing_single_bookers_never_overfills_the_slot(app, live_server, world):
    slot = world.slot_ids[0]
    singles = world.add_staff(5)
    calls = [book_call(live_server, slot, world.staff_number, world.invitation_code, [world.dependent_id])]
    calls += [book_call(live_server, slot, number, code) for number, code in singles]
    answers = concurrently(calls)
    won = [body for status, body in answers if status == 201]
    first = min(p["starts_at"] for body in won for p in body["people"])
    # The party may continue in the next slot (API.md "Parties"); the first slot never overfills.
    assert sum(p["starts_at"] == first for body in won for p in body["people"]) == seats_taken(app, slot) <= 2
    assert {body["error"] for status, body in answers if status != 201} <= {"slot_full"}
    assert seats_in_step(app) == []


# --- rule 2: one active reservation per person and campaign --------------------------


def test_twelve_concurrent_attempts_by_one_person_make_one_reservation(app, client, live_server, world,
                                                                       admin_headers):
    created = client.post(f"/api/v1/campaigns/{world.campaign_id}/sessions", json={
        "venue_id": world.venue_id, "date": world.session_day.isoformat(), "start_time": "17:00",
        "end_time": "19:00", "slot_minutes": 10, "desks": 2}, headers=admin_headers).get_json()
    slot_ids = [s["id"] for s in created["slots"]]
    assert len(slot_ids) == 12
    answers = concurrently([book_call(live_server, s, world.staff_number, world.invitation_code)
                            for s in slot_ids])
    assert Counter(status for status, _ in answers) == {201: 1, 409: 11}
    [winner] = [body for status, body in answers if status == 201]
    refusals = [body for status, body in answers if status == 409]
    assert {body["error"] for body in refusals} == {"already_reserved"}
    assert {body["reservation_code"] for body in refusals} == {winner["code"]}
    assert len(active_reservations(app, staff_id=world.staff_id)) == 1
    assert seats_in_step(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.sum(Slot.seats_taken))) == 1


# --- rule 4 and moves -------------------------------------------------------------------


def test_cancel_frees_the_seats_for_the_next_booker_at_once(app, live_server, world):
    slot = world.slot_ids[0]
    first = book(live_server, slot, world.staff_number, world.invitation_code, [world.dependent_id])
    [(number, code)] = world.add_staff(1)
    assert book_call(live_server, slot, number, code)()[0] == 409
    status, body = Call(live_server, "POST", f"/api/v1/reservations/{first['manage_token']}/cancel")()
    assert (status, body["status"]) == (200, "cancelled")
    assert seats_taken(app, slot) == 0
    assert book_call(live_server, slot, number, code)()[0] == 201


def test_concurrent_cancel_and_reschedule_keep_seats_in_step(app, live_server, world):
    rounds = world.add_staff(6)
    source, target = world.slot_ids[0], world.slot_ids[1]
    outcomes = Counter()
    for number, code in rounds:
        token = book(live_server, source, number, code)["manage_token"]
        (cancel_status, cancelled), (move_status, moved) = concurrently([
            Call(live_server, "POST", f"/api/v1/reservations/{token}/cancel"),
            Call(live_server, "POST", f"/api/v1/reservations/{token}/reschedule", {"slot_id": target}),
        ])
        assert cancel_status == 200 and cancelled["status"] == "cancelled", cancelled
        assert (move_status, moved.get("error")) in {(200, None), (409, "not_movable")}, moved
        outcomes[move_status] += 1
        assert seats_in_step(app) == []
    assert (seats_taken(app, source), seats_taken(app, target)) == (0, 0)
    assert active_reservations(app) == []


def test_many_cancels_and_moves_at_once_keep_every_slot_in_step(app, live_server, world):
    pairs = world.add_staff(4)
    people = [(world.staff_number, world.invitation_code)] + pairs
    tokens = [book(live_server, world.slot_ids[i // 2], number, code)["manage_token"]
              for i, (number, code) in enumerate(people)]
    calls = []
    for i, token in enumerate(tokens):
        calls.append(Call(live_server, "POST", f"/api/v1/reservations/{token}/reschedule",
                          {"slot_id": world.slot_ids[(i + 3) % 6]}))
        calls.append(Call(live_server, "POST", f"/api/v1/reservations/{token}/reschedule",
                          {"slot_id": world.slot_ids[(i + 4) % 6]}))
        if i % 2:
            calls.append(Call(live_server, "POST", f"/api/v1/reservations/{token}/cancel"))
    answers = concurrently(calls)
    assert all(status in (200, 409) for status, _ in answers), answers
    assert {body.get("error") for status, body in answers if status == 409} <= {"slot_full", "not_movable"}
    assert seats_in_step(app) == []
    with app.app_context():
        assert all(s.seats_taken <= s.capacity for s in db.session.scalars(select(Slot)))


def test_two_bookings_swapping_slots_at_once_both_move(app, live_server, world):
    a = book(live_server, world.slot_ids[0], world.staff_number, world.invitation_code)
    [(number, code)] = world.add_staff(1)
    b = book(live_server, world.slot_ids[1], number, code)
    for _ in range(3):
        answers = concurrently([
            Call(live_server, "POST", f"/api/v1/reservations/{a['manage_token']}/reschedule",
                 {"slot_id": world.slot_ids[1]}),
            Call(live_server, "POST", f"/api/v1/reservations/{b['manage_token']}/reschedule",
                 {"slot_id": world.slot_ids[0]}),
        ])
        assert [status for status, _ in answers] == [200, 200], answers
        a, b = b, a
    assert seats_in_step(app) == []
    assert (seats_taken(app, world.slot_ids[0]), seats_taken(app, world.slot_ids[1])) == (1, 1)


def test_bookings_and_cancels_of_other_people_do_not_interfere(app, live_server, world):
    pairs = world.add_staff(10)
    booked = [book(live_server, world.slot_ids[i % 5], n, c) for i, (n, c) in enumerate(pairs)]
    late = world.add_staff(6, start=5000)
    calls = [Call(live_server, "POST", f"/api/v1/reservations/{b['manage_token']}/cancel") for b in booked[:6]]
    calls += [book_call(live_server, world.slot_ids[i % 6], n, c) for i, (n, c) in enumerate(late)]
    answers = concurrently(calls)
    assert all(status == 200 for status, _ in answers[:6])
    assert {status for status, _ in answers[6:]} <= {201, 409}
    assert seats_in_step(app) == []


# --- parties (API.md "Parties") ---------------------------------------------------------


def test_parties_and_single_bookings_at_once_never_overbook_split_or_leave_a_gap(app, live_server, world, runner):
    from booking.services import directory
    from booking.services.actor import Actor

    pairs = world.add_staff(14)
    families: dict[str, list[int]] = {}
    with app.test_request_context():
        for number, _code in pairs[:8]:
            staff = directory.staff_by_number(number)
            families[number] = [
                directory.add_dependent(Actor.system(), staff, family_name="田中", given_name=given,
                                        family_name_kana="タナカ", given_name_kana="コ", relation="子").id
                for given in ("一", "二")]
        db.session.commit()
    calls = [book_call(live_server, world.slot_ids[i % 3], number, code, families.get(number, ()))
             for i, (number, code) in enumerate(pairs)]
    answers = concurrently(calls)
    assert {status for status, _ in answers} <= {201, 409}
    assert {body["error"] for status, body in answers if status == 409} <= {"slot_full"}
    booked = [body for status, body in answers if status == 201]
    assert booked, "somebody must have been seated"
    slot_times = {}
    with app.app_context():
        for slot in db.session.scalars(select(Slot).order_by(Slot.starts_at)):
            slot_times[slot.starts_at.astimezone(UTC)] = slot
            assert slot.seats_taken <= slot.capacity
    order = sorted(slot_times)
    for body in booked:
        starts = sorted({datetime.fromisoformat(p["starts_at"]).astimezone(UTC) for p in body["people"]})
        # The party's slots are consecutive slots of the one session, from the chosen one on.
        first = order.index(starts[0])
        assert starts == order[first:first + len(starts)], body
        assert datetime.fromisoformat(body["slot"]["starts_at"]).astimezone(UTC) == starts[0]
    assert seats_in_step(app) == []
    result = runner.invoke(args=["check", "--no-photos"])
    assert result.exit_code == 0, result.output
    assert sum(len(b["people"]) for b in booked) == sum(s.seats_taken for s in slot_times.values())
