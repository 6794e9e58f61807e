"""Issue 16 items 2 and 10 in Chromium, at each user's size: the desk's no-show confirmation at a
night session (820x1180), messages below the desk menu, the no-show list's default campaign, the
printed roster's ticked boxes, and the booker's slot grid (390x844): full sessions not links, the
sticky bar restating the time, a keyboard-focused time not hidden under it."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.localtime import TOKYO, at_tokyo
from booking.models import Campaign, DeskSession, Reservation, Slot, Staff
from booking.services import accounts, campaigns, checkin, directory, reservations
from booking.services.actor import Actor
from tests.browser.conftest import assert_no_horizontal_scroll

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESK = {"width": 820, "height": 1180}
OFFICE = {"width": 1366, "height": 768}
PASSWORD = "walk-through-1"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/office/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()


@pytest.fixture
def running(app, world):
    """A session running now (started 90 minutes ago, ends in 90), with bookings whose slots ended an
    hour ago, ended 15 minutes ago (inside the 30-minute grace) and start in 40 minutes."""
    now = datetime.now(UTC)
    start = (now - timedelta(minutes=90)).astimezone(TOKYO).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 10)
    world.add_staff(3)
    with app.test_request_context(base_url="http://localhost"):
        campaign = db.session.get(Campaign, world.campaign_id)
        campaign.booking_opens_at = now - timedelta(days=3)
        campaign.booking_closes_at = now + timedelta(days=10)
        session = campaigns.create_session(
            Actor.system(), campaign, venue_id=world.venue_id, day=start.date(), start=start.time(),
            end=(start + timedelta(minutes=180)).time(), slot_minutes=10, desks=2)
        accounts.ensure_user("night-clerk", "clerk", password=PASSWORD)
        db.session.flush()
        by_end = {}
        for number, ends_in in (("2000", -60), ("2001", -15), ("2002", 50)):
            slot = next(s for s in session.slots if s.ends_at >= now + timedelta(minutes=ends_in - 5))
            staff = directory.staff_by_number(number)
            by_end[ends_in] = reservations.reserve(slot.id, staff, now=now - timedelta(days=1)).id
        db.session.commit()
        return {"session_id": session.id, "by_end": by_end}


def test_the_no_show_confirmation_lists_only_the_people_whose_time_is_over(app, live_server, new_page, running,
                                                                           screenshot):
    page = new_page(viewport=DESK)
    sign_in(page, live_server, "night-clerk")
    page.goto(f"{live_server}/desk/sessions/{running['session_id']}")
    screenshot(page, "defects-desk-board-820")
    page.get_by_role("link", name="残りを来場なしにする…").or_(
        page.get_by_role("link", name="Mark the rest as no-shows…")).click()
    page.wait_for_load_state()
    listed = page.locator("[data-no-show-list] li")
    assert listed.count() == 1
    assert "田中 2000" in listed.first.inner_text()
    assert "1" in page.locator(".desk-close__count").inner_text()
    screenshot(page, "defects-desk-no-show-confirm-820")
    page.locator("form button[type=submit].button--quiet-danger").click()
    page.wait_for_load_state()
    # Back on the board: the message sits below the desk menu, not above it.
    flash = page.locator(".flash").first
    nav = page.locator("nav.office-nav")
    assert flash.bounding_box()["y"] > nav.bounding_box()["y"] + nav.bounding_box()["height"] - 1
    screenshot(page, "defects-desk-board-after-820")
    with app.app_context():
        status = {ends: db.session.get(Reservation, rid).status for ends, rid in running["by_end"].items()}
    assert status == {-60: "no_show", -15: "booked", 50: "booked"}


def test_the_no_show_list_opens_on_the_campaign_running_now_not_a_future_one(app, live_server, new_page, running,
                                                                             world, screenshot):
    with app.test_request_context(base_url="http://localhost"):
        future = campaigns.create_campaign(
            Actor.system(), title="来年度の出張申請", booking_opens_at=datetime.now(UTC) + timedelta(days=30),
            booking_closes_at=datetime.now(UTC) + timedelta(days=60), published=True)
        campaigns.create_session(Actor.system(), future, venue_id=world.venue_id,
                                 day=(datetime.now(UTC) + timedelta(days=50)).date(), start=time(15), end=time(16),
                                 slot_minutes=10, desks=2)
        checkin.mark_no_shows(Actor.command_line(), db.session.get(DeskSession, running["session_id"]))
        db.session.commit()
    page = new_page(viewport=OFFICE)
    sign_in(page, live_server, "night-clerk")
    page.goto(f"{live_server}/desk/no-shows")
    selected = page.locator("select[name=campaign] option:checked").inner_text()
    assert selected.strip() == "出張申請"
    assert "田中 2000" in page.locator("main").inner_text()
    screenshot(page, "defects-no-shows-1366")


def test_the_printed_roster_ticks_the_boxes_of_people_checked_in(app, live_server, new_page, running, screenshot):
    with app.test_request_context(base_url="http://localhost"):
        accounts.ensure_user("roster-admin", "admin", password=PASSWORD)
        reservation = db.session.get(Reservation, running["by_end"][-15])
        checkin.check_in(Actor("page", user=accounts.ensure_user("night-clerk", "clerk")), reservation)
        session = db.session.get(DeskSession, running["session_id"])
        day, venue_id = session.date, session.venue_id
        db.session.commit()
    page = new_page(viewport=OFFICE)
    sign_in(page, live_server, "roster-admin")
    page.goto(f"{live_server}/chiefs/sessions/{running['session_id']}/roster")
    page.emulate_media(media="print")
    rows = page.locator("tr.roster__row")
    ticked = {rows.nth(i).locator(".name__kanji").inner_text(): rows.nth(i).locator(".tick--done").count()
              for i in range(rows.count())}
    assert ticked["田中 2001"] == 1 and ticked["田中 2000"] == 0 and ticked["田中 2002"] == 0
    assert rows.filter(has_text="田中 2001").locator(".tick").first.inner_text() == "✓"
    screenshot(page, "defects-roster-print-1366")
    assert day and venue_id


@pytest.fixture
def grid(app, world):
    """The world's session with a full first hour of slots and a second session that is full."""
    with app.test_request_context(base_url="http://localhost"):
        campaign = db.session.get(Campaign, world.campaign_id)
        full = campaigns.create_session(Actor.system(), campaign, venue_id=world.venue_id,
                                        day=world.session_day + timedelta(days=1), start=time(15), end=time(15, 30),
                                        slot_minutes=10, desks=1)
        db.session.flush()
        for slot in full.slots:
            slot.seats_taken = slot.capacity
        # Enough times for the grid to run past the sticky bar on a phone.
        session = db.session.get(DeskSession, world.session_id)
        session.end_time = time(20)
        start = at_tokyo(world.session_day, time(16))
        for i in range(24):
            session.slots.append(Slot(starts_at=start + timedelta(minutes=10 * i),
                                      ends_at=start + timedelta(minutes=10 * i + 10), capacity=2))
        db.session.commit()
        return full.id


def test_a_full_session_is_not_a_link(live_server, new_page, world, grid, screenshot):
    page = new_page(viewport=PHONE)
    page.goto(f"{live_server}/i/{world.invitation_token}")
    cards = page.locator(".session-card")
    assert cards.count() == 2
    full = page.locator(".session-card--full")
    assert full.count() == 1
    assert full.evaluate("e => e.tagName") != "A" and full.locator("a").count() == 0
    assert page.locator(f"a[href*='/sessions/{grid}']").count() == 0
    screenshot(page, "defects-booker-sessions-390")


def test_the_book_bar_restates_the_time_and_a_focused_time_is_not_under_it(live_server, new_page, world, grid,
                                                                          screenshot):
    page = new_page(viewport=PHONE)
    page.goto(f"{live_server}/i/{world.invitation_token}/sessions/{world.session_id}")
    chosen = page.locator("[data-chosen]")
    assert not chosen.is_visible()
    page.locator(".slot label").nth(2).click()
    assert chosen.is_visible()
    text = chosen.inner_text()
    assert "15:20–15:30" in text and "月" in text, text  # the date and the time
    screenshot(page, "defects-booker-grid-chosen-390")

    # Keyboard: from the first time, arrow down the grid; each focused time stays clear of the bar.
    page.locator(".slot input").first.focus()
    bar = page.locator(".sticky-actions")
    for _ in range(20):
        page.keyboard.press("ArrowRight")
        focused = page.evaluate("document.activeElement.closest('.slot').getBoundingClientRect().bottom")
        bar_top = bar.bounding_box()["y"]
        assert focused <= bar_top + 1, (focused, bar_top)
    assert "18:20–18:30" in chosen.inner_text()  # the arrows chose as they went (20 times on from 15:00)
    page.screenshot(path=str(ARTIFACTS / "defects-booker-grid-keyboard-390.png"))


def test_after_booking_closed_the_booker_is_told_whom_to_call_on_a_phone(app, live_server, new_page, world,
                                                                        screenshot):
    with app.test_request_context(base_url="http://localhost"):
        staff = db.session.get(Staff, world.staff_id)
        reservation = reservations.reserve(world.slot_ids[1], staff, dependent_ids=[world.dependent_id])
        token = reservations.manage_token(reservation)
        campaign = db.session.get(Campaign, world.campaign_id)
        campaign.contact_phone = "024-535-1111（内線 2150）"
        campaign.booking_closes_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
    page = new_page(viewport=PHONE)
    for suffix, name in (("", "manage"), ("/move", "move"), ("/cancel", "cancel")):
        page.goto(f"{live_server}/r/{token}{suffix}")
        closed = page.locator("[data-booking-closed]")
        assert closed.count() == 1 and closed.is_visible()
        assert page.locator("a[href='tel:0245351111']").count() >= 1 or name == "move"
        assert page.locator(f"a[href$='/r/{token}/move']").count() == 0
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        screenshot(page, f"defects-booker-closed-{name}-390")


def test_the_campaign_form_and_page_show_the_grace_and_the_phone(app, live_server, new_page, world, screenshot):
    with app.app_context():
        accounts.ensure_user("plan-admin", "admin", password=PASSWORD)
        db.session.commit()
    page = new_page(viewport=OFFICE)
    sign_in(page, live_server, "plan-admin")
    page.goto(f"{live_server}/office/campaigns/{world.campaign_id}/edit")
    page.fill("input[name=no_show_grace_minutes]", "45")
    page.fill("input[name=contact_phone]", "024-535-1111（内線 2150）")
    page.fill("input[name=desk_offline_keep_minutes]", "90")
    screenshot(page, "defects-campaign-form-1366")
    page.set_viewport_size({"width": 820, "height": 1180})
    assert_no_horizontal_scroll(page)
    screenshot(page, "defects-campaign-form-820")
    page.set_viewport_size(OFFICE)
    assert page.locator("input[name=contact_phone]").get_attribute("inputmode") == "tel"
    page.locator("form.o-form button[type=submit]").click()
    page.wait_for_load_state()
    assert "024-535-1111（内線 2150）" in page.locator("main").inner_text()
    screenshot(page, "defects-campaign-page-1366")
    with app.app_context():
        assert db.session.scalar(select(Campaign.no_show_grace_minutes)) == 45
        assert db.session.scalar(select(Campaign.desk_offline_keep_minutes)) == 90
