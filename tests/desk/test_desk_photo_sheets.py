"""A session's photos for the applications: the A4 print page and the ZIP named by 申請書ID
(clerk or admin, audited once each, never cached)."""
from __future__ import annotations

import io
import zipfile

import pytest
from photo_session import APPLICATION_ID, session_with_photos
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AuditEvent


@pytest.fixture(autouse=True)
def english(client):
    """These tests read the English messages (Japanese is the default)."""
    client.set_cookie("lang", "en")


@pytest.fixture
def photo_session(app, book_for):
    return session_with_photos(app, book_for)


def audit_count(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def test_the_print_page_shows_every_photo_with_name_and_application_id(app, login, photo_session):
    client = login("clerk")
    response = client.get(f"/desk/sessions/{photo_session['session_id']}/photos/print")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert page.count('src="data:image/jpeg;base64,') == 2
    assert "佐藤 翔太" in page and APPLICATION_ID in page
    assert "佐藤 陽子" in page and "申請書ID not recorded" in page
    assert "高橋 健一" in page and "No photo" in page
    assert audit_count(app, "photo.session_print") == 1
    assert audit_count(app, "photo.view") == 0  # the photos come with the page, not one by one


def test_the_zip_names_photos_by_application_id_and_lists_the_others(app, login, photo_session):
    client = login("admin")
    response = client.get(f"/desk/sessions/{photo_session['session_id']}/photos.zip")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == [f"{APPLICATION_ID}.jpg", "README.txt"]
    assert archive.read(f"{APPLICATION_ID}.jpg")[:2] == b"\xff\xd8"
    readme = archive.read("README.txt").decode("utf-8-sig")
    assert "佐藤 陽子" in readme  # a photo without 申請書ID is listed, not dropped
    assert "高橋 健一" in readme  # and so is someone without a photo
    assert audit_count(app, "photo.session_download") == 1


@pytest.mark.parametrize("role", ["chief", "booker"])
def test_others_may_not_have_the_photos(app, client, login, photo_session, role):
    if role == "chief":
        login("chief", unit_code="A")
    for path in ("photos/print", "photos.zip"):
        response = client.get(f"/desk/sessions/{photo_session['session_id']}/{path}")
        assert response.status_code in (302, 403)
    assert audit_count(app, "photo.session_print") == 0
    assert audit_count(app, "photo.session_download") == 0


def test_the_session_board_links_both(login, photo_session):
    client = login("clerk")
    page = client.get(f"/desk/sessions/{photo_session['session_id']}").get_data(as_text=True)
    assert f"/desk/sessions/{photo_session['session_id']}/photos/print" in page
    assert f"/desk/sessions/{photo_session['session_id']}/photos.zip" in page
