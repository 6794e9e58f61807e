"""Shift-aware planning in Chromium: the admin reads the coverage matrix of the demo plan at
1366×768 and adds a suggested session with one click; a station crew member books on a
phone (390×844) in three taps from a list that puts their duty day at their station first."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Campaign, DeskSession, Staff, Unit
from booking.services import invitations
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_scroll, sign_in_office
from tests.duty.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(app):
    """The demo as seeded today (its sessions two to four weeks ahead), with CSRF on."""
    from booking.demo import seed

    app.config["WTF_CSRF_ENABLED"] = True
    with app.test_request_context(base_url="http://localhost"):
        seed()
        db.session.commit()
        campaign_id = db.session.scalar(select(Campaign.id))
    make_user(app, "planner", "admin")
    return campaign_id


def sessions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(DeskSession.id)))


def test_the_admin_sees_the_gaps_and_adds_a_suggested_session(app, new_page, live_server, demo, screenshot):
    page = new_page(viewport=DESKTOP, locale="ja-JP")
    sign_in_office(page, live_server, "planner", PASSWORD)
    page.goto(f"{live_server}/office/campaigns/{demo}")
    page.get_by_role("link", name="部別の受付機会").click()
    expect(page.locator("h1")).to_have_text("部別の受付機会")
    assert page.locator(".cov-table tbody tr").count() >= 10
    assert page.locator("tr.cov-row--flagged").count() >= 2
    assert_no_horizontal_scroll(page)
    screenshot(page, "coverage-desktop")
    # Issue 16: at most five suggested sessions, not a wall of one-click dates; nothing is created
    # before a confirmation page says what will be.
    picks = page.locator(".cov-proposals input[name=pick]").count()
    assert 1 <= picks <= 5
    assert page.locator("#suggestions button").count() == 1
    before = sessions(app)
    page.get_by_role("button", name="追加する日程を確認").click()
    expect(page.locator("h1")).to_have_text("提案した日程の追加")
    assert page.locator("tbody tr").count() == picks
    assert sessions(app) == before
    assert_no_horizontal_scroll(page)
    screenshot(page, "coverage-confirm")
    added = page.locator("tbody tr").count()
    page.get_by_role("button", name="これらの日程を追加する").click()
    expect(page.locator(".flash--success")).to_be_visible()
    assert sessions(app) == before + added
    screenshot(page, "coverage-after-adding")
    page.goto(f"{live_server}/office/units")
    page.get_by_role("link", name="勤務体制").nth(2).click()
    expect(page.locator("h1")).to_contain_text("勤務体制")
    assert_no_horizontal_scroll(page)
    screenshot(page, "duty-calendar-desktop")


@pytest.mark.parametrize("approval", [False, True], ids=["free", "needs-approval"])
def test_a_station_crew_member_books_their_duty_day_in_three_taps(app, new_page, live_server, demo, screenshot,
                                                                  approval):
    with app.test_request_context(base_url="http://localhost"):
        db.session.get(Campaign, demo).requires_duty_approval = approval
        db.session.commit()
        # Someone still without a card: a card holder finds themselves unticked (booking for family).
        staff = db.session.scalar(select(Staff).join(Staff.unit).where(Unit.code == "B", Staff.crew == "1部",
                                                                       Staff.card_status == "none")
                                  .order_by(Staff.id))
        token = invitations.link_token(staff)
    page = new_page(viewport=PHONE, locale="ja-JP", has_touch=True)
    page.goto(f"{live_server}/i/{token}")
    first = page.locator("a.session-card").first
    assert "当務日・自署" in first.inner_text() and "北消防署" in first.inner_text()
    assert "非番日" in page.inner_text("main")
    assert_no_horizontal_scroll(page)
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": PHONE["width"], "height": max(height, PHONE["height"])})
    screenshot(page, "coverage-booker-list-phone")
    page.set_viewport_size(PHONE)
    taps = 0
    with page.expect_navigation():
        first.tap()
    taps += 1
    page.locator(".slot:not(.slot--closed) label").first.tap()
    taps += 1
    with page.expect_navigation():
        page.get_by_role("button", name="予約する").tap()
    taps += 1
    assert "/r/" in page.url and taps == 3
    if approval:
        assert "所属長の承認が必要です" in page.inner_text(".banner--held")
    else:
        assert "予約が完了しました" in page.inner_text(".banner")
    assert_no_horizontal_scroll(page)
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": PHONE["width"], "height": max(height, PHONE["height"])})
    screenshot(page, f"coverage-booker-confirmation-{'held' if approval else 'free'}-phone")
