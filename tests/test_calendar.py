"""The calendar file behind ics_url (RFC 5545), read by two independent parsers."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import vobject

from booking.localtime import TOKYO
from booking.services.tokens import format_code

LONG_BRING = "本人確認書類（運転免許証など）、通知カード、住民票の写し。" * 4
LONG_ADDRESS = "福島県福島市天神町十一番二十八号 中央消防署 三階 大会議室（正面玄関から入って右手の階段をお上がりください）"


@pytest.fixture
def booked(app, client, world, admin_headers):
    """A booking in a campaign with long texts, so that lines must fold; returns (body, client)."""
    from booking.extensions import db
    from booking.models import Campaign, Venue

    with app.app_context():
        campaign = db.session.get(Campaign, world.campaign_id)
        campaign.what_to_bring = LONG_BRING
        db.session.get(Venue, world.venue_id).address = LONG_ADDRESS
        db.session.commit()
    response = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number,
        "invitation_code": world.invitation_code, "dependent_ids": [world.dependent_id]})
    assert response.status_code == 201
    return response.get_json()


def fetch(client, body) -> bytes:
    response = client.get(body["ics_url"].replace("http://localhost", ""))
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return response.data


def event_of(data: bytes) -> icalendar.Event:
    [event] = icalendar.Calendar.from_ical(data).walk("VEVENT")
    return event


def move(client, body, slot_id: int) -> None:
    response = client.post(f"/api/v1/reservations/{body['manage_token']}/reschedule", json={"slot_id": slot_id})
    assert response.status_code == 200, response.get_json()


# --- the bytes ----------------------------------------------------------------------------


def test_every_line_ends_with_crlf(client, booked):
    data = fetch(client, booked)
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")


def test_lines_are_folded_at_75_octets_without_splitting_characters(client, booked):
    lines = fetch(client, booked).split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines), "the long texts should have been folded"
    for line in lines:
        line.decode("utf-8")  # a fold inside a multi-byte character would not decode


def test_it_begins_with_version_and_prodid(client, booked):
    calendar = icalendar.Calendar.from_ical(fetch(client, booked))
    assert calendar.name == "VCALENDAR"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]).strip()
    assert str(calendar["METHOD"]) == "PUBLISH"


# --- the event, read by icalendar ------------------------------------------------------------


def test_the_event_is_at_the_slot_in_tokyo_with_its_time_zone(client, world, booked):
    data = fetch(client, booked)
    event = event_of(data)
    start = event.decoded("DTSTART")
    assert start == datetime.combine(world.session_day, datetime.min.time(), tzinfo=TOKYO) + timedelta(hours=15)
    assert start.utcoffset() == timedelta(hours=9)
    assert event.decoded("DTEND") - start == timedelta(minutes=10)
    assert event["DTSTART"].params["TZID"] == "Asia/Tokyo"
    assert f"DTSTART;TZID=Asia/Tokyo:{world.session_day:%Y%m%d}T150000".encode() in data
    [zone] = icalendar.Calendar.from_ical(data).walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Asia/Tokyo"
    assert zone.walk("STANDARD")


def test_dtstamp_is_an_instant_in_utc(client, booked):
    stamp = event_of(fetch(client, booked)).decoded("DTSTAMP")
    assert stamp.utcoffset() == timedelta(0)
    assert abs(stamp - datetime.now(UTC)) < timedelta(minutes=5)


def test_location_names_the_venue_and_its_address(client, booked):
    location = str(event_of(fetch(client, booked))["LOCATION"])
    assert "中央消防署 会議室" in location
    assert LONG_ADDRESS in location


def test_description_has_the_code_and_what_to_bring(client, booked):
    description = str(event_of(fetch(client, booked))["DESCRIPTION"])
    assert format_code(booked["code"]) in description
    assert LONG_BRING in description


def test_two_reminders_a_day_and_an_hour_before(client, booked):
    alarms = event_of(fetch(client, booked)).walk("VALARM")
    assert sorted(alarm.decoded("TRIGGER") for alarm in alarms) == [timedelta(days=-1), timedelta(hours=-1)]
    for alarm in alarms:
        assert str(alarm["ACTION"]) == "DISPLAY"
        assert str(alarm["DESCRIPTION"]).strip()


def test_the_uid_stays_while_the_sequence_rises_with_each_move(client, world, booked):
    first = event_of(fetch(client, booked))
    move(client, booked, world.slot_ids[2])
    second = event_of(fetch(client, booked))
    move(client, booked, world.slot_ids[4])
    third = event_of(fetch(client, booked))
    assert str(first["UID"]) == str(second["UID"]) == str(third["UID"])
    assert [e.decoded("SEQUENCE") for e in (first, second, third)] == [0, 1, 2]
    assert third.decoded("DTSTART").astimezone(TOKYO).strftime("%H:%M") == "15:40"


def test_each_reservation_has_its_own_uid(client, world, booked):
    [(number, code)] = world.add_staff(1)
    other = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[1], "staff_number": number, "invitation_code": code}).get_json()
    assert str(event_of(fetch(client, booked))["UID"]) != str(event_of(fetch(client, other))["UID"])


def test_after_a_cancel_the_event_is_cancelled(client, booked):
    before = event_of(fetch(client, booked))
    assert str(before["STATUS"]) == "CONFIRMED"
    assert client.post(f"/api/v1/reservations/{booked['manage_token']}/cancel").status_code == 200
    data = fetch(client, booked)
    calendar = icalendar.Calendar.from_ical(data)
    event = event_of(data)
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["UID"]) == str(before["UID"])
    assert event.decoded("SEQUENCE") > before.decoded("SEQUENCE")


# --- the same file, read by vobject ------------------------------------------------------------


def test_vobject_reads_the_same_event(client, world, booked):
    calendar = vobject.readOne(fetch(client, booked).decode("utf-8"))
    assert calendar.version.value == "2.0"
    assert calendar.prodid.value
    event = calendar.vevent
    start = event.dtstart.value
    assert start.utcoffset() == timedelta(hours=9)
    assert start.astimezone(TOKYO).replace(tzinfo=None) == datetime.combine(
        world.session_day, datetime.min.time()) + timedelta(hours=15)
    assert event.dtend.value - start == timedelta(minutes=10)
    assert event.uid.value
    assert event.dtstamp.value.utcoffset() == timedelta(0)
    assert LONG_ADDRESS in event.location.value
    assert format_code(booked["code"]) in event.description.value
    assert LONG_BRING in event.description.value
    assert sorted(a.trigger.value for a in event.valarm_list) == [timedelta(days=-1), timedelta(hours=-1)]
    assert int(event.sequence.value) == 0
    assert calendar.vtimezone.tzid.value == "Asia/Tokyo"


def test_vobject_sees_the_cancel(client, booked):
    client.post(f"/api/v1/reservations/{booked['manage_token']}/cancel")
    calendar = vobject.readOne(fetch(client, booked).decode("utf-8"))
    assert calendar.method.value == "CANCEL"
    assert calendar.vevent.status.value == "CANCELLED"
    assert int(calendar.vevent.sequence.value) == 1


def test_vobject_sees_the_move(client, world, booked):
    uid = vobject.readOne(fetch(client, booked).decode("utf-8")).vevent.uid.value
    move(client, booked, world.slot_ids[3])
    event = vobject.readOne(fetch(client, booked).decode("utf-8")).vevent
    assert event.uid.value == uid
    assert int(event.sequence.value) == 1
    assert event.dtstart.value.astimezone(TOKYO).strftime("%H:%M") == "15:30"


def test_a_tampered_token_gets_no_calendar(client, booked):
    token = booked["manage_token"]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    url = booked["ics_url"].replace("http://localhost", "").replace(token, tampered)
    assert client.get(url).status_code == 404
