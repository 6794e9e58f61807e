"""The chief's unit page: their staff only, filters, card status edits, reasons, slips and the calendar feed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    AuditEvent,
    CardStatusEvent,
    NonApplicationReason,
    Reservation,
    Staff,
)
from booking.services import card_status, reservations

#: 12 digits that pass the individual number check digit (a made-up one).
INDIVIDUAL_NUMBER = "123456789018"


def test_the_unit_page_lists_only_staff_of_the_chiefs_units(client, dept, login):
    login("chief", "A")
    html = client.get("/chiefs/unit").get_data(as_text=True)
    assert "佐藤 翔太" in html and "山田 花子" in html and "高橋 大輔" in html
    assert "鈴木 一郎" not in html


def test_an_admin_sees_every_unit(client, dept, login):
    login("admin")
    html = client.get("/chiefs/unit").get_data(as_text=True)
    assert "鈴木 一郎" in html and "佐藤 翔太" in html


def test_a_chief_cannot_pick_a_unit_outside_their_own(client, dept, login):
    login("chief", "A")
    assert client.get(f"/chiefs/unit?unit={dept.unit_ids['B']}").status_code == 403
    html = client.get(f"/chiefs/unit?unit={dept.unit_ids['A1']}").get_data(as_text=True)
    assert "山田 花子" in html and "高橋 大輔" not in html


def test_the_no_card_and_no_reservation_filter_finds_who_to_follow_up(app, client, dept, login):
    [(number, _code)] = dept.world.add_staff(1, unit="A", start=2500)
    with app.app_context():
        db.session.get(Staff, dept.staff_ids["2001"]).card_status = "received"
        db.session.commit()
    login("chief", "A")
    html = client.get("/chiefs/unit?filter=no_card_no_reservation").get_data(as_text=True)
    assert f">{number}<" in html
    for booked in ("1001", "3001", "2001"):
        assert f">{booked}<" not in html


def test_the_unit_page_shows_reservation_and_no_show(app, client, dept, login):
    with app.app_context():
        reservation = db.session.get(Reservation, dept.reservation_ids["2001"])
        reservation.status = "no_show"
        db.session.commit()
    login("chief", "A")
    html = client.get("/chiefs/unit?filter=no_show").get_data(as_text=True)
    assert "高橋 大輔" in html and "佐藤 翔太" not in html
    everyone = client.get("/chiefs/unit").get_data(as_text=True)
    assert "中央消防署 会議室" in everyone  # 佐藤's booking, with the venue


def test_a_chief_records_a_card_status_change_as_a_dated_event(app, client, dept, login):
    login("chief", "A")
    day = card_status.today() - timedelta(days=3)
    response = client.post(f"/chiefs/staff/{dept.staff_ids['2001']}/status", data={
        "key": "staff", "staff-person": "staff", "staff-card_status": "applied",
        "staff-card_status_on": day.isoformat()})
    assert response.status_code == 302
    with app.app_context():
        staff = db.session.get(Staff, dept.staff_ids["2001"])
        assert (staff.card_status, staff.card_status_on) == ("applied", day)
        event = db.session.scalar(select(CardStatusEvent).where(CardStatusEvent.staff_id == staff.id))
        assert (event.from_status, event.to_status, event.effective_on, event.source) == ("none", "applied", day, "edit")
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "card_status.edit")) is not None


def test_a_chief_records_a_dependents_card_status(app, client, dept, login):
    login("chief", "A")
    key = f"dependent:{dept.world.dependent_id}"
    prefix = key.replace(":", "-")
    response = client.post(f"/chiefs/staff/{dept.staff_ids['1001']}/status", data={
        "key": key, f"{prefix}-person": key, f"{prefix}-card_status": "received",
        f"{prefix}-card_status_on": card_status.today().isoformat()})
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(select(CardStatusEvent))
        assert event.dependent_id == dept.world.dependent_id and event.to_status == "received"


def test_a_chief_cannot_change_staff_of_another_unit(client, dept, login):
    login("chief", "B")
    response = client.post(f"/chiefs/staff/{dept.staff_ids['2001']}/status", data={
        "key": "staff", "staff-person": "staff", "staff-card_status": "applied",
        "staff-card_status_on": card_status.today().isoformat()})
    assert response.status_code == 403
    assert client.get(f"/chiefs/staff/{dept.staff_ids['2001']}").status_code == 403


def test_a_future_date_is_refused(client, dept, login):
    login("admin")
    response = client.post(f"/chiefs/staff/{dept.staff_ids['2001']}/status", data={
        "key": "staff", "staff-person": "staff", "staff-card_status": "applied",
        "staff-card_status_on": (card_status.today() + timedelta(days=2)).isoformat()})
    assert response.status_code == 422


def test_a_reason_for_not_applying_is_kept_with_its_note(app, client, dept, login):
    login("chief", "A")
    response = client.post(f"/chiefs/staff/{dept.staff_ids['2001']}/reason",
                           data={"reason": "no_time", "note": "夜勤明けに相談"})
    assert response.status_code == 302
    with app.app_context():
        reason = db.session.scalar(select(NonApplicationReason))
        assert (reason.reason, reason.note) == ("no_time", "夜勤明けに相談")
    html = client.get("/chiefs/unit").get_data(as_text=True)
    assert "夜勤明けに相談" in html


def test_a_reason_note_holding_an_individual_number_is_refused(app, client, dept, login):
    login("chief", "A")
    response = client.post(f"/chiefs/staff/{dept.staff_ids['2001']}/reason",
                           data={"reason": "other", "note": f"番号 {INDIVIDUAL_NUMBER[:4]}-{INDIVIDUAL_NUMBER[4:8]}-{INDIVIDUAL_NUMBER[8:]}"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(NonApplicationReason)) is None


def test_a_reason_outside_the_fixed_list_is_refused(app, client, dept, login):
    login("chief", "A")
    response = client.post(f"/chiefs/staff/{dept.staff_ids['2001']}/reason", data={"reason": "lazy"})
    assert response.status_code == 422


def test_invitation_slips_carry_name_qr_link_code_and_sessions(app, client, dept, login):
    [(_number, code)] = dept.world.add_staff(1, unit="A1", start=2600)
    login("chief", "A")
    html = client.get("/chiefs/slips?filter=no_card_no_reservation").get_data(as_text=True)
    assert html.count('class="slip"') == 1
    assert '<svg class="slip__qr"' in html
    assert "/i/" in html  # the personal invitation link
    assert "-".join(code[i:i + 3] for i in range(0, len(code), 3)) in html
    assert "中央消防署 会議室" in html  # a branch office's staff go to their station's venue
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "invitation.slips")).details["count"] == 1


def test_slips_for_chosen_staff_skip_people_outside_the_chiefs_units(client, dept, login):
    login("chief", "B")
    html = client.get(f"/chiefs/slips?staff={dept.staff_ids['2001']}&staff={dept.staff_ids['4001']}").get_data(
        as_text=True)
    assert html.count('class="slip"') == 1
    assert "鈴木 一郎" in html and "高橋 大輔" not in html


def test_the_calendar_feed_lists_sessions_at_the_chiefs_venues(app, client, dept, login):
    login("chief", "A")
    page = client.get("/chiefs/calendar").get_data(as_text=True)
    url = page.split('id="feed-url">')[1].split("<")[0].strip()
    client.post("/office/logout")
    response = client.get(url.replace("http://localhost", ""))
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    events = [c for c in Calendar.from_ical(response.get_data()).walk("VEVENT")]
    assert len(events) == 1
    assert "中央消防署 会議室" in str(events[0]["location"])
    assert str(events[0]["uid"]).startswith("desk-session-")


def test_a_chief_of_another_station_gets_no_sessions_of_this_venue(client, dept, login):
    login("chief", "B")
    page = client.get("/chiefs/calendar").get_data(as_text=True)
    url = page.split('id="feed-url">')[1].split("<")[0].strip()
    events = list(Calendar.from_ical(client.get(url.replace("http://localhost", "")).get_data()).walk("VEVENT"))
    assert events == []


def test_making_a_new_calendar_address_revokes_the_old_one(client, dept, login):
    login("chief", "A")
    old = client.get("/chiefs/calendar").get_data(as_text=True).split('id="feed-url">')[1].split("<")[0].strip()
    assert client.post("/chiefs/calendar").status_code == 302
    new = client.get("/chiefs/calendar").get_data(as_text=True).split('id="feed-url">')[1].split("<")[0].strip()
    assert new != old
    assert client.get(old.replace("http://localhost", "")).status_code == 404
    assert client.get(new.replace("http://localhost", "")).status_code == 200


def test_a_made_up_calendar_address_finds_nothing(client, dept):
    assert client.get("/chiefs/calendar/not-a-real-token.ics").status_code == 404


@pytest.mark.parametrize("path", ["/chiefs/unit", "/chiefs/slips", "/chiefs/calendar", "/chiefs/"])
def test_anonymous_visitors_are_sent_to_sign_in(client, dept, path):
    response = client.get(path)
    assert response.status_code in (302, 401)
    if response.status_code == 302:
        assert "/office/login" in response.headers["Location"]


def test_cancelled_booking_counts_as_no_reservation(app, client, dept, login):
    with app.test_request_context():
        reservations.cancel(db.session.get(Reservation, dept.reservation_ids["2001"]))
        db.session.commit()
    login("chief", "A")
    html = client.get("/chiefs/unit?filter=no_card_no_reservation").get_data(as_text=True)
    assert ">2001<" in html
