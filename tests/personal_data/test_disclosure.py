"""A person's data on request: an admin exports it (JSON, print view) and can delete it; both audited."""
from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AuditEvent, Dependent, Reservation, Slot, Staff


def audit_events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def staff_id(app, number: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Staff.id).where(Staff.staff_number == number))


def test_the_json_export_holds_the_staff_member_dependents_reservations_check_ins_and_photo(
        app, client, world, populated, sign_in):
    sign_in("admin")
    response = client.get(f"/office/personal-data/staff/{world.staff_id}.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"] and response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["staff"]["staff_number"] == "1001" and data["staff"]["family_name"] == "佐藤"
    assert [d["given_name"] for d in data["dependents"]] == ["陽子"]
    (reservation,) = data["reservations"]
    assert reservation["status"] == "checked_in" and reservation["seats"] == 2
    staff_person = reservation["people"][0]
    assert staff_person["check_in"]["application_submitted"] is True
    assert staff_person["check_in"]["photo"]["width"] > 0
    assert [e["to_status"] for e in data["card_status_history"]] == ["applied"]
    # The machine-readable copy keeps the codes and ISO 8601 times in UTC.
    with app.app_context():
        slot = db.session.get(Slot, world.slot_ids[0])
        assert reservation["starts_at"] == slot.starts_at.isoformat() and reservation["starts_at"].endswith("+00:00")
    assert reservation["channel"] == "web" and data["staff"]["card_status"] == "applied"
    assert {"checkin", "photo.take"} <= {e["action"] for e in data["audit_events"]}
    (event,) = audit_events(app, "personal_data.export")
    assert event.target_id == str(world.staff_id) and event.details["form"] == "json"
    assert event.actor == "admin-pd"


def test_the_print_view_shows_everything_and_is_audited(app, client, world, populated, sign_in):
    sign_in("admin")
    response = client.get(f"/office/personal-data/staff/{world.staff_id}?lang=en")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Personal data held about 佐藤 翔太" in page and "陽子" in page and "Checked in" in page
    assert "data-print" in page and "css/disclosure.css" in page
    (event,) = audit_events(app, "personal_data.export")
    assert event.details["form"] == "print"


def article(page: str) -> str:
    return page[page.index('<article class="disclosure">'):page.index("</article>")]


def test_the_print_view_is_a_document_with_labels_words_and_tokyo_times(app, client, world, populated, sign_in):
    sign_in("admin")
    page = article(client.get(f"/office/personal-data/staff/{world.staff_id}?lang=en").get_data(as_text=True))
    for th, td in (("Staff number", "1001"), ("Card status", "Applied"), ("Status", "Checked in"),
                   ("Booked through", "Web")):
        assert f'<th scope="row">{th}</th><td>{td}' in page, th
    for words in ("No card → Applied", "At the application desk", "Reservation code", "Staff member", "Dependent",
                  "Application submitted", "Clerk: desk-clerk", "Photo taken"):
        assert words in page, words
    # The 15:00 slot (06:00 UTC) reads as 15:00 in Tokyo, with the day and the year.
    day = world.session_day
    assert f"{day.strftime('%a')} {day.day} {day.strftime('%B')} {day.year} 15:00–15:10" in page
    for raw in ("card_status_on", "staff_number", "family_name", "checked_in_at", ">none<", ">applied<",
                ">checked_in<", ">web<", ">staff<", ">desk<", "photo.take", ">checkin<", "+00:00"):
        assert raw not in page, raw
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", page)


def test_the_print_view_is_japanese_by_default(client, world, populated, sign_in):
    sign_in("admin")
    page = article(client.get(f"/office/personal-data/staff/{world.staff_id}?lang=ja").get_data(as_text=True))
    day = world.session_day
    assert f"{day.year}年{day.month}月{day.day}日(" in page and ") 15:00–15:10" in page
    for words in ("職員番号", "カード状況", "申請済み", "未申請", "予約番号", "受付済み", "被扶養者"):
        assert words in page, words
    assert "06:00:00+00:00" not in page and "card_status" not in page


def test_the_personal_data_page_finds_the_staff_member(client, world, populated, sign_in):
    sign_in("admin")
    page = client.get("/office/personal-data?q=1001&lang=en").get_data(as_text=True)
    assert f"/office/personal-data/staff/{world.staff_id}" in page


def test_only_an_admin_may_export_or_delete(app, client, world, populated, sign_in):
    sign_in("chief", unit_code="A")
    assert client.get(f"/office/personal-data/staff/{world.staff_id}.json").status_code == 403
    assert client.post(f"/office/personal-data/staff/{world.staff_id}/erase",
                       data={"confirm": "1001"}).status_code == 403
    assert audit_events(app, "personal_data.export") == []
    assert staff_id(app, "1001") is not None


def test_erasing_needs_the_staff_number_typed(app, client, world, populated, sign_in):
    sign_in("admin")
    response = client.post(f"/office/personal-data/staff/{world.staff_id}/erase?lang=en", data={"confirm": "9999"})
    assert response.status_code == 302
    assert staff_id(app, "1001") is not None
    assert audit_events(app, "personal_data.erase") == []


def test_erasing_deletes_the_person_and_dependents_and_keeps_the_session_counts(
        app, client, runner, world, populated, sign_in):
    photo = Path(app.config["PHOTO_DIR"]) / populated.photo_name
    with app.app_context():
        taken_before = db.session.get(Slot, world.slot_ids[0]).seats_taken
    sign_in("admin")
    response = client.post(f"/office/personal-data/staff/{world.staff_id}/erase?lang=en", data={"confirm": "1001"})
    assert response.status_code == 302
    assert "was deleted" in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Staff, world.staff_id) is None
        assert db.session.scalar(select(func.count()).select_from(Dependent)) == 0
        assert db.session.scalar(select(func.count()).select_from(Reservation).where(
            Reservation.staff_id == world.staff_id)) == 0
        # A checked-in visit stays in the session's figures as a count.
        assert db.session.get(Slot, world.slot_ids[0]).seats_taken == taken_before
    assert not photo.exists()
    (event,) = audit_events(app, "personal_data.erase")
    assert event.details["staff_number"] == "1001" and event.details["photos"] == 1
    assert runner.invoke(args=["check"]).exit_code == 0


def test_erasing_someone_with_a_booking_frees_the_seat_through_the_cancellation(
        app, client, runner, world, populated, sign_in):
    booked_staff = staff_id(app, "3000")
    with app.app_context():
        taken_before = db.session.get(Slot, world.slot_ids[1]).seats_taken
    sign_in("admin")
    client.post(f"/office/personal-data/staff/{booked_staff}/erase", data={"confirm": "3000"})
    with app.app_context():
        assert db.session.get(Slot, world.slot_ids[1]).seats_taken == taken_before - 1
    (event,) = audit_events(app, "personal_data.erase")
    assert event.details["cancelled"] == 1
    assert runner.invoke(args=["check"]).exit_code == 0
