"""API.md "Booking": reserving with an invitation or over the phone, and managing by token."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.localtime import TOKYO

CONTRACT_FIELDS = {"id", "code", "status", "channel", "slot", "people", "manage_token", "manage_url",
                   "ics_url", "qr_url"}


def _is_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def _local(url: str) -> str:
    return url.replace("http://localhost", "")


def make_campaign(client, headers, *, opens: datetime, closes: datetime, cutoff: int = 60,
                  published: bool = True) -> int:
    response = client.post("/api/v1/campaigns", json={
        "title": "臨時", "booking_opens_at": opens.isoformat(), "booking_closes_at": closes.isoformat(),
        "published": published, "cutoff_minutes": cutoff}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def make_session(client, headers, campaign_id: int, venue_id: int, starts: datetime, *, minutes: int = 10,
                 desks: int = 2) -> list[int]:
    starts = starts.astimezone(TOKYO).replace(second=0, microsecond=0)
    ends = starts + timedelta(minutes=minutes)
    response = client.post(f"/api/v1/campaigns/{campaign_id}/sessions", json={
        "venue_id": venue_id, "date": starts.date().isoformat(), "start_time": starts.strftime("%H:%M"),
        "end_time": ends.strftime("%H:%M"), "slot_minutes": minutes, "desks": desks}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return [s["id"] for s in response.get_json()["slots"]]


def now() -> datetime:
    return datetime.now(UTC)


# --- booking ------------------------------------------------------------------------


def test_a_booking_answers_201_with_the_contract_fields(client, world, book):
    response = book(0)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) >= CONTRACT_FIELDS
    assert body["status"] == "booked"
    assert body["channel"] == "web"
    assert body["slot"] == {
        "id": world.slot_ids[0],
        "starts_at": f"{world.session_day.isoformat()}T15:00:00+09:00",
        "ends_at": f"{world.session_day.isoformat()}T15:10:00+09:00",
        "venue": {"id": world.venue_id, "name": "中央消防署 会議室", "address": "福島市天神町11-28"},
    }
    assert body["people"] == [{"kind": "staff", "name": "佐藤 翔太", "starts_at": body["slot"]["starts_at"]}]
    assert body["manage_url"].endswith(f"/r/{body['manage_token']}")
    assert body["manage_token"] in body["ics_url"]
    assert body["manage_token"] in body["qr_url"]


def test_the_reservation_code_is_short_and_has_no_look_alikes(client, world, book):
    code = book(0).get_json()["code"]
    assert 4 <= len(code) <= 8
    assert not set(code) & set("0O1IL2Z5S8B")


def test_a_reservation_code_already_taken_is_drawn_again(client, world, book, monkeypatch):
    # The codes are random; make the second booking draw the first one's code before a free one.
    from booking.services import tokens

    draws = iter(["KKKKKK", "KKKKKK", "MMMMMM"])
    monkeypatch.setattr(tokens, "random_code", lambda length=6: next(draws))
    [(number, code)] = world.add_staff(1)
    first = book(0)
    second = book(1, staff_number=number, invitation_code=code)
    assert (first.status_code, second.status_code) == (201, 201), second.get_data(as_text=True)
    assert (first.get_json()["code"], second.get_json()["code"]) == ("KKKKKK", "MMMMMM")
    assert client.get(f"/api/v1/reservations/{second.get_json()['manage_token']}").get_json()["code"] == "MMMMMM"


def test_a_dependent_comes_along_and_takes_a_seat(client, world, book, seats):
    response = book(0, dependent_ids=[world.dependent_id])
    assert response.status_code == 201
    at = response.get_json()["slot"]["starts_at"]
    assert response.get_json()["people"] == [
        {"kind": "staff", "name": "佐藤 翔太", "starts_at": at}, {"kind": "dependent", "name": "佐藤 陽子", "starts_at": at}]
    assert seats(world.slot_ids[0]) == 2


def test_someone_elses_dependent_cannot_come_along(client, world, book, admin_headers):
    [(number, _code)] = world.add_staff(1)
    other = client.post(f"/api/v1/staff/{number}/dependents", json={
        "family_name": "田中", "given_name": "花", "family_name_kana": "タナカ", "given_name_kana": "ハナ",
        "relation": "妻"}, headers=admin_headers).get_json()
    body = _is_error(book(0, dependent_ids=[other["id"]]), 422, "invalid")
    assert set(body["fields"]) == {"dependent_ids"}


def test_the_invitation_code_may_be_typed_loosely(client, world, book):
    code = world.invitation_code
    typed = "－".join([code[:4], code[4:]]).lower()
    typed = typed.translate(str.maketrans("abcdefghijklmnopqrstuvwxyz0123456789",
                                          "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ０１２３４５６７８９"))
    assert book(0, invitation_code=typed).status_code == 201


def test_an_admin_books_over_the_phone_without_a_code(client, world, admin_headers):
    response = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number}, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["channel"] == "phone"


def test_a_phone_booking_for_an_unknown_staff_number_is_404(client, world, admin_headers):
    response = client.post("/api/v1/reservations", json={"slot_id": world.slot_ids[0], "staff_number": "99999"},
                           headers=admin_headers)
    _is_error(response, 404, "not_found")


@pytest.mark.parametrize("role", ["chief", "clerk"])
def test_only_an_admin_may_book_without_a_code(client, world, make_token, role):
    token = make_token(role, unit_code="A" if role == "chief" else None)
    response = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number},
        headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.get_json()["error"] in {"invalid_invitation", "forbidden"}


def test_booking_without_a_code_or_token_is_an_invalid_invitation(client, world):
    response = client.post("/api/v1/reservations", json={"slot_id": world.slot_ids[0],
                                                         "staff_number": world.staff_number})
    _is_error(response, 403, "invalid_invitation")


def test_a_wrong_invitation_code_is_403(client, world, book, seats):
    _is_error(book(0, invitation_code="AAAAAAAA"), 403, "invalid_invitation")
    assert seats(world.slot_ids[0]) == 0


def test_a_right_code_with_another_staff_number_is_403(client, world, book):
    world.add_staff(1)
    _is_error(book(0, staff_number="2000"), 403, "invalid_invitation")


def test_an_unknown_staff_number_is_403_without_saying_which_part_was_wrong(client, world, book):
    wrong_number = _is_error(book(0, staff_number="99999"), 403, "invalid_invitation")
    wrong_code = _is_error(book(0, invitation_code="AAAAAAAA"), 403, "invalid_invitation")
    assert wrong_number["message"] == wrong_code["message"]


def test_a_full_slot_answers_409_slot_full(client, world, book, seats):
    assert book(0, dependent_ids=[world.dependent_id]).status_code == 201
    [(number, code)] = world.add_staff(1)
    _is_error(book(0, staff_number=number, invitation_code=code), 409, "slot_full")
    assert seats(world.slot_ids[0]) == 2


def test_a_second_booking_in_the_campaign_answers_409_with_the_first_code(client, world, book, seats):
    first = book(0).get_json()
    body = _is_error(book(1), 409, "already_reserved")
    assert body["reservation_code"] == first["code"]
    assert seats(world.slot_ids[1]) == 0


def test_an_unknown_slot_is_404(client, world, book):
    _is_error(book(0, slot_id=999999), 404, "not_found")


def test_a_slot_of_a_draft_campaign_is_404(client, world, book, admin_headers):
    campaign = make_campaign(client, admin_headers, opens=now() - timedelta(days=1),
                             closes=now() + timedelta(days=30), published=False)
    [slot, *_] = make_session(client, admin_headers, campaign, world.venue_id, now() + timedelta(days=3))
    _is_error(book(0, slot_id=slot), 404, "not_found")


def test_booking_before_the_window_opens_is_closed(client, world, book, admin_headers, seats):
    campaign = make_campaign(client, admin_headers, opens=now() + timedelta(days=1),
                             closes=now() + timedelta(days=30))
    [slot, *_] = make_session(client, admin_headers, campaign, world.venue_id, now() + timedelta(days=10))
    _is_error(book(0, slot_id=slot), 422, "booking_closed")
    assert seats(slot) == 0


def test_booking_after_the_window_closes_is_closed(client, world, book, admin_headers):
    campaign = make_campaign(client, admin_headers, opens=now() - timedelta(days=3),
                             closes=now() - timedelta(minutes=1))
    [slot, *_] = make_session(client, admin_headers, campaign, world.venue_id, now() + timedelta(days=10))
    _is_error(book(0, slot_id=slot), 422, "booking_closed")


def test_booking_inside_the_cut_off_before_the_slot_is_closed(client, world, book, admin_headers):
    campaign = make_campaign(client, admin_headers, opens=now() - timedelta(days=3),
                             closes=now() + timedelta(days=3), cutoff=60)
    [soon, *_] = make_session(client, admin_headers, campaign, world.venue_id, now() + timedelta(minutes=40))
    _is_error(book(0, slot_id=soon), 422, "booking_closed")


def test_booking_just_outside_the_cut_off_is_open(client, world, book, admin_headers):
    campaign = make_campaign(client, admin_headers, opens=now() - timedelta(days=3),
                             closes=now() + timedelta(days=3), cutoff=60)
    [later, *_] = make_session(client, admin_headers, campaign, world.venue_id, now() + timedelta(minutes=70))
    assert book(0, slot_id=later).status_code == 201


def test_booking_a_slot_that_has_started_is_closed(client, world, book, admin_headers):
    campaign = make_campaign(client, admin_headers, opens=now() - timedelta(days=3),
                             closes=now() + timedelta(days=3), cutoff=0)
    [started, *_] = make_session(client, admin_headers, campaign, world.venue_id, now() - timedelta(minutes=5),
                                 minutes=60)
    _is_error(book(0, slot_id=started), 422, "booking_closed")


def slot_of_campaign_for(client, headers, world, unit_codes: list[str]) -> int:
    """The first slot of an open campaign for these units only."""
    response = client.post("/api/v1/campaigns", json={
        "title": "for " + ", ".join(unit_codes), "booking_opens_at": (now() - timedelta(days=1)).isoformat(),
        "booking_closes_at": (now() + timedelta(days=30)).isoformat(), "published": True,
        "target_unit_codes": unit_codes}, headers=headers)
    return make_session(client, headers, response.get_json()["id"], world.venue_id, now() + timedelta(days=5))[0]


def test_a_campaign_for_the_bookers_parent_unit_takes_the_booking(client, world, book, admin_headers):
    # Station A belongs to HQ: a campaign for HQ is for everyone under it.
    assert book(0, slot_id=slot_of_campaign_for(client, admin_headers, world, ["HQ"])).status_code == 201


def test_a_campaign_for_other_units_refuses_the_booker(client, world, book, admin_headers):
    client.post("/api/v1/units", json={"code": "B", "name": "北消防署"}, headers=admin_headers)
    _is_error(book(0, slot_id=slot_of_campaign_for(client, admin_headers, world, ["B"])), 403, "not_targeted")


# --- managing with the token ------------------------------------------------------------


def test_the_manage_token_shows_the_reservation(client, world, book):
    booked = book(0, dependent_ids=[world.dependent_id]).get_json()
    response = client.get(f"/api/v1/reservations/{booked['manage_token']}")
    assert response.status_code == 200
    assert response.get_json() == booked


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
    lambda t: t[1:],
    lambda t: t + "x",
    lambda t: "x" * 200,
])
def test_a_tampered_manage_token_is_404(client, world, book, tamper):
    token = book(0).get_json()["manage_token"]
    _is_error(client.get(f"/api/v1/reservations/{tamper(token)}"), 404, "not_found")
    _is_error(client.post(f"/api/v1/reservations/{tamper(token)}/cancel"), 404, "not_found")
    _is_error(client.post(f"/api/v1/reservations/{tamper(token)}/reschedule",
                          json={"slot_id": world.slot_ids[1]}), 404, "not_found")


def test_cancel_answers_cancelled_and_frees_the_seats_at_once(client, world, book, seats):
    token = book(0, dependent_ids=[world.dependent_id]).get_json()["manage_token"]
    response = client.post(f"/api/v1/reservations/{token}/cancel")
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    assert seats(world.slot_ids[0]) == 0
    [(number, code)] = world.add_staff(1)
    assert book(0, staff_number=number, invitation_code=code).status_code == 201


def test_cancelling_twice_frees_the_seats_once(client, world, book, seats):
    token = book(0).get_json()["manage_token"]
    [(number, code)] = world.add_staff(1)
    assert book(0, staff_number=number, invitation_code=code).status_code == 201
    assert client.post(f"/api/v1/reservations/{token}/cancel").status_code == 200
    again = client.post(f"/api/v1/reservations/{token}/cancel")
    assert again.status_code == 200
    assert again.get_json()["status"] == "cancelled"
    assert seats(world.slot_ids[0]) == 1


def test_after_a_cancel_the_person_can_book_again(client, world, book):
    token = book(0).get_json()["manage_token"]
    client.post(f"/api/v1/reservations/{token}/cancel")
    assert book(3).status_code == 201


def test_reschedule_moves_the_booking_and_its_seats(client, world, book, seats, reservation_row):
    booked = book(0, dependent_ids=[world.dependent_id]).get_json()
    response = client.post(f"/api/v1/reservations/{booked['manage_token']}/reschedule",
                           json={"slot_id": world.slot_ids[2]})
    assert response.status_code == 200, response.get_json()
    moved = response.get_json()
    assert moved["id"] == booked["id"]
    assert moved["code"] == booked["code"]
    assert moved["status"] == "booked"
    assert moved["slot"]["id"] == world.slot_ids[2]
    assert moved["slot"]["starts_at"] == f"{world.session_day.isoformat()}T15:20:00+09:00"
    assert len(moved["people"]) == 2
    assert (seats(world.slot_ids[0]), seats(world.slot_ids[2])) == (0, 2)
    assert reservation_row(booked["id"])[2] == 1
    assert client.get(f"/api/v1/reservations/{booked['manage_token']}").get_json()["slot"]["id"] == world.slot_ids[2]


def test_reschedule_into_a_full_slot_changes_nothing(client, world, book, seats, reservation_row):
    mine = book(0).get_json()
    [(n1, c1), (n2, c2)] = world.add_staff(2)
    assert book(1, staff_number=n1, invitation_code=c1).status_code == 201
    assert book(1, staff_number=n2, invitation_code=c2).status_code == 201
    before = client.get(f"/api/v1/reservations/{mine['manage_token']}").get_json()
    _is_error(client.post(f"/api/v1/reservations/{mine['manage_token']}/reschedule",
                          json={"slot_id": world.slot_ids[1]}), 409, "slot_full")
    assert client.get(f"/api/v1/reservations/{mine['manage_token']}").get_json() == before
    assert (seats(world.slot_ids[0]), seats(world.slot_ids[1])) == (1, 2)
    assert reservation_row(mine["id"]) == ("booked", world.slot_ids[0], 0)


def test_a_party_of_two_cannot_move_into_the_last_slot_with_one_seat_left(client, world, book, seats):
    # The last slot of the session has no next slot for the second person to continue in.
    mine = book(0, dependent_ids=[world.dependent_id]).get_json()
    [(n1, c1)] = world.add_staff(1)
    assert book(5, staff_number=n1, invitation_code=c1).status_code == 201
    _is_error(client.post(f"/api/v1/reservations/{mine['manage_token']}/reschedule",
                          json={"slot_id": world.slot_ids[5]}), 409, "slot_full")
    assert (seats(world.slot_ids[0]), seats(world.slot_ids[5])) == (2, 1)


def test_reschedule_to_the_same_slot_changes_nothing(client, world, book, seats, reservation_row):
    mine = book(0).get_json()
    response = client.post(f"/api/v1/reservations/{mine['manage_token']}/reschedule",
                           json={"slot_id": world.slot_ids[0]})
    assert response.status_code == 200
    assert seats(world.slot_ids[0]) == 1
    assert reservation_row(mine["id"]) == ("booked", world.slot_ids[0], 0)


def test_a_cancelled_booking_cannot_be_moved(client, world, book, seats):
    token = book(0).get_json()["manage_token"]
    client.post(f"/api/v1/reservations/{token}/cancel")
    _is_error(client.post(f"/api/v1/reservations/{token}/reschedule", json={"slot_id": world.slot_ids[1]}),
              409, "not_movable")
    assert seats(world.slot_ids[1]) == 0


def test_reschedule_to_an_unknown_slot_is_404(client, world, book):
    token = book(0).get_json()["manage_token"]
    _is_error(client.post(f"/api/v1/reservations/{token}/reschedule", json={"slot_id": 999999}),
              404, "not_found")


def test_reschedule_into_another_campaign_is_a_field_error(client, world, book, admin_headers):
    token = book(0).get_json()["manage_token"]
    campaign = make_campaign(client, admin_headers, opens=now() - timedelta(days=1),
                             closes=now() + timedelta(days=30))
    [slot, *_] = make_session(client, admin_headers, campaign, world.venue_id, now() + timedelta(days=4))
    body = _is_error(client.post(f"/api/v1/reservations/{token}/reschedule", json={"slot_id": slot}),
                     422, "invalid")
    assert set(body["fields"]) == {"slot_id"}


def test_reschedule_inside_the_cut_off_is_closed(client, world, book, admin_headers, seats):
    campaign = make_campaign(client, admin_headers, opens=now() - timedelta(days=1),
                             closes=now() + timedelta(days=30))
    later = make_session(client, admin_headers, campaign, world.venue_id, now() + timedelta(days=2))
    soon = make_session(client, admin_headers, campaign, world.venue_id, now() + timedelta(minutes=30))
    token = book(0, slot_id=later[0]).get_json()["manage_token"]
    _is_error(client.post(f"/api/v1/reservations/{token}/reschedule", json={"slot_id": soon[0]}),
              422, "booking_closed")
    assert (seats(later[0]), seats(soon[0])) == (1, 0)


def test_reschedule_without_a_slot_is_a_field_error(client, world, book):
    token = book(0).get_json()["manage_token"]
    body = _is_error(client.post(f"/api/v1/reservations/{token}/reschedule", json={}), 422, "invalid")
    assert set(body["fields"]) == {"slot_id"}


def test_the_manage_links_answer_their_media_types(client, world, book):
    booked = book(0).get_json()
    assert client.get(_local(booked["manage_url"])).status_code == 200
    ics = client.get(_local(booked["ics_url"]))
    assert (ics.status_code, ics.mimetype) == (200, "text/calendar")
    png = client.get(_local(booked["qr_url"]))
    assert (png.status_code, png.mimetype) == (200, "image/png")
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")
