"""The report upward with a version sent and changes since, and the departures of a full import,
in Chromium at the office's size (1366×768): no accessibility violation (axe, injected: the context
bypasses the CSP), nothing cut off.
Screenshots go to test-artifacts/ for a person to look at."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from booking.extensions import db
from booking.models import Dependent, Staff
from booking.services import accounts, card_status, staff_import
from booking.services.actor import Actor
from tests.accessibility.conftest import axe_violations
from tests.browser.conftest import DESKTOP, assert_no_horizontal_scroll

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture
def history(app, world):
    """Staff who joined long ago, a status dated back after the report was sent, and an upload
    that leaves out two staff."""
    world.add_staff(6, start=7000)
    with app.test_request_context(base_url="http://localhost"):
        admin = accounts.ensure_user("asof-admin", "admin", password=PASSWORD)
        admin.display_name = "総務 太郎"
        db.session.execute(update(Staff).values(joined_on=card_status.today() - timedelta(days=3000)))
        db.session.execute(update(Dependent).values(joined_on=card_status.today() - timedelta(days=3000)))
        db.session.commit()
        header = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code"
        lines = [f"{n},田中,{n},タナカ,タロウ,A" for n in range(7000, 7004)] + ["1001,佐藤,翔太,サトウ,ショウタ,A"]
        batch, _parsed, _plan = staff_import.stage_upload(
            Actor(channel="web", user=admin), "全職員.csv", "\n".join([header, *lines]).encode())
        db.session.commit()
        return batch.id


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/office/login")
    page.fill("input[name=username]", "asof-admin")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_the_report_page_with_a_sent_version_and_its_changes(app, live_server, new_page, history, screenshot):
    day = card_status.today() - timedelta(days=7)
    page = new_page(viewport=DESKTOP, locale="ja-JP", bypass_csp=True)
    _sign_in(page, live_server)
    page.goto(f"{live_server}/reports/upward?as_of={day.isoformat()}&department=福島市消防本部")
    with page.expect_navigation():
        page.locator("form[action$='/upward/sent'] button").click()
    with app.app_context():
        for number in ("7000", "7001"):
            staff = db.session.scalar(select(Staff).where(Staff.staff_number == number))
            card_status.record_change(staff, "applied", on=day - timedelta(days=3), source="edit")
        db.session.commit()
    page.reload()
    assert page.locator("#sent-title").is_visible()
    assert page.get_by_text("中央消防署").first.is_visible()
    screenshot(page, "report-upward-sent-1366")
    assert axe_violations(page) == []
    assert_no_horizontal_scroll(page)
    page.goto(f"{live_server}/reports/upward")  # the coming surveys, not yet come
    screenshot(page, "report-upward-coming-1366")
    assert axe_violations(page) == []


def test_the_departures_of_a_full_import(app, live_server, new_page, history, screenshot):
    page = new_page(viewport=DESKTOP, locale="ja-JP", bypass_csp=True)
    _sign_in(page, live_server)
    page.goto(f"{live_server}/office/staff/import/{history}/departures")
    assert page.locator("input[name=staff_ids]").count() == 2  # 7004 and 7005
    screenshot(page, "import-departures-1366")
    assert axe_violations(page) == []
    assert_no_horizontal_scroll(page)
