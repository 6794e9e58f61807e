"""Issue 16, item 4: a session overlapping another in the same room, or starting in the past, is
saved only after the admin confirms (the API saves it and answers with ``warnings``); a date outside
the API's years is refused by the office forms as the API refuses it; and a session stored on
9999-12-31 before that rule no longer breaks the booker's, the coverage and the phone pages."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from booking.extensions import db
from booking.localtime import at_tokyo
from booking.models import AuditEvent, Campaign, DeskSession, Slot, Staff, Unit, Venue
from booking.services import invitations
from tests.office.test_campaigns import session_form


@pytest.fixture
def admin(client, office, login):
    return login("admin")


def count_sessions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(DeskSession.id)))


def new_session(admin, office, **changes):
    return admin.post(f"/office/campaigns/{office.ids['campaign']}/sessions/new", data=session_form(office, **changes))


def test_an_overlapping_session_in_the_same_room_is_saved_only_after_confirming(app, admin, office):
    # The office fixture has 15:00-16:00 in this venue on session_day: 15:30-16:30 overlaps it.
    response = new_session(admin, office, start_time="15:30", end_time="16:30")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "already has a session at the same time" in page and "中央消防署 会議室" in page
    assert 'name="confirm_warnings"' in page
    assert count_sessions(app) == 1
    response = new_session(admin, office, start_time="15:30", end_time="16:30", confirm_warnings="y")
    assert response.status_code == 302
    assert count_sessions(app) == 2
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "session.create")
                                   .order_by(AuditEvent.id.desc())).first()
        assert event.details["warnings"] == ["overlap"]


def test_back_to_back_sessions_and_other_rooms_need_no_confirmation(app, admin, office):
    assert new_session(admin, office, start_time="16:00", end_time="17:00").status_code == 302
    assert new_session(admin, office, venue_id=office.ids["venue_b"]).status_code == 302
    assert count_sessions(app) == 3


def test_a_session_starting_in_the_past_asks_for_confirmation(app, admin, office):
    yesterday = (office.today - timedelta(days=1)).isoformat()
    response = new_session(admin, office, date=yesterday)
    assert response.status_code == 409
    assert "starts in the past" in response.get_data(as_text=True)
    assert count_sessions(app) == 1
    assert new_session(admin, office, date=yesterday, confirm_warnings="y").status_code == 302
    assert count_sessions(app) == 2


def test_moving_a_session_onto_another_in_the_same_room_asks_for_confirmation(app, admin, office):
    assert new_session(admin, office, venue_id=office.ids["venue_b"]).status_code == 302
    with app.app_context():
        other = db.session.scalar(select(DeskSession.id).where(DeskSession.venue_id == office.ids["venue_b"]))
    edit = f"/office/sessions/{other}/edit"
    response = admin.post(edit, data=session_form(office, start_time="15:30", end_time="16:30"))
    assert response.status_code == 409 and "already has a session at the same time" in response.get_data(as_text=True)
    response = admin.post(edit, data=session_form(office, start_time="15:30", end_time="16:30", confirm_warnings="y"))
    assert response.status_code == 302


def test_the_api_saves_an_overlapping_past_session_and_lists_the_warnings(app, office, admin_headers, client):
    yesterday = office.today - timedelta(days=1)
    body = {"venue_id": office.ids["venue"], "date": office.session_day.isoformat(), "start_time": "15:30",
            "end_time": "16:30", "slot_minutes": 10, "desks": 1}
    response = client.post(f"/api/v1/campaigns/{office.ids['campaign']}/sessions", json=body, headers=admin_headers)
    assert response.status_code == 201
    assert [(w["code"], w["session_id"]) for w in response.json["warnings"]] == [("overlap", office.ids["session"])]
    body.update(date=yesterday.isoformat())
    response = client.post(f"/api/v1/campaigns/{office.ids['campaign']}/sessions", json=body, headers=admin_headers)
    assert response.status_code == 201
    assert [w["code"] for w in response.json["warnings"]] == ["starts_in_past"]
    body.update(date=(office.session_day + timedelta(days=3)).isoformat())
    assert client.post(f"/api/v1/campaigns/{office.ids['campaign']}/sessions", json=body,
                       headers=admin_headers).json["warnings"] == []


@pytest.mark.parametrize("day", ["9999-12-31", "1999-12-31", "2100-01-01"])
def test_a_date_the_api_refuses_is_refused_by_the_office_form_with_the_same_words(app, admin, office,
                                                                                  admin_headers, client, day):
    # The same language on both sides: the API follows Accept-Language, the pages the lang cookie.
    api = client.post(f"/api/v1/campaigns/{office.ids['campaign']}/sessions",
                      headers={**admin_headers, "Accept-Language": "en"}, json={
        "venue_id": office.ids["venue"], "date": day, "start_time": "18:00", "end_time": "19:00",
        "slot_minutes": 10, "desks": 1})
    assert api.status_code == 422
    message = api.json["fields"]["date"]
    response = new_session(admin, office, date=day, start_time="23:00", end_time="01:00")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    copy = admin.post(f"/office/sessions/{office.ids['session']}/copy", data={"dates-0": day})
    assert copy.status_code == 422 and message in copy.get_data(as_text=True)
    assert count_sessions(app) == 1


def test_a_campaign_window_outside_the_years_is_refused(app, admin, office):
    response = admin.post("/office/campaigns/new", data={
        "title": "遠い将来", "booking_opens_at": "2026-01-01T09:00", "booking_closes_at": "9999-12-31T23:00",
        "cutoff_minutes": "60"})
    assert response.status_code == 422
    assert "Enter a date in the years 2000 to 2099." in response.get_data(as_text=True)


@pytest.fixture
def demo_with_a_far_session(app):
    """The demo, plus a session stored on 9999-12-31 (as the office form let through before)."""
    from booking.demo import seed
    from tests.duty.conftest import make_user

    with app.test_request_context(base_url="http://localhost"):
        seed()
        campaign = db.session.scalar(select(Campaign))
        unit_b = db.session.scalar(select(Unit).where(Unit.code == "B"))
        venue = db.session.scalar(select(Venue).where(Venue.unit_id == unit_b.id))
        far = DeskSession(campaign=campaign, venue=venue, date=date(9999, 12, 31), start_time=time(23),
                          end_time=time(1), slot_minutes=30, desks=1)
        far.slots = [Slot(starts_at=at_tokyo(far.date, time(23)), ends_at=at_tokyo(far.date, time(23, 30)),
                          capacity=1)]
        db.session.add(far)
        staff = db.session.scalar(select(Staff).where(Staff.unit_id == unit_b.id, Staff.crew == "1部")
                                  .order_by(Staff.id))
        db.session.commit()
        ids = {"campaign": campaign.id, "staff": staff.id, "token": invitations.link_token(staff)}
    make_user(app, "planner", "admin")
    return ids


def test_a_session_on_9999_12_31_does_not_break_the_booker_coverage_or_phone_pages(app, client,
                                                                                    demo_with_a_far_session):
    from tests.duty.conftest import sign_in

    ids = demo_with_a_far_session
    assert client.get(f"/i/{ids['token']}").status_code == 200
    sign_in(client, "planner")
    for url in (f"/office/campaigns/{ids['campaign']}/coverage", f"/office/phone/staff/{ids['staff']}",
                f"/office/campaigns/{ids['campaign']}"):
        assert client.get(url).status_code == 200, url
