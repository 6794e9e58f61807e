"""Refused uploads as a person sees them (issue 17, item 7): a photo too large to decode at the desk,
a workbook too large to read on the import page, a body over the upload limit; in Japanese, at
phone and desktop sizes, without sideways scrolling.

Screenshots go to test-artifacts/upload-refused-*.png for a person to look at.
"""
from __future__ import annotations

import pytest
from PIL import Image
from sqlalchemy import select

from booking.extensions import db
from booking.models import CheckIn
from booking.services import accounts, checkin, directory, reservations
from booking.services.actor import Actor
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_scroll
from tests.office.xlsx_files import bomb

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


@pytest.fixture
def people(app, world):
    """A clerk and an admin who sign in with the page's form, and one reservation checked in."""
    app.config["WTF_CSRF_ENABLED"] = True
    with app.test_request_context():
        clerk = accounts.ensure_user("clerk-refused", "clerk", password=PASSWORD)
        accounts.ensure_user("admin-refused", "admin", password=PASSWORD)
        staff = directory.staff_by_number(world.staff_number)
        reservation = reservations.reserve(world.slot_ids[0], staff)
        checkin.check_in(Actor("page", user=clerk), reservation)
        db.session.commit()
        check_in_id = db.session.scalar(select(CheckIn.id))
        return {"reservation_id": reservation.id, "check_in_id": check_in_id}


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/office/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    with page.expect_navigation():
        page.click('form.o-form button[type="submit"]')


@pytest.mark.parametrize("viewport, size", [(PHONE, "390"), (DESKTOP, "1366")])
def test_the_desk_says_why_a_photo_too_large_to_decode_was_refused(people, new_page, live_server, tmp_path,
                                                                    screenshot, viewport, size):
    scan = tmp_path / "scan.png"
    Image.linear_gradient("L").resize((5000, 4000)).save(scan, "PNG")
    page = new_page(viewport=viewport, locale="ja-JP")
    sign_in(page, live_server, "clerk-refused")
    page.goto(f"{live_server}/desk/reservations/{people['reservation_id']}")

    page.set_input_files(f'[data-photo-file="{people["check_in_id"]}"] input[type=file]', str(scan))

    status = page.locator(f'[data-photo-status="{people["check_in_id"]}"]')
    status.filter(has_text="写真が大きすぎて処理できません").wait_for(timeout=15000)
    assert "5000 × 4000" in status.inner_text()
    assert_no_horizontal_scroll(page)
    screenshot(page, f"upload-refused-photo-{size}")


@pytest.mark.parametrize("viewport, size", [(PHONE, "390"), (DESKTOP, "1366")])
def test_the_import_page_says_why_a_workbook_too_large_to_read_was_refused(people, new_page, live_server, tmp_path,
                                                                         screenshot, viewport, size):
    workbook = tmp_path / "staff.xlsx"
    workbook.write_bytes(bomb(["staff_number", "family_name"], 65))
    page = new_page(viewport=viewport, locale="ja-JP")
    sign_in(page, live_server, "admin-refused")
    page.goto(f"{live_server}/office/staff/import")

    page.set_input_files("input[name=file]", str(workbook))
    with page.expect_navigation():
        page.click("#import-upload button[type=submit]")

    problems = page.locator("table.o-errors")
    assert "ブックが大きすぎて読み込めません" in problems.inner_text()
    assert "CSVで保存してください" in problems.inner_text()
    assert_no_horizontal_scroll(page)
    screenshot(page, f"upload-refused-workbook-{size}")


def test_a_file_over_the_upload_limit_gets_a_page_that_says_what_to_do(app, people, new_page, live_server, tmp_path,
                                                                     screenshot):
    app.config["MAX_CONTENT_LENGTH"] = 100_000
    big = tmp_path / "staff.csv"
    big.write_bytes(b"x" * 200_000)
    page = new_page(viewport=PHONE, locale="ja-JP")
    sign_in(page, live_server, "admin-refused")
    page.goto(f"{live_server}/office/staff/import")

    page.set_input_files("input[name=file]", str(big))
    with page.expect_navigation():
        page.click("#import-upload button[type=submit]")

    text = page.locator("main").inner_text()
    assert "ファイルが大きすぎます" in text and "CSVで保存するか、複数のファイルに分けてください" in text
    assert_no_horizontal_scroll(page)
    screenshot(page, "upload-refused-413-390")
