"""One act, one service (DESIGN rule 12) for bookings and the desk.

Every API and CLI call that changes a booking or records something at the desk writes
exactly one audit event naming who acted, how (channel) and from where; the page doing
the same act writes the same action.
"""
from __future__ import annotations

import io
import random
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEvent, CheckIn, DeskSession, Slot, Staff
from booking.services import accounts, directory, invitations

PASSWORD = "pass-word-1"


# --- helpers ------------------------------------------------------------------------------------


def last_event_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


def events_since(app, event_id: int) -> list[AuditEvent]:
    """The events after ``event_id``, sign-ins left out (signing in is not the act under test)."""
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.id > event_id).order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return [e for e in rows if e.action not in ("login", "logout")]


def one_event(app, since: int, action: str, *, actor: str, channel: str, address: str = "127.0.0.1",
              target_id: object = None) -> AuditEvent:
    found = events_since(app, since)
    assert [(e.action, e.actor, e.channel, e.remote_addr) for e in found] == [(action, actor, channel, address)]
    if target_id is not None:
        assert found[0].target_id == str(target_id)
    return found[0]


def signed_in(app, role: str, username: str):
    with app.app_context():
        accounts.ensure_user(username, role, password=PASSWORD)
        db.session.commit()
    page = app.test_client()
    response = page.post("/office/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return page


def bearer(make_token, role: str, username: str) -> dict:
    return {"Authorization": f"Bearer {make_token(role, username=username)}", "Accept-Language": "en"}


def book_by_api(client, world, staff_number: str, code: str, slot_index: int = 0, dependent_ids=()) -> dict:
    response = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[slot_index], "staff_number": staff_number, "invitation_code": code,
        "dependent_ids": list(dependent_ids),
    })
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def person_ids(app, reservation_id: int) -> list[int]:
    from booking.models import Reservation

    with app.app_context():
        return [p.id for p in db.session.get(Reservation, reservation_id).people]


def photo_jpeg() -> bytes:
    random.seed(12)
    image = Image.effect_noise((700, 900), 60).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def link_token(app, staff_number: str) -> str:
    with app.test_request_context(base_url="http://localhost"):
        return invitations.link_token(directory.staff_by_number(staff_number))


# --- booking, moving, cancelling ------------------------------------------------------------------


def test_the_booker_books_through_the_api_and_the_page_with_one_event_each(app, client, world):
    (other_number, _code), = world.add_staff(1)

    since = last_event_id(app)
    booked = book_by_api(client, world, world.staff_number, world.invitation_code)
    event = one_event(app, since, "reservation.book", actor=f"booker:{world.staff_number}", channel="api",
                      target_id=booked["id"])
    assert event.user_id is None and event.details["channel"] == "web"
    assert event.details["code"] == booked["code"]

    since = last_event_id(app)
    response = app.test_client().post(
        f"/i/{link_token(app, other_number)}/sessions/{world.session_id}", data={"slot_id": world.slot_ids[1]})
    assert response.status_code == 302
    event = one_event(app, since, "reservation.book", actor=f"booker:{other_number}", channel="page")
    assert event.details["channel"] == "web"


def test_the_booker_moves_and_cancels_through_the_api_and_the_page_with_one_event_each(app, client, world):
    (other_number, other_code), = world.add_staff(1)
    by_api = book_by_api(client, world, world.staff_number, world.invitation_code)
    by_page = book_by_api(client, world, other_number, other_code)
    booker, other = f"booker:{world.staff_number}", f"booker:{other_number}"

    since = last_event_id(app)
    response = client.post(f"/api/v1/reservations/{by_api['manage_token']}/reschedule",
                           json={"slot_id": world.slot_ids[2]})
    assert response.status_code == 200, response.get_json()
    event = one_event(app, since, "reservation.move", actor=booker, channel="api", target_id=by_api["id"])
    assert event.details["slot_id"] == world.slot_ids[2] and "from" in event.details

    since = last_event_id(app)
    page = app.test_client()
    response = page.post(f"/r/{by_page['manage_token']}/move/{world.session_id}", data={"slot_id": world.slot_ids[3]})
    assert response.status_code == 302
    one_event(app, since, "reservation.move", actor=other, channel="page", target_id=by_page["id"])

    since = last_event_id(app)
    response = client.post(f"/api/v1/reservations/{by_api['manage_token']}/cancel")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    one_event(app, since, "reservation.cancel", actor=booker, channel="api", target_id=by_api["id"])

    since = last_event_id(app)
    assert page.post(f"/r/{by_page['manage_token']}/cancel").status_code == 302
    one_event(app, since, "reservation.cancel", actor=other, channel="page", target_id=by_page["id"])

    # Cancelling again changes nothing and records nothing.
    since = last_event_id(app)
    assert client.post(f"/api/v1/reservations/{by_api['manage_token']}/cancel").status_code == 200
    assert events_since(app, since) == []


def test_a_phone_booking_is_the_same_action_from_the_office_page_and_the_api(app, client, world, make_token):
    (other_number, _code), = world.add_staff(1)

    since = last_event_id(app)
    response = client.post("/api/v1/reservations", headers=bearer(make_token, "admin", "office-admin"),
                           json={"slot_id": world.slot_ids[0], "staff_number": world.staff_number})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["channel"] == "phone"
    event = one_event(app, since, "reservation.book", actor="office-admin", channel="api",
                      target_id=response.get_json()["id"])
    assert event.details["channel"] == "phone" and event.user_id is not None

    clerk = signed_in(app, "clerk", "phone-clerk")
    with app.app_context():
        staff_id = db.session.scalar(select(Staff.id).where(Staff.staff_number == other_number))
    since = last_event_id(app)
    response = clerk.post(f"/office/phone/staff/{staff_id}/sessions/{world.session_id}",
                          data={"slot_id": world.slot_ids[1]})
    assert response.status_code == 302
    event = one_event(app, since, "reservation.book", actor="phone-clerk", channel="page")
    assert event.details["channel"] == "phone"


# --- the desk -------------------------------------------------------------------------------------


def test_checking_in_photos_and_the_application_write_one_event_each_by_api_and_page(
        app, client, world, make_token):
    (other_number, other_code), = world.add_staff(1)
    api_booking = book_by_api(client, world, world.staff_number, world.invitation_code,
                              dependent_ids=[world.dependent_id])
    page_booking = book_by_api(client, world, other_number, other_code, slot_index=1)
    api_people = person_ids(app, api_booking["id"])
    headers = bearer(make_token, "clerk", "desk-api")
    clerk = signed_in(app, "clerk", "desk-page")
    photo = photo_jpeg()

    # First check-in, then the late arrival, through the API ...
    since = last_event_id(app)
    response = client.post("/api/v1/checkins", headers=headers,
                           json={"code": api_booking["code"], "people": api_people[:1]})
    assert response.status_code == 201, response.get_json()
    check_in_id = response.get_json()["id"]
    one_event(app, since, "checkin", actor="desk-api", channel="api", target_id=api_booking["id"])
    since = last_event_id(app)
    response = client.post("/api/v1/checkins", headers=headers,
                           json={"code": api_booking["code"], "people": api_people[1:]})
    assert response.status_code == 201, response.get_json()
    one_event(app, since, "checkin.late", actor="desk-api", channel="api", target_id=api_booking["id"])

    # ... and on the page.
    since = last_event_id(app)
    assert clerk.post(f"/desk/reservations/{page_booking['id']}/check-in",
                      data={"people": person_ids(app, page_booking["id"])}).status_code == 302
    one_event(app, since, "checkin", actor="desk-page", channel="page", target_id=page_booking["id"])
    with app.app_context():
        page_check_in_id = db.session.scalar(
            select(CheckIn.id).where(CheckIn.reservation_person_id == person_ids(app, page_booking["id"])[0]))

    # The photo, taken and downloaded.
    since = last_event_id(app)
    response = client.post(f"/api/v1/checkins/{check_in_id}/photo", headers=headers,
                           data={"photo": (io.BytesIO(photo), "photo.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    one_event(app, since, "photo.take", actor="desk-api", channel="api", target_id=check_in_id)
    since = last_event_id(app)
    assert client.get(f"/api/v1/checkins/{check_in_id}/photo", headers=headers).status_code == 200
    one_event(app, since, "photo.download", actor="desk-api", channel="api", target_id=check_in_id)

    since = last_event_id(app)
    response = clerk.post(f"/desk/check-ins/{page_check_in_id}/photo",
                          data={"photo": (io.BytesIO(photo), "photo.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 302
    one_event(app, since, "photo.take", actor="desk-page", channel="page", target_id=page_check_in_id)
    since = last_event_id(app)
    assert clerk.get(f"/desk/check-ins/{page_check_in_id}/photo.jpg?download=1").status_code == 200
    one_event(app, since, "photo.download", actor="desk-page", channel="page", target_id=page_check_in_id)

    # The application handed in.
    since = last_event_id(app)
    response = client.post(f"/api/v1/checkins/{check_in_id}/application", headers=headers,
                           json={"application_id": "12345678901234567890123", "submitted": True})
    assert response.status_code == 200, response.get_json()
    one_event(app, since, "application.submitted", actor="desk-api", channel="api")
    since = last_event_id(app)
    assert clerk.post(f"/desk/check-ins/{page_check_in_id}/application",
                      data={"application_id": "12345678901234567890124", "action": "submit"}).status_code == 302
    one_event(app, since, "application.submitted", actor="desk-page", channel="page")


def test_a_walk_in_is_one_event_for_the_booking_and_the_check_in_together(app, world):
    clerk = signed_in(app, "clerk", "desk-page")
    since = last_event_id(app)
    response = clerk.post(f"/desk/sessions/{world.session_id}/walk-in", data={"staff_id": world.staff_id})
    assert response.status_code == 302
    event = one_event(app, since, "walk_in", actor="desk-page", channel="page")
    assert event.target_type == "reservation" and event.details["people"] == 1


def _session_ended_yesterday(app, world) -> None:
    with app.app_context():
        for slot in db.session.scalars(select(Slot).where(Slot.desk_session_id == world.session_id)):
            slot.starts_at, slot.ends_at = slot.starts_at - timedelta(days=8), slot.ends_at - timedelta(days=8)
        db.session.get(DeskSession, world.session_id).date = world.session_day - timedelta(days=8)
        db.session.commit()


@pytest.mark.parametrize("how", ["cli", "page"])
def test_marking_no_shows_is_one_event_from_the_cron_and_from_the_desk_page(app, client, world, runner, how):
    book_by_api(client, world, world.staff_number, world.invitation_code)
    _session_ended_yesterday(app, world)

    since = last_event_id(app)
    if how == "cli":
        result = runner.invoke(args=["mark-no-shows"])
        assert result.exit_code == 0, result.output
        event = one_event(app, since, "no_show.mark", actor="cli", channel="cli", address="",
                          target_id=world.session_id)
    else:
        clerk = signed_in(app, "clerk", "desk-page")
        assert clerk.post(f"/desk/sessions/{world.session_id}/no-shows").status_code == 302
        event = one_event(app, since, "no_show.mark", actor="desk-page", channel="page",
                          target_id=world.session_id)
    assert event.details["reservations"] == 1


def test_purging_photos_from_cron_is_one_event_naming_how_many(app, client, world, make_token, runner):
    from datetime import timedelta

    from booking.models import Photo

    booking = book_by_api(client, world, world.staff_number, world.invitation_code)
    headers = bearer(make_token, "clerk", "desk-api")
    check_in = client.post("/api/v1/checkins", headers=headers, json={"code": booking["code"]}).get_json()
    response = client.post(f"/api/v1/checkins/{check_in['id']}/photo", headers=headers,
                           data={"photo": (io.BytesIO(photo_jpeg()), "photo.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        for photo in db.session.scalars(select(Photo)):
            photo.delete_after -= timedelta(days=365)
        db.session.commit()

    since = last_event_id(app)
    result = runner.invoke(args=["purge-photos"])

    assert result.exit_code == 0, result.output
    event = one_event(app, since, "photo.purge", actor="cli", channel="cli", address="")
    assert event.details["photos"] == 1
