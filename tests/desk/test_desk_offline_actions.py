"""The desk's queued actions (issue 20): each id made on the device is applied once, whatever the
retries; a person checked in on two devices is one check-in and a note; a booking cancelled or
moved while the desk was offline comes back as a conflict for the clerk."""
from __future__ import annotations

import io
import os
import uuid
from datetime import time as clock_time
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from booking.extensions import db
from booking.models import Application, AuditEvent, Campaign, CheckIn, DeskAction, DeskSession, Photo, Reservation
from booking.services import campaigns, photos, reservations, retention
from booking.services.actor import Actor
from tests.desk.test_desk_photo_disk_full import _FullDisk

DEVICE_A = "device-aaaaaaaa"
DEVICE_B = "device-bbbbbbbb"


def send(client, session_id: int, fields: dict, photo: bytes | None = None):
    data = MultiDict()
    for key, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            data.add(key, str(one))
    if photo is not None:
        data.add("photo", FileStorage(io.BytesIO(photo), "photo.jpg", content_type="image/jpeg"))
    boundary, body = encode_multipart(data)
    return client.post(f"/desk/sessions/{session_id}/actions", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}", headers={"Accept-Language": "en"})


def check_in(booked, *, action_id=None, device=DEVICE_A, people=None, slot_id=None):
    fields = {"action_id": action_id or str(uuid.uuid4()), "device_id": device, "kind": "check_in",
              "reservation_id": booked.id, "made_at": "2000-01-01T00:00:00Z"}
    if people is not None:
        fields["people"] = people
    if slot_id is not None:
        fields["slot_id"] = slot_id
    return fields


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def events(app, prefix: str) -> list[str]:
    with app.app_context():
        return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
                if e.action.startswith(prefix)]


def test_the_same_check_in_sent_twice_is_applied_once_and_answered_alike(app, client, login, booked, world):
    login("clerk")
    fields = check_in(booked, slot_id=world.slot_ids[0])

    first = send(client, booked.session_id, fields)
    again = send(client, booked.session_id, fields)

    assert first.status_code == 200, first.get_json()
    assert first.get_json()["outcome"] == "applied"
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert count(app, CheckIn) == 2  # the staff member and the spouse, once each
    assert count(app, DeskAction) == 1
    assert events(app, "checkin") == ["checkin"]
    with app.app_context():
        assert db.session.get(Reservation, booked.id).status == "checked_in"


def test_a_photo_sent_again_is_one_photo(app, client, login, booked, jpeg):
    login("clerk")
    staff_person = booked.person_ids[0]
    assert send(client, booked.session_id, check_in(booked)).get_json()["outcome"] == "applied"
    fields = {"action_id": str(uuid.uuid4()), "device_id": DEVICE_A, "kind": "photo", "person_id": staff_person}

    first = send(client, booked.session_id, fields, photo=jpeg())
    again = send(client, booked.session_id, fields, photo=jpeg())

    assert first.get_json()["outcome"] == "applied", first.get_json()
    assert again.get_json() == first.get_json()
    assert count(app, Photo) == 1
    assert events(app, "photo.") == ["photo.take"]


def test_a_person_checked_in_on_two_devices_is_one_check_in_and_a_note_on_both(app, client, login, booked):
    login("clerk")
    first = send(client, booked.session_id, check_in(booked, device=DEVICE_A))
    second = send(client, booked.session_id, check_in(booked, device=DEVICE_B))

    assert first.get_json()["outcome"] == "applied"
    answer = second.get_json()
    assert second.status_code == 200 and answer["outcome"] == "note"
    assert answer["code"] == "already_checked_in" and "受付 花子" in answer["message"]  # who checked in first
    assert count(app, CheckIn) == 2
    # The first device learns it from the roster it fetches when it next syncs.
    roster = client.get(f"/desk/sessions/{booked.session_id}/roster.json").get_json()
    row = next(r for r in roster["reservations"] if r["id"] == booked.id)
    notes = [p["check_in"]["note"] for p in row["people"]]
    assert all(note and "受付 花子" in note for note in notes)


def test_late_arrivals_from_a_second_device_are_checked_in_and_the_rest_noted(app, client, login, booked):
    login("clerk")
    staff_person, spouse = booked.person_ids
    send(client, booked.session_id, check_in(booked, people=[staff_person]))

    both = send(client, booked.session_id, check_in(booked, device=DEVICE_B, people=[staff_person, spouse]))

    assert both.get_json()["outcome"] == "note"
    assert sorted(c["person_id"] for c in both.get_json()["check_ins"]) == [staff_person, spouse]
    assert count(app, CheckIn) == 2
    assert events(app, "checkin") == ["checkin", "checkin.late"]


def test_a_booking_cancelled_while_the_desk_was_offline_is_a_conflict(app, client, login, booked):
    with app.app_context():
        reservations.cancel(db.session.get(Reservation, booked.id))
        db.session.commit()
    login("clerk")

    answer = send(client, booked.session_id, check_in(booked)).get_json()

    assert answer["outcome"] == "conflict" and answer["code"] == "cancelled"
    assert count(app, CheckIn) == 0
    with app.app_context():
        assert db.session.scalar(select(DeskAction)).outcome == "conflict"


def test_a_booking_moved_while_the_desk_was_offline_is_a_conflict(app, client, login, booked, world):
    with app.app_context():
        reservations.reschedule(db.session.get(Reservation, booked.id), world.slot_ids[2])
        db.session.commit()
    login("clerk")

    answer = send(client, booked.session_id, check_in(booked, slot_id=world.slot_ids[0])).get_json()

    assert answer["outcome"] == "conflict" and answer["code"] == "moved"
    assert count(app, CheckIn) == 0


def test_a_photo_of_someone_whose_check_in_was_refused_is_a_conflict(app, client, login, booked, jpeg):
    login("clerk")
    fields = {"action_id": str(uuid.uuid4()), "device_id": DEVICE_A, "kind": "photo",
              "person_id": booked.person_ids[0]}

    answer = send(client, booked.session_id, fields, photo=jpeg()).get_json()

    assert answer["outcome"] == "conflict" and answer["code"] == "not_checked_in"
    assert count(app, Photo) == 0


def test_an_application_record_sent_twice_is_recorded_once(app, client, login, booked):
    login("clerk")
    send(client, booked.session_id, check_in(booked))
    fields = {"action_id": str(uuid.uuid4()), "device_id": DEVICE_A, "kind": "application",
              "person_id": booked.person_ids[0], "identity_documents": "passport", "action": "save",
              "fields": ["identity_documents", "application_id"]}

    first = send(client, booked.session_id, fields)
    again = send(client, booked.session_id, fields)

    assert first.status_code == 200 and first.get_json()["outcome"] == "applied", first.get_json()
    assert again.get_json() == first.get_json()
    assert count(app, Application) == 1
    assert events(app, "application") == ["application.recorded"]


def test_a_malformed_action_is_refused_and_nothing_is_kept(app, client, login, booked):
    login("clerk")

    answer = send(client, booked.session_id, {"action_id": "x", "device_id": DEVICE_A, "kind": "dance"})

    assert answer.status_code == 422
    assert set(answer.get_json()["fields"]) == {"action_id", "kind"}
    assert count(app, DeskAction) == 0


def test_a_device_clock_in_the_future_is_not_believed(app, client, login, booked):
    login("clerk")
    fields = {**check_in(booked), "made_at": "2999-01-01T00:00:00+09:00"}

    answer = send(client, booked.session_id, fields).get_json()

    assert answer["check_ins"][0]["checked_in_at"] < "2999"


def test_an_application_from_the_tablet_changes_only_what_its_panel_shows(app, client, login, booked):
    login("clerk")
    send(client, booked.session_id, check_in(booked))
    person = booked.person_ids[0]
    with app.app_context():
        record = db.session.scalar(select(CheckIn).where(CheckIn.reservation_person_id == person))
        check_in_id = record.id
    online = client.post(f"/desk/check-ins/{check_in_id}/application",
                         data={"identity_documents": "passport", "surrendered": "notification_card", "action": "save"})
    assert online.status_code == 302
    fields = {"action_id": str(uuid.uuid4()), "device_id": DEVICE_A, "kind": "application", "person_id": person,
              "application_id": "1234 5678 9012 3456 7890 123", "identity_documents": "passport",
              "action": "save", "fields": ["identity_documents", "application_id"]}

    answer = send(client, booked.session_id, fields).get_json()

    assert answer["outcome"] == "applied", answer
    with app.app_context():
        application = db.session.scalar(select(Application))
        assert application.application_id == "12345678901234567890123"
        assert application.surrendered == ["notification_card"]


def test_the_note_of_a_second_desk_shows_on_the_check_in_screen(app, client, login, booked):
    login("clerk")
    send(client, booked.session_id, check_in(booked, device=DEVICE_A))
    send(client, booked.session_id, check_in(booked, device=DEVICE_B))

    page = client.get(f"/desk/reservations/{booked.id}").get_data(as_text=True)

    assert page.count("desk-person__note") == 2


def test_a_full_photo_disk_is_not_kept_as_the_answer_so_the_tablet_sends_the_photo_again(
        app, client, login, booked, jpeg, monkeypatch):
    login("clerk")
    assert send(client, booked.session_id, check_in(booked)).get_json()["outcome"] == "applied"
    fields = {"action_id": str(uuid.uuid4()), "device_id": DEVICE_A, "kind": "photo",
              "person_id": booked.person_ids[0]}
    fake_os = SimpleNamespace(**{name: getattr(os, name) for name in dir(os) if not name.startswith("__")})
    fake_os.fdopen = lambda fd, *args, **kwargs: _FullDisk(fd, "wb", closefd=True)
    with monkeypatch.context() as patch:
        patch.setattr(photos, "os", fake_os)
        full = send(client, booked.session_id, fields, photo=jpeg())
    assert full.status_code == 503 and full.get_json()["error"] == "photo_storage_full"
    assert count(app, Photo) == 0 and count(app, DeskAction) == 1  # only the check-in's answer is kept
    again = send(client, booked.session_id, fields, photo=jpeg())  # room again: the same id is applied
    assert again.status_code == 200 and again.get_json()["outcome"] == "applied"
    assert count(app, Photo) == 1


def test_a_reservation_of_another_session_is_a_conflict_not_a_check_in(app, client, login, booked, world):
    login("clerk")
    with app.test_request_context():
        session = db.session.get(DeskSession, booked.session_id)
        other = campaigns.create_session(Actor.system(), db.session.get(Campaign, session.campaign_id),
                                         venue_id=session.venue_id, day=session.date + timedelta(days=1),
                                         start=clock_time(15), end=clock_time(16), slot_minutes=10, desks=2).id
        db.session.commit()
    answer = send(client, other, check_in(booked))
    assert answer.status_code == 200
    assert answer.get_json()["outcome"] == "conflict" and answer.get_json()["code"] == "other_session"
    assert count(app, CheckIn) == 0


def test_erasing_a_campaigns_reservations_deletes_the_desks_stored_answers(app, client, login, booked):
    login("clerk")
    assert send(client, booked.session_id, check_in(booked)).get_json()["outcome"] == "applied"
    assert count(app, DeskAction) == 1
    with app.app_context():
        retention.tally_and_delete([booked.id], reason="retention")
        db.session.commit()
    assert count(app, DeskAction) == 0
