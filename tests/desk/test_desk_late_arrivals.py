"""One check-in service decides between a first check-in and a late arrival, for the page and the API."""
from __future__ import annotations

from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEvent, CheckIn


def actions(app) -> list[tuple[str, str, str]]:
    """The check-in events in order: the fixtures' set-up (units, sessions, the booking) is audited too."""
    with app.app_context():
        return [(e.action, e.channel, e.target_id)
                for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
                if e.action.startswith("checkin")]


def test_a_late_arrival_checked_in_through_the_api_is_accepted(app, client, clerk_headers, booked):
    staff_person, spouse = booked.person_ids
    first = client.post("/api/v1/checkins", json={"code": booked.code, "people": [staff_person]},
                        headers=clerk_headers)
    assert first.status_code == 201, first.get_json()

    late = client.post("/api/v1/checkins", json={"code": booked.code, "people": [spouse]}, headers=clerk_headers)

    assert late.status_code == 201, late.get_json()
    body = late.get_json()
    assert set(body) >= {"id", "reservation", "checked_in_at", "check_ins"}
    assert body["reservation"]["status"] == "checked_in"
    assert [c["person"]["id"] for c in body["check_ins"]] == [spouse]
    assert body["id"] == body["check_ins"][0]["id"]
    with app.app_context():
        assert sorted(c.reservation_person_id for c in db.session.scalars(select(CheckIn))) == [staff_person, spouse]
    assert actions(app) == [("checkin", "api", str(booked.id)), ("checkin.late", "api", str(booked.id))]


def test_the_api_with_nobody_left_to_check_in_is_409_and_says_when_and_by_whom(app, client, clerk_headers, booked):
    assert client.post("/api/v1/checkins", json={"qr": booked.qr}, headers=clerk_headers).status_code == 201

    again = client.post("/api/v1/checkins", json={"qr": booked.qr}, headers=clerk_headers)

    assert again.status_code == 409
    body = again.get_json()
    assert body["error"] == "already_checked_in" and body["checked_in_by"] == "desk-1"


def test_the_rest_of_a_party_arriving_later_is_checked_in_when_everyone_is_asked_for(app, client, clerk_headers,
                                                                                      booked):
    """Without ``people`` the API means everyone: once some are in, that is the ones still missing."""
    staff_person, spouse = booked.person_ids
    client.post("/api/v1/checkins", json={"code": booked.code, "people": [staff_person]}, headers=clerk_headers)

    late = client.post("/api/v1/checkins", json={"code": booked.code}, headers=clerk_headers)

    assert late.status_code == 201, late.get_json()
    assert [c["person"]["id"] for c in late.get_json()["check_ins"]] == [spouse]


def test_the_page_and_the_api_record_a_late_arrival_alike(app, client, login, clerk_headers, booked):
    staff_person, spouse = booked.person_ids
    clerk = login("clerk")
    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": [staff_person]})
    # The page no longer needs to be told that this is a late arrival.
    response = clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": [spouse]})

    assert response.status_code == 302
    assert actions(app) == [("checkin", "page", str(booked.id)), ("checkin.late", "page", str(booked.id))]


def test_a_person_already_checked_in_is_not_checked_in_twice_on_the_page(app, login, booked):
    clerk = login("clerk")
    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": booked.person_ids})
    page = clerk.post(f"/desk/reservations/{booked.id}/check-in?lang=en",
                      data={"people": [booked.person_ids[1]]}, follow_redirects=True).get_data(as_text=True)
    assert "Already checked in at" in page
    with app.app_context():
        assert len(db.session.scalars(select(CheckIn)).all()) == 2
