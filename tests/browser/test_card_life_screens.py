"""The card's life in Chromium at the office's size (1366×768): the staff page's card panels, the
expiring-cards page, and that page printed on A4 (page.pdf, cut into PNGs with pdftoppm) for a
person to look at under test-artifacts/."""
from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from booking.extensions import db
from booking.services import accounts, card_life, card_status, directory
from tests.browser.conftest import DESKTOP, assert_no_horizontal_scroll

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery"


@pytest.fixture
def holders(app, world):
    """Forty card holders whose cards and certificates expire over the next year and a half."""
    today = card_status.today()
    pairs = world.add_staff(40, start=8000)
    with app.test_request_context(base_url="http://localhost"):
        accounts.ensure_user("cards-admin", "admin", password=PASSWORD)
        for index, (number, _code) in enumerate(pairs):
            staff = directory.staff_by_number(number)
            expires = card_life.add_months(today, (index * 7) % 19)
            card_life.survey_change(staff, stage="received", on=today - timedelta(days=3650 - index),
                                    card_expires_on=expires,
                                    certificates_expire_on=card_life.add_months(today, (index * 5) % 17),
                                    user=None)
        staff = directory.staff_by_number(world.staff_number)
        card_life.survey_change(staff, stage="applied", on=today - timedelta(days=40), card_expires_on=None,
                                certificates_expire_on=None, user=None)
        card_life.survey_change(staff, stage="mailed", on=today - timedelta(days=20), card_expires_on=None,
                                certificates_expire_on=None, user=None)
        card_life.survey_change(staff, stage="returned", on=today - timedelta(days=5), card_expires_on=None,
                                certificates_expire_on=None, user=None)
        db.session.commit()
    return world


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/office/login")
    page.fill("input[name=username]", "cards-admin")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_the_card_panels_and_the_expiring_page_at_office_size_and_printed(
        app, live_server, new_page, holders, screenshot):
    ARTIFACTS.mkdir(exist_ok=True)
    page = new_page(viewport=DESKTOP, locale="ja-JP")
    _sign_in(page, live_server)
    page.goto(f"{live_server}/office/staff/{holders.staff_id}#card-staff")
    page.locator("#card-staff summary").click()
    assert page.locator("#card-staff select").is_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "card-life-staff-1366")

    page.goto(f"{live_server}/reports/expiring")
    assert page.locator("svg.chart rect.bar-card").count() > 10
    assert_no_horizontal_scroll(page)
    screenshot(page, "card-life-expiring-1366")

    page.goto(f"{live_server}/reports/")
    assert page.locator("svg.chart rect.bar-card").count() > 10
    screenshot(page, "card-life-dashboard-1366")

    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.skip("pdftoppm not found: install Debian's poppler-utils (as .ci/run does)")
    page.goto(f"{live_server}/reports/expiring")
    pdf = ARTIFACTS / "card-life-expiring.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format="A4", print_background=True)
    for old in ARTIFACTS.glob("card-life-expiring-page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "80", "-png", str(pdf), str(ARTIFACTS / "card-life-expiring-page")],
                   check=True)
    pngs = sorted(ARTIFACTS.glob("card-life-expiring-page-*.png"))
    assert len(pngs) == 1, [p.name for p in pngs]
    text = subprocess.run(["pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    # One page: the heading, the chart's months and the table's last month, without the menu.
    last = card_life.add_months(card_status.today().replace(day=1), 17).strftime("%Y-%m")
    assert card_status.today().strftime("%Y-%m") in text and last in text
    assert "本部集計" not in text
