"""Families book together (API.md "Parties"; DESIGN rule 11): one seat per person from the chosen
slot on, continuing in the following slots without a gap; bookings for dependents only; moves that
change who comes; cancelling frees every seat. Through the JSON API, with ``flask check`` as the
independent recount of every slot."""
from __future__ import annotations

from collections import Counter

import pytest

from booking.extensions import db
from booking.models import Reservation, Slot
from booking.services import directory
from booking.services.actor import Actor


@pytest.fixture
def family(app, world, admin_headers, client):
    """The world's booker with a spouse and two more children: dependent ids [spouse, child, child]."""
    ids = [world.dependent_id]
    for given, kana in (("大翔", "ヒロト"), ("結衣", "ユイ")):
        response = client.post(f"/api/v1/staff/{world.staff_number}/dependents", json={
            "family_name": "佐藤", "given_name": given, "family_name_kana": "サトウ", "given_name_kana": kana,
            "relation": "子"}, headers=admin_headers)
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    return ids


def seats(app, world) -> list[int]:
    with app.app_context():
        return [db.session.get(Slot, slot_id).seats_taken for slot_id in world.slot_ids]


def check_passes(runner) -> None:
    result = runner.invoke(args=["check", "--no-photos"])
    assert result.exit_code == 0, result.output


def times(body: dict) -> list[str]:
    return [p["starts_at"][11:16] for p in body["people"]]


def test_a_family_of_four_on_a_two_desk_session_is_seated_in_two_slots_in_a_row(app, world, family, book, runner):
    response = book(0, dependent_ids=family)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["slot"]["id"] == world.slot_ids[0]
    assert times(body) == ["15:00", "15:00", "15:10", "15:10"]
    assert [p["kind"] for p in body["people"]] == ["staff", "dependent", "dependent", "dependent"]
    assert seats(app, world) == [2, 2, 0, 0, 0, 0]
    check_passes(runner)


def test_a_party_fills_the_chosen_slot_first_then_the_next_ones(app, world, family, book, runner):
    [(number, code)] = world.add_staff(1)
    assert book(1, staff_number=number, invitation_code=code).status_code == 201  # 15:10 has one seat left
    body = book(1, dependent_ids=family).get_json()
    assert times(body) == ["15:10", "15:20", "15:20", "15:30"]
    assert seats(app, world) == [0, 2, 2, 1, 0, 0]
    check_passes(runner)


def test_a_party_that_cannot_be_seated_without_a_gap_is_refused_and_nothing_changes(app, world, family, book):
    pairs = world.add_staff(2)
    for number, code in pairs:  # 15:10 full: a party starting at 15:00 would have to skip it
        assert book(1, staff_number=number, invitation_code=code).status_code == 201
    before = seats(app, world)
    response = book(0, dependent_ids=family)
    assert response.status_code == 409 and response.get_json()["error"] == "slot_full"
    assert seats(app, world) == before
    with app.app_context():
        assert db.session.query(Reservation).count() == 2


def test_a_full_slot_is_never_a_start_and_the_last_slot_has_no_next(app, world, family, book):
    pairs = world.add_staff(2)
    for number, code in pairs:
        assert book(0, staff_number=number, invitation_code=code).status_code == 201
    assert book(0, dependent_ids=family[:1]).get_json()["error"] == "slot_full"
    assert book(5, dependent_ids=family[:2]).get_json()["error"] == "slot_full"  # 3 people, 2 desks, no 16:00
    assert book(4, dependent_ids=family[:2]).status_code == 201


def test_dependents_only_leaves_the_staff_member_out(app, world, family, book, runner):
    body = book(0, dependent_ids=family[1:], include_staff=False).get_json()
    assert [p["kind"] for p in body["people"]] == ["dependent", "dependent"]
    assert seats(app, world)[0] == 2
    check_passes(runner)


def test_dependents_only_needs_someone_to_come(world, book):
    response = book(0, include_staff=False)
    assert response.status_code == 422
    assert "dependent_ids" in response.get_json()["fields"]


def test_a_dependents_only_booking_still_counts_as_the_staff_members_one_booking(world, family, book):
    assert book(0, dependent_ids=family[:1], include_staff=False).status_code == 201
    again = book(2)
    assert again.status_code == 409 and again.get_json()["error"] == "already_reserved"


def test_a_move_can_add_the_staff_member_who_booked_only_for_the_children(app, client, world, family, book, runner):
    mine = book(0, dependent_ids=family[1:], include_staff=False).get_json()
    response = client.post(f"/api/v1/reservations/{mine['manage_token']}/reschedule",
                           json={"slot_id": world.slot_ids[0], "include_staff": True})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert Counter(p["kind"] for p in body["people"]) == {"staff": 1, "dependent": 2}
    assert times(body) == ["15:00", "15:00", "15:10"]
    assert seats(app, world) == [2, 1, 0, 0, 0, 0]
    check_passes(runner)


def test_a_move_can_change_which_dependents_come(app, client, world, family, book, runner):
    mine = book(0, dependent_ids=family).get_json()
    response = client.post(f"/api/v1/reservations/{mine['manage_token']}/reschedule",
                           json={"slot_id": world.slot_ids[3], "dependent_ids": family[:1]})
    assert response.status_code == 200
    assert times(response.get_json()) == ["15:30", "15:30"]
    assert seats(app, world) == [0, 0, 0, 2, 0, 0]
    check_passes(runner)


def test_while_a_party_moves_its_own_seats_count_as_free(app, client, world, family, book, runner):
    # Four people at 15:00-15:10; moved to start at 15:10, they need 15:10 (its own two seats)
    # and 15:20: without counting their own seats as free, 15:10 would look full.
    [(number, code)] = world.add_staff(1)
    mine = book(0, dependent_ids=family).get_json()
    assert book(2, staff_number=number, invitation_code=code).status_code == 201
    response = client.post(f"/api/v1/reservations/{mine['manage_token']}/reschedule",
                           json={"slot_id": world.slot_ids[1]})
    assert response.status_code == 200, response.get_json()
    assert times(response.get_json()) == ["15:10", "15:10", "15:20", "15:30"]
    assert seats(app, world) == [0, 2, 2, 1, 0, 0]
    check_passes(runner)


def test_a_move_that_does_not_fit_leaves_the_party_as_it_was(app, client, world, family, book):
    mine = book(0, dependent_ids=family).get_json()
    before = client.get(f"/api/v1/reservations/{mine['manage_token']}").get_json()
    response = client.post(f"/api/v1/reservations/{mine['manage_token']}/reschedule",
                           json={"slot_id": world.slot_ids[5]})
    assert response.status_code == 409 and response.get_json()["error"] == "slot_full"
    assert client.get(f"/api/v1/reservations/{mine['manage_token']}").get_json() == before
    assert seats(app, world) == [2, 2, 0, 0, 0, 0]


def test_cancelling_a_spanning_party_frees_every_seat_at_once(app, client, world, family, book, runner):
    mine = book(0, dependent_ids=family).get_json()
    response = client.post(f"/api/v1/reservations/{mine['manage_token']}/cancel")
    assert response.get_json()["status"] == "cancelled"
    assert seats(app, world) == [0] * 6
    check_passes(runner)


def test_flask_check_counts_each_person_in_the_slot_they_sit_in(app, world, family, book, runner):
    book(0, dependent_ids=family)
    with app.app_context():  # damage: the second slot forgets the two people sitting in it
        db.session.get(Slot, world.slot_ids[1]).seats_taken = 0
        db.session.commit()
    result = runner.invoke(args=["check", "--no-photos"])
    assert result.exit_code == 1
    assert "slot_seats_mismatch" in result.output and f"slot {world.slot_ids[1]} " in result.output


def test_birth_dates_are_optional_real_dates(client, world, admin_headers):
    base = {"family_name": "佐藤", "given_name": "蓮", "family_name_kana": "サトウ", "given_name_kana": "レン",
            "relation": "長男"}
    made = client.post(f"/api/v1/staff/{world.staff_number}/dependents",
                       json={**base, "birth_date": "2020-05-01"}, headers=admin_headers)
    assert made.status_code == 201 and made.get_json()["birth_date"] == "2020-05-01"
    for bad in ("2999-01-01", "1800-01-01", "2020-13-01", 20200501):
        response = client.post(f"/api/v1/staff/{world.staff_number}/dependents",
                               json={**base, "birth_date": bad}, headers=admin_headers)
        assert response.status_code == 422, bad
        assert "birth_date" in response.get_json()["fields"], bad


def test_the_session_edit_moves_a_spanning_party_whole(app, ctx, world, family, book, runner):
    from datetime import time

    from booking.models import DeskSession
    from booking.services import accounts, campaigns

    book(2, dependent_ids=family)  # 15:20 and 15:30
    session = db.session.get(DeskSession, world.session_id)
    admin = accounts.ensure_user("edit-admin", "admin")
    change = campaigns.update_session(Actor("page", user=admin), session, venue_id=world.venue_id,
                                      day=world.session_day, start=time(15), end=time(15, 20), slot_minutes=10,
                                      desks=2, resolution="move")
    db.session.commit()
    [(reservation, _old, new)] = change.moved
    reservation = db.session.get(Reservation, reservation.id)
    assert sorted(p.slot.starts_at for p in reservation.people) == sorted([new, new] + [new.replace(minute=10)] * 2)
    assert [s.seats_taken for s in db.session.get(DeskSession, world.session_id).slots] == [2, 2]
    check_passes(runner)


def test_phone_bookings_take_include_staff_too(app, world, family, client, admin_headers):
    response = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number, "dependent_ids": family,
        "include_staff": False}, headers=admin_headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["channel"] == "phone" and times(body) == ["15:00", "15:00", "15:10"]


def test_only_own_dependents_in_a_move(app, client, world, book, admin_headers):
    [(number, _code)] = world.add_staff(1)
    with app.test_request_context():
        other = directory.add_dependent(Actor.system(), directory.staff_by_number(number), family_name="田中",
                                        given_name="花", family_name_kana="タナカ", given_name_kana="ハナ",
                                        relation="妻")
        db.session.commit()
        other_id = other.id
    mine = book(0).get_json()
    response = client.post(f"/api/v1/reservations/{mine['manage_token']}/reschedule",
                           json={"slot_id": world.slot_ids[0], "dependent_ids": [other_id]})
    assert response.status_code == 422 and "dependent_ids" in response.get_json()["fields"]


def test_the_roster_and_the_calendar_file_show_each_persons_time(client, world, family, book, admin_headers):
    import csv
    import io

    from icalendar import Calendar

    body = book(0, dependent_ids=family).get_json()
    roster = client.get(f"/api/v1/sessions/{world.session_id}/roster.csv", headers=admin_headers)
    rows = list(csv.DictReader(io.StringIO(roster.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["time"], r["kind"]) for r in rows] == [
        ("15:00", "staff"), ("15:00", "dependent"), ("15:10", "dependent"), ("15:10", "dependent")]
    ics = client.get(body["ics_url"].replace("http://localhost", ""))
    event = Calendar.from_ical(ics.data).walk("VEVENT")[0]
    assert (event.decoded("dtstart").strftime("%H:%M"), event.decoded("dtend").strftime("%H:%M")) == ("15:00", "15:20")
    description = str(event.get("description"))
    assert "(15:00)" in description and "(15:10)" in description
