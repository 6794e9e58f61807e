"""The booker's session list knows their duty: on duty at their own station first (当務日・自署),
then their days off, then sessions during their shift elsewhere; day workers see weekdays first."""
from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest

from booking.extensions import db
from booking.localtime import local, utcnow
from booking.models import Campaign, Unit
from booking.services import campaigns, directory, duty
from booking.services.actor import Actor
from booking.services.browse import session_choices


def next_weekday(start: date, weekday: int) -> date:
    return start + timedelta(days=(weekday - start.weekday()) % 7)


@pytest.fixture
def plan(app, world):
    """Station A on 二部制 with 1部 on duty on the first session day; B next door; HQ on day work.

    World's booker (1001) is 1部 at A. Sessions, all 18:00–19:00 unless noted:
    A on day 0 (1部 on duty: best), A on day 1 (1部 off duty), B on day 2 (1部 on duty at A: elsewhere).
    """
    with app.test_request_context(base_url="http://localhost"):
        day0 = next_weekday(local(utcnow()).date() + timedelta(days=14), 0)  # a Monday two weeks on
        if duty.public_holiday(day0):
            day0 += timedelta(days=7)
        a = directory.unit_by_code("A")
        hq = directory.unit_by_code("HQ")
        b = directory.create_unit(Actor.system(), code="B", name="北消防署", parent_code="HQ")
        duty.store_plan(hq, duty.check_plan("day_only", None, []))
        for unit in (a, b):
            duty.store_plan(unit, duty.check_plan("two_crew", time(8, 30),
                                                  [("1部", day0), ("2部", day0 + timedelta(days=1))]))
        venue_b = directory.create_venue(Actor.system(), name="北消防署 講堂", address="福島市本内", unit_code="B")
        campaign = db.session.get(Campaign, world.campaign_id)
        campaign.booking_closes_at = campaign.booking_closes_at + timedelta(days=60)
        ids = {
            "elsewhere": campaigns.create_session(Actor.system(), campaign, venue_id=venue_b.id, day=day0 + timedelta(days=2), start=time(18), end=time(19), slot_minutes=10, desks=2).id,
            "off": campaigns.create_session(Actor.system(), campaign, venue_id=world.venue_id, day=day0 + timedelta(days=1), start=time(18), end=time(19), slot_minutes=10, desks=2).id,
            "best": campaigns.create_session(Actor.system(), campaign, venue_id=world.venue_id, day=day0, start=time(18), end=time(19), slot_minutes=10, desks=2).id,
            "saturday": campaigns.create_session(Actor.system(), campaign, venue_id=world.venue_id, day=day0 + timedelta(days=5), start=time(10), end=time(11), slot_minutes=10, desks=2).id,
        }
        db.session.commit()
        return {"day0": day0, "sessions": ids, "b": b.id}


def choices_for(app, staff_number: str):
    from sqlalchemy import select

    from booking.models import Staff

    with app.test_request_context():
        staff = db.session.scalar(select(Staff).where(Staff.staff_number == staff_number))
        campaign = db.session.scalar(select(Campaign))
        days = session_choices(campaign, staff, utcnow())
        return [(c.session.id, c.duty, c.rank) for d in days for c in d.sessions]


def test_a_shift_worker_sees_duty_at_own_station_first_then_days_off_then_shifts_elsewhere(app, world, plan):
    ids = plan["sessions"]
    listed = [(sid, kind) for sid, kind, _rank in choices_for(app, "1001") if sid != world.session_id]
    assert listed[0] == (ids["best"], "duty_here")
    assert listed[-1] == (ids["elsewhere"], "duty_elsewhere")
    kinds = dict(listed)
    assert kinds[ids["off"]] == "off_duty"
    # Day 5 (Saturday) is day0 + 5: 2部's duty day, so 1部 is off duty (非番) that day.
    assert kinds[ids["saturday"]] == "off_duty"


def test_the_invitation_page_marks_duty_at_own_station_and_days_off(app, client, world, plan):
    client.set_cookie("lang", "ja")
    page = client.get(f"/i/{world.invitation_token}").get_data(as_text=True)
    first_card = page[page.index('class="session-card"'):]
    first_card = first_card[:first_card.index("</a>")]
    assert "当務日・自署" in first_card
    assert "非番日" in page
    assert page.index("当務日・自署") < page.index("非番日")
    assert "所属長の承認" not in page  # the campaign does not ask for approval


def test_day_workers_see_weekday_sessions_first(app, world, plan):
    with app.test_request_context():
        directory.add_staff(staff_number="3001", family_name="鈴木", given_name="誠",
                                       family_name_kana="スズキ", given_name_kana="マコト",
                                       unit=db.session.get(Unit, plan["b"]), crew="日勤")
        db.session.commit()
    listed = choices_for(app, "3001")
    weekdays = [rank for sid, kind, rank in listed if kind != "rest"]
    assert [kind for _sid, kind, _rank in listed][-1] == "rest"
    assert max(weekdays) < 2
    ranks = [rank for _sid, _kind, rank in listed]
    assert ranks == sorted(ranks)


def test_a_booker_whose_duty_is_unknown_keeps_the_date_order(app, client, world):
    listed = choices_for(app, "1001")
    assert [kind for _sid, kind, _rank in listed] == [None]


def test_sessions_needing_the_chiefs_approval_say_so(app, client, world, plan):
    with app.app_context():
        db.session.get(Campaign, world.campaign_id).requires_duty_approval = True
        db.session.commit()
    client.set_cookie("lang", "ja")
    page = client.get(f"/i/{world.invitation_token}").get_data(as_text=True)
    # At least: on duty at A on day 0, and during the shift while the desk is at B on day 2.
    assert page.count("所属長の承認が必要") >= 2
    assert page.count("所属長の承認が必要") == sum(1 for _sid, kind, _r in choices_for(app, "1001")
                                                if kind in ("duty_here", "duty_elsewhere"))
    assert "勤務時間内の予約は所属長の承認" in page


def test_the_dates_out_of_date_order_are_grouped_under_headings_that_say_why(app, client, world, plan):
    """Best dates first puts, e.g., the 23rd before the 20th: each group of dates gets a heading, so the
    list does not look out of order. A booker whose duty is unknown gets plain date order, no headings."""
    page = client.get(f"/i/{world.invitation_token}?lang=en").get_data(as_text=True)
    ranks = sorted({rank for _sid, _kind, rank in choices_for(app, "1001")})
    headings = re.findall(r'<h2 class="day-group">([^<]+)</h2>', page)
    labels = {0: "Dates that suit your duty best", 1: "Other dates", 2: "Dates that may suit you less"}
    assert headings == [labels[rank] for rank in ranks] and len(headings) > 1
    # Every date under a heading comes after it and before the next one.
    assert page.index(headings[0]) < page.index('class="session-card"')


def test_no_group_headings_when_the_duty_is_unknown(client, world):
    page = client.get(f"/i/{world.invitation_token}?lang=en").get_data(as_text=True)
    assert 'class="day-group"' not in page
