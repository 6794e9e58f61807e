"""Bookings taken by phone: the same reservation rules as the booker's own pages, channel "phone"."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEvent, Reservation, Slot, Staff
from booking.services import reservations


@pytest.fixture
def clerk(client, office, login):
    return login("clerk")


def test_the_clerk_finds_the_caller_by_kana_typed_in_hiragana(clerk, office):
    page = clerk.get("/office/phone", query_string={"q": "たかはし"}).get_data(as_text=True)
    assert "高橋 健一" in page and f"/office/phone/staff/{office.ids['staff_b']}" in page


def test_an_unknown_caller_is_said_plainly(clerk):
    page = clerk.get("/office/phone", query_string={"q": "9999"}).get_data(as_text=True)
    assert "Nobody matches" in page


def test_a_booking_by_phone_uses_channel_phone_and_shows_the_code_to_read_out(app, clerk, office):
    page = clerk.get(f"/office/phone/staff/{office.ids['staff_a']}").get_data(as_text=True)
    assert f"/office/phone/staff/{office.ids['staff_a']}/sessions/{office.ids['session']}" in page
    response = clerk.post(f"/office/phone/staff/{office.ids['staff_a']}/sessions/{office.ids['session']}",
                          data={"slot_id": office.ids["slots"][1], "dependent_ids": [office.ids["spouse"]]})
    assert response.status_code == 302
    with app.app_context():
        reservation = db.session.scalar(select(Reservation))
        assert (reservation.channel, reservation.booked_by_id, reservation.seats) == (
            "phone", office.ids["user_clerk"], 2)
        code = reservation.code
        assert db.session.get(Slot, office.ids["slots"][1]).seats_taken == 2
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reservation.book"))
        assert (event.actor, event.details["code"], event.details["staff_number"]) == ("clerk", code, "1001")
    done = clerk.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{code[:3]}-{code[3:]}" in done and "Read the time and the code out" in done
    assert "<form" not in done.split('class="card o-done"')[1].split("</section>")[0]  # nothing to print or send


def test_a_full_slot_is_refused_by_the_same_rule_as_online(app, clerk, office):
    with app.test_request_context():
        for number in ("2001", "1002"):
            reservations.reserve(office.ids["slots"][0], db.session.scalar(
                select(Staff).where(Staff.staff_number == number)))
        db.session.commit()
    response = clerk.post(f"/office/phone/staff/{office.ids['staff_a']}/sessions/{office.ids['session']}",
                          data={"slot_id": office.ids["slots"][0]})
    assert response.status_code == 409
    assert "This time is full" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Reservation).where(Reservation.staff_id == office.ids["staff_a"])) is None


def test_a_second_booking_in_the_same_campaign_is_turned_into_a_move(app, clerk, office):
    clerk.post(f"/office/phone/staff/{office.ids['staff_a']}/sessions/{office.ids['session']}",
               data={"slot_id": office.ids["slots"][1]})
    response = clerk.get(f"/office/phone/staff/{office.ids['staff_a']}/sessions/{office.ids['session']}")
    assert response.status_code == 302
    assert "already has a reservation" in clerk.get(response.headers["Location"]).get_data(as_text=True)


def test_the_clerk_moves_a_booking_for_the_caller(app, clerk, office):
    with app.test_request_context():
        booked = reservations.reserve(office.ids["slots"][0], db.session.get(Staff, office.ids["staff_a"]))
        db.session.commit()
        booked_id, code = booked.id, booked.code
    page = clerk.get(f"/office/phone/staff/{office.ids['staff_a']}").get_data(as_text=True)
    assert f"{code[:3]}-{code[3:]}" in page and "Move to another time" in page
    url = f"/office/phone/staff/{office.ids['staff_a']}/sessions/{office.ids['session']}"
    response = clerk.post(url, data={"slot_id": office.ids["slots"][3], "move": booked_id})
    assert response.status_code == 302 and "done=moved" in response.headers["Location"]
    with app.app_context():
        moved = db.session.get(Reservation, booked_id)
        assert (moved.slot_id, moved.code, moved.sequence) == (office.ids["slots"][3], code, 1)
        assert db.session.get(Slot, office.ids["slots"][0]).seats_taken == 0
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reservation.move")) is not None


def test_the_clerk_cancels_a_booking_for_the_caller(app, clerk, office):
    with app.test_request_context():
        booked = reservations.reserve(office.ids["slots"][0], db.session.get(Staff, office.ids["staff_a"]))
        db.session.commit()
        booked_id = booked.id
    response = clerk.post(f"/office/phone/staff/{office.ids['staff_a']}/reservations/{booked_id}/cancel")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Reservation, booked_id).status == "cancelled"
        assert db.session.get(Slot, office.ids["slots"][0]).seats_taken == 0
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reservation.cancel")) is not None


def test_another_persons_reservation_cannot_be_reached_through_a_callers_page(app, clerk, office):
    with app.test_request_context():
        booked = reservations.reserve(office.ids["slots"][0], db.session.get(Staff, office.ids["staff_b"]))
        db.session.commit()
        booked_id = booked.id
    response = clerk.post(f"/office/phone/staff/{office.ids['staff_a']}/reservations/{booked_id}/cancel")
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Reservation, booked_id).status == "booked"


def test_the_caller_page_says_when_nothing_is_open(app, clerk, office):
    with app.app_context():
        from booking.models import Campaign

        db.session.get(Campaign, office.ids["campaign"]).is_published = False
        db.session.commit()
    page = clerk.get(f"/office/phone/staff/{office.ids['staff_a']}").get_data(as_text=True)
    assert "No campaign is open for booking" in page
    assert re.search(r"1001", page)


def test_the_phone_page_books_only_the_callers_family_when_the_caller_is_unticked(app, clerk, office):
    url = f"/office/phone/staff/{office.ids['staff_a']}/sessions/{office.ids['session']}"
    page = clerk.get(url).get_data(as_text=True)
    assert 'name="include_staff"' in page and 'name="people_shown"' in page
    response = clerk.post(url, data={"slot_id": office.ids["slots"][1], "dependent_ids": [office.ids["spouse"]],
                                     "people_shown": "1"})
    assert response.status_code == 302
    with app.app_context():
        reservation = db.session.scalar(select(Reservation))
        assert [p.kind for p in reservation.people] == ["dependent"]
    refused = clerk.post(url.replace(str(office.ids["session"]), str(office.ids["session"])),
                         data={"slot_id": office.ids["slots"][2], "people_shown": "1",
                               "move": reservation.id})
    assert refused.status_code == 422 and "Choose at least one person" in refused.get_data(as_text=True)


def test_a_phone_move_can_add_the_caller(app, clerk, office):
    url = f"/office/phone/staff/{office.ids['staff_a']}/sessions/{office.ids['session']}"
    clerk.post(url, data={"slot_id": office.ids["slots"][1], "dependent_ids": [office.ids["spouse"]],
                          "people_shown": "1"})
    with app.app_context():
        reservation_id = db.session.scalar(select(Reservation.id))
    response = clerk.post(url, data={"slot_id": office.ids["slots"][1], "dependent_ids": [office.ids["spouse"]],
                                     "include_staff": "y", "people_shown": "1", "move": reservation_id})
    assert response.status_code == 302
    with app.app_context():
        reservation = db.session.get(Reservation, reservation_id)
        assert sorted(p.kind for p in reservation.people) == ["dependent", "staff"]
        assert db.session.get(Slot, office.ids["slots"][1]).seats_taken == 2
