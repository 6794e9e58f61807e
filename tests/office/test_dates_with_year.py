"""Issue 16, item 5: the year is written whenever a date is not in the current year or a range
crosses one, and always on printed pages (the personal-data page, invitation slips, rosters); slips
that mix campaigns name each campaign and its deadline."""
from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest

from booking.extensions import db
from booking.localtime import TOKYO
from booking.services import campaigns
from booking.services.actor import Actor


def english_day(day) -> str:
    return f"{day:%a} {day.day} {day:%B}"


@pytest.fixture
def long_campaign(app, office):
    """A campaign whose window runs from now into next year, with a session next year."""
    today = office.today
    next_year = today.replace(year=today.year + 1, month=7, day=9)
    with app.test_request_context():
        campaign = campaigns.create_campaign(
            Actor.system(), title="来年度の出張申請", booking_opens_at=datetime.now(UTC) - timedelta(hours=1),
            booking_closes_at=datetime.combine(next_year, time(17), tzinfo=TOKYO), published=True,
            what_to_bring="")
        session = campaigns.create_session(Actor.system(), campaign, venue_id=office.ids["venue"],
                                           day=next_year - timedelta(days=1), start=time(18), end=time(19),
                                           slot_minutes=10, desks=1)
        db.session.commit()
        return {"campaign": campaign.id, "session": session.id, "day": next_year - timedelta(days=1),
                "closes": next_year}


def test_a_booking_window_that_crosses_a_year_shows_the_year_on_both_ends(client, login, office, long_campaign):
    admin = login("admin")
    opens_year, closes_year = office.today.year, long_campaign["closes"].year
    for url in ("/office/", f"/office/campaigns/{long_campaign['campaign']}"):
        page = admin.get(url).get_data(as_text=True)
        window = re.search(r"\w{3} \d+ \w+ (\d{4}) \d\d:\d\d – \w{3} \d+ \w+ (\d{4}) \d\d:\d\d", page)
        assert window and window.groups() == (str(opens_year), str(closes_year)), url


def test_a_date_in_another_year_shows_its_year_and_this_years_do_not(client, login, office, long_campaign):
    page = login("admin").get(f"/office/campaigns/{long_campaign['campaign']}").get_data(as_text=True)
    assert f"{english_day(long_campaign['day'])} {long_campaign['day'].year}" in page
    page = login("admin").get(f"/office/campaigns/{office.ids['campaign']}").get_data(as_text=True)
    if office.session_day.year == office.today.year:
        assert f"{english_day(office.session_day)} {office.session_day.year}" not in page
        assert english_day(office.session_day) in page


def test_the_personal_data_page_writes_the_year_of_every_date(client, login, office):
    page = login("admin").get("/office/personal-data").get_data(as_text=True)
    table = page[page.index("<table"):]
    dates = re.findall(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d+ [A-Z][a-z]+( \d{4})?", table)
    assert dates and all(dates), dates


def test_slips_that_mix_campaigns_name_each_campaign_its_deadline_and_the_years(client, login, office,
                                                                               long_campaign):
    page = login("chief_a").get("/chiefs/slips", query_string={"staff": office.ids["staff_a"]}).get_data(as_text=True)
    assert "出張申請" in page and "来年度の出張申請" in page
    assert page.count("book by") == 2
    assert f"{english_day(office.session_day)} {office.session_day.year}" in page
    assert f"{english_day(long_campaign['day'])} {long_campaign['day'].year}" in page


def test_the_printed_roster_has_the_year(client, login, office):
    page = login("chief_a").get(f"/chiefs/sessions/{office.ids['session']}/roster").get_data(as_text=True)
    assert f"{english_day(office.session_day)} {office.session_day.year}" in page
