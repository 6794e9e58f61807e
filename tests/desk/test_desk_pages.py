"""The desk pages: sessions, the board and its JSON, finding a reservation, checking in, photos."""
from __future__ import annotations

import io
import re
from datetime import time

import pytest
from desk_images import encoded, photo_like
from sqlalchemy import func, select

from booking.extensions import db
from booking.localtime import at_tokyo
from booking.models import AuditEvent, CheckIn, Photo, Reservation
from booking.services import checkin


@pytest.fixture
def clerk(login):
    return login("clerk")


def test_the_desk_lists_sessions_and_opens_the_board(clerk, world, booked):
    index = clerk.get("/desk/")
    assert index.status_code == 200
    assert f"/desk/sessions/{world.session_id}" in index.get_data(as_text=True)

    board = clerk.get(f"/desk/sessions/{world.session_id}")
    page = board.get_data(as_text=True)
    assert board.status_code == 200
    assert "佐藤 翔太" in page and "サトウ ショウタ" in page and "中央消防署" in page
    assert "<script>" not in page and "onclick" not in page  # CSP: static JS only
    assert "js/desk.js" in page


def test_the_board_json_has_the_rows_in_time_order_with_seats_left(clerk, world, book_for):
    world.add_staff(1)
    later = book_for("2000", slot_index=3)
    first = book_for()

    data = clerk.get(f"/desk/sessions/{world.session_id}/board.json").get_json()

    assert [row["id"] for row in data["rows"]] == [first.id, later.id]
    assert data["rows"][0]["time"] == "15:00" and data["rows"][0]["dependents"] == ["佐藤 陽子"]
    assert data["rows"][0]["status"] == "booked"
    assert data["seats_capacity"] == 12 and data["seats_left"] == 12 - 3
    assert data["counts"]["booked"] == 2


@pytest.mark.parametrize("role, status", [("chief", 403), ("admin", 200)])
def test_desk_pages_are_for_clerks_and_admins(login, world, role, status):
    client = login(role, unit_code="A" if role == "chief" else None)
    assert client.get(f"/desk/sessions/{world.session_id}").status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = client.get(f"/desk/sessions/{world.session_id}")
    assert response.status_code == 302 and "/office/login" in response.headers["Location"]


def test_a_scanned_qr_opens_the_check_in_screen(clerk, world, booked):
    response = clerk.post(f"/desk/sessions/{world.session_id}/find", data={"qr": booked.qr})
    assert response.status_code == 302
    assert f"/desk/reservations/{booked.id}" in response.headers["Location"]

    screen = clerk.get(response.headers["Location"]).get_data(as_text=True)
    for text in ("佐藤 翔太", "サトウ ショウタ", "中央消防署", "1部", "佐藤 陽子", "妻"):
        assert text in screen
    assert screen.count('name="people"') == 2


def test_a_tampered_qr_on_the_page_says_so(clerk, world, booked):
    response = clerk.post(f"/desk/sessions/{world.session_id}/find?lang=en", data={"qr": booked.qr[:-2] + "zz"})
    assert response.status_code == 400
    assert "not a valid reservation" in response.get_data(as_text=True)


def test_an_unknown_code_on_the_page_is_404_with_the_form_again(clerk, world, booked):
    response = clerk.post(f"/desk/sessions/{world.session_id}/find?lang=en", data={"code": "AAAAAA"})
    assert response.status_code == 404
    assert 'name="code"' in response.get_data(as_text=True)


def test_checking_in_only_the_staff_member_leaves_the_spouse_absent(app, clerk, world, booked):
    response = clerk.post(f"/desk/reservations/{booked.id}/check-in?session={world.session_id}",
                          data={"people": [booked.person_ids[0]]})
    assert response.status_code == 302

    with app.app_context():
        assert db.session.get(Reservation, booked.id).status == "checked_in"
        rows = db.session.scalars(select(CheckIn)).all()
        assert [r.reservation_person_id for r in rows] == [booked.person_ids[0]]
        assert rows[0].clerk.username == "clerk-page"
    screen = clerk.get(f"/desk/reservations/{booked.id}?lang=en").get_data(as_text=True)
    assert "Checked in at" in screen and "受付 花子" in screen
    assert "Arrived later?" in screen


def test_a_late_spouse_can_be_checked_in_afterwards(app, clerk, world, booked):
    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": [booked.person_ids[0]]})
    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": [booked.person_ids[1]], "late": "1"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 2


def test_the_second_desk_sees_who_checked_in_and_when(app, clerk, world, booked, client):
    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": booked.person_ids})
    response = clerk.post(f"/desk/reservations/{booked.id}/check-in?lang=en", data={"people": booked.person_ids},
                          follow_redirects=True)
    page = response.get_data(as_text=True)
    assert re.search(r"Already checked in at \d\d:\d\d by 受付 花子", page)


def test_a_cancelled_reservation_cannot_be_checked_in_from_the_page(app, clerk, booked):
    from booking.services import reservations

    with app.test_request_context():
        reservations.cancel(db.session.get(Reservation, booked.id))
        db.session.commit()
    screen = clerk.get(f"/desk/reservations/{booked.id}?lang=en").get_data(as_text=True)
    assert "was cancelled" in screen and 'name="people"' not in screen
    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": booked.person_ids})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 0


def test_a_photo_from_the_page_is_stored_and_served_only_with_no_store(app, clerk, world, booked):
    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": booked.person_ids})
    with app.app_context():
        check_in_id = db.session.scalars(select(CheckIn.id).order_by(CheckIn.id)).first()

    response = clerk.post(
        f"/desk/check-ins/{check_in_id}/photo",
        data={"photo": (io.BytesIO(encoded(photo_like(720, 960))), "p.jpg", "image/jpeg")},
        headers={"Accept": "application/json"}, content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    url = response.get_json()["url"]

    shown = clerk.get(url)
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert shown.headers["Cache-Control"] == "no-store"
    download = clerk.get(f"/desk/check-ins/{check_in_id}/photo.jpg?download=1")
    assert "attachment" in download.headers["Content-Disposition"]
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("photo.%")).order_by(AuditEvent.id)).all()
        assert actions == ["photo.take", "photo.view", "photo.download"]


def test_a_chief_cannot_see_a_photo(app, login, world, booked):
    clerk = login("clerk")
    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": booked.person_ids})
    with app.app_context():
        check_in_id = db.session.scalars(select(CheckIn.id)).first()
    clerk.post(f"/desk/check-ins/{check_in_id}/photo",
               data={"photo": (io.BytesIO(encoded(photo_like(720, 960))), "p.jpg", "image/jpeg")},
               content_type="multipart/form-data")
    clerk.post("/office/logout")
    chief = login("chief", unit_code="A")
    assert chief.get(f"/desk/check-ins/{check_in_id}/photo.jpg").status_code == 403


def test_a_file_that_is_not_a_photo_is_refused_on_the_page(app, clerk, booked):
    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": booked.person_ids})
    with app.app_context():
        check_in_id = db.session.scalars(select(CheckIn.id)).first()
    response = clerk.post(f"/desk/check-ins/{check_in_id}/photo?lang=en",
                          data={"photo": (io.BytesIO(b"hello"), "x.jpg", "image/jpeg")},
                          headers={"Accept": "application/json"}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid_photo"
    with app.app_context():
        assert db.session.scalar(select(Photo)) is None


def test_application_submitted_from_the_page(app, clerk, world, booked, jpeg):
    from booking.models import Staff

    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": booked.person_ids})
    with app.app_context():
        check_in_id = db.session.scalars(select(CheckIn.id).order_by(CheckIn.id)).first()
    clerk.post(f"/desk/check-ins/{check_in_id}/photo", data={"photo": (io.BytesIO(jpeg(600, 800)), "p.jpg")},
               content_type="multipart/form-data")
    response = clerk.post(f"/desk/check-ins/{check_in_id}/application",
                          data={"application_id": "1234 5678 9012 3456 7890 123", "action": "submit"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Staff, world.staff_id).card_status == "applied"


def test_a_clerk_opening_a_confirmation_link_lands_on_the_check_in_screen(clerk, booked):
    path = "/r/" + booked.qr.rsplit("/r/", 1)[1]
    response = clerk.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/desk/reservations/{booked.id}")


def test_anyone_else_opening_the_link_sees_the_booker_page(client, booked):
    path = "/r/" + booked.qr.rsplit("/r/", 1)[1]
    response = client.get(path)
    assert response.status_code == 200
    assert booked.code[:3] in response.get_data(as_text=True)


def test_the_no_show_button_marks_the_rest_once_the_session_has_begun(app, clerk, world, booked, monkeypatch):
    # A week ahead the board offers no button, and a forged click changes nothing.
    board = clerk.get(f"/desk/sessions/{world.session_id}").get_data(as_text=True)
    assert "/no-shows" not in board.split('id="close-title"')[1]
    response = clerk.post(f"/desk/sessions/{world.session_id}/no-shows", follow_redirects=True)
    assert "この日程はまだ始まっていません" in response.get_data(as_text=True)  # said on the board, in Japanese
    with app.app_context():
        assert db.session.get(Reservation, booked.id).status == "booked"

    # At 16:05 on the day, the rest become no-shows.
    monkeypatch.setattr(checkin, "utcnow", lambda: at_tokyo(world.session_day, time(16, 5)))
    response = clerk.post(f"/desk/sessions/{world.session_id}/no-shows")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Reservation, booked.id).status == "no_show"


def test_a_night_session_still_running_after_midnight_stays_under_today(app, clerk, world, monkeypatch):
    """A session from 22:00 to 02:00 is still the one the clerk is running at 00:30: it must not move to
    "Past" when the date changes."""
    from datetime import timedelta

    from booking.desk import views as desk_views
    from booking.models import Campaign, Venue
    from booking.services import slots

    with app.test_request_context():
        campaign = db.session.get(Campaign, world.campaign_id)
        venue = db.session.scalar(select(Venue))
        night = slots.create_session(campaign, venue.id, world.session_day, time(22), time(2), 30, 1)
        db.session.commit()
        night_id = night.id
    monkeypatch.setattr(desk_views, "utcnow", lambda: at_tokyo(world.session_day + timedelta(days=1), time(0, 30)))
    html = clerk.get("/desk/?lang=en").get_data(as_text=True)
    today = html[html.index('id="desk-group-1"'):]
    today = today[:today.index("</section>")]
    assert ">Today<" in today and f'href="/desk/sessions/{night_id}"' in today
    assert f'href="/desk/sessions/{world.session_id}"' not in today  # the afternoon one is over
