"""Issue 16 item 5 in Chromium: a booker on a phone reads the year of a session that is not in the
current year (and of a window that crosses one), and not for this year's dates."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from booking.extensions import db
from booking.localtime import TOKYO
from booking.services import campaigns
from booking.services.actor import Actor

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_a_booker_reads_the_year_of_next_years_session_and_not_of_this_years(
        app, live_server, new_page, world, screenshot):
    next_year = world.session_day.replace(year=world.session_day.year + 1, month=7, day=9)
    with app.test_request_context():
        campaign = campaigns.create_campaign(
            Actor.system(), title="来年度の出張申請", booking_opens_at=datetime.now(UTC) - timedelta(hours=1),
            booking_closes_at=datetime.combine(next_year, time(17), tzinfo=TOKYO), published=True)
        campaigns.create_session(Actor.system(), campaign, venue_id=world.venue_id, day=next_year,
                                 start=time(9), end=time(10), slot_minutes=10, desks=1)
        db.session.commit()
    page = new_page(viewport=PHONE, locale="ja-JP")
    page.goto(f"{live_server}/i/{world.invitation_token}")
    text = page.locator("main").inner_text()
    screenshot(page, "dates-booker-next-year-390")
    assert f"{next_year.year}年{next_year.month}月{next_year.day}日" in text
    this_year = world.session_day
    if this_year.year == datetime.now(TOKYO).year:
        label = f"{this_year.month}月{this_year.day}日"
        assert label in text and f"{this_year.year}年{label}" not in text
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
