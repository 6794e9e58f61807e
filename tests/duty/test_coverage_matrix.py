"""The coverage matrix of the demo's Fukushima-like plan: its gaps, the suggestions, and
none left after adding the suggested sessions with one click each."""
from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AuditEvent, Campaign, DeskSession
from booking.services import coverage
from booking.services.coverage import NOT_POSSIBLE, OFF_DUTY, ON_DUTY_HERE
from tests.duty.conftest import DEMO_NOW, sign_in

#: What the seven demo sessions leave out: the day workers of stations B and C (their
#: sessions are 18:00–19:00, after 17:15), and station C's crews, each with more people
#: without a card than the 12 seats of the one evening that reaches them on duty.
DEMO_GAPS = {("B", "日勤", "no session"), ("C", "日勤", "no session"), ("C", "1部", "seats"), ("C", "2部", "seats")}


def matrix(app):
    with app.test_request_context():
        campaign = db.session.scalar(select(Campaign))
        return coverage.coverage(campaign, now=DEMO_NOW)


def gaps(result) -> set[tuple[str, str, str]]:
    return {(g.unit.code, g.name, "no session" if g.no_duty_session else "seats") for g in result.flagged}


def test_the_demo_plan_has_the_gaps_of_its_evening_sessions(demo):
    result = matrix(demo)
    assert len(result.sessions) == 7
    assert gaps(result) == DEMO_GAPS
    assert not result.unplaced


def test_each_crew_is_reached_on_duty_only_at_its_own_station(demo):
    with demo.test_request_context():
        result = matrix(demo)
        rows = {(g.unit.code, g.name): g for g in result.groups}
        venue_unit = [s.venue.unit.code for s in result.sessions]
    for (unit, name), group in rows.items():
        station = "HQ" if unit in ("HQ", "A", "A1") else unit
        for cell, at in zip(group.cells, venue_unit):
            if cell.state == ON_DUTY_HERE:
                assert at == station and cell.seats > 0, (unit, name, cell.session.date)
            if at != station and cell.state != OFF_DUTY:
                assert cell.state == NOT_POSSIBLE and name != "日勤"
    # The three days at HQ reach both crews of the central station (and its branch office).
    for unit in ("A", "A1"):
        assert rows[(unit, "1部")].on_duty_sessions and rows[(unit, "2部")].on_duty_sessions


def test_suggestions_offer_the_crews_duty_days_with_the_stations_times(demo):
    result = matrix(demo)
    by_group = {(s.group.unit.code, s.group.name): s for s in result.suggestions}
    c1 = by_group[("C", "1部")]
    assert c1.venue.name == "南消防署 1階会議室" and (c1.start, c1.end) == (time(18), time(19))
    assert c1.dates and all(c1.group.plan.state("1部", d) == "on_duty" for d in c1.dates)
    assert all(result.period[0] <= d <= result.period[1] for d in c1.dates)
    # Day workers: weekdays only, and the evening hours moved into the working day.
    b_day = by_group[("B", "日勤")]
    assert (b_day.start, b_day.end) == (time(16, 15), time(17, 15))
    assert b_day.dates and all(d.weekday() < 5 for d in b_day.dates)
    assert date(2026, 7, 20) not in b_day.dates  # 海の日


def test_adding_the_suggested_sessions_leaves_no_gap(demo, client, monkeypatch):
    monkeypatch.setattr(coverage, "utcnow", lambda: DEMO_NOW)
    sign_in(client, "planner")
    with demo.test_request_context():
        campaign_id = db.session.scalar(select(Campaign.id))
    for _round in range(3):
        result = matrix(demo)
        if not result.flagged:
            break
        for suggestion in result.suggestions:
            response = client.post(f"/office/campaigns/{campaign_id}/coverage/sessions", data={
                "unit_id": suggestion.group.unit.id, "group": suggestion.group.name,
                "day": suggestion.dates[0].isoformat()})
            assert response.status_code == 302
    result = matrix(demo)
    assert result.flagged == []
    with demo.app_context():
        added = db.session.scalar(select(func.count()).select_from(DeskSession)) - 7
        # The demo's own sessions are audited too, from the command line: count the page's.
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "session.create",
                                                             AuditEvent.channel == "page")).all()
    assert added == len(DEMO_GAPS) == len(events)
    assert all(e.details["suggested_for"]["group"] for e in events)
    page = client.get(f"/office/campaigns/{campaign_id}/coverage").get_data(as_text=True)
    assert "Every crew can attend a session on duty at its own station" in page


def test_a_suggested_session_is_added_with_the_copied_times_and_its_slots(demo, client, monkeypatch):
    monkeypatch.setattr(coverage, "utcnow", lambda: DEMO_NOW)
    sign_in(client, "planner")
    result = matrix(demo)
    suggestion = next(s for s in result.suggestions if s.group.name == "日勤")
    day = suggestion.dates[0]
    client.post(f"/office/campaigns/{result.campaign.id}/coverage/sessions", data={
        "unit_id": suggestion.group.unit.id, "group": "日勤", "day": day.isoformat()})
    with demo.app_context():
        session = db.session.scalar(select(DeskSession).where(DeskSession.date == day))
        assert (session.start_time, session.end_time, session.slot_minutes, session.desks) == (
            time(16, 15), time(17, 15), 10, 2)
        assert len(session.slots) == 6 and session.venue_id == suggestion.venue.id


def test_a_date_outside_the_suggestions_is_refused(demo, client, monkeypatch):
    monkeypatch.setattr(coverage, "utcnow", lambda: DEMO_NOW)
    sign_in(client, "planner")
    result = matrix(demo)
    suggestion = next(s for s in result.suggestions if s.group.name == "1部")
    off_day = next(d for d in [suggestion.dates[0].replace(day=suggestion.dates[0].day + 1)]
                   if d not in suggestion.dates)
    response = client.post(f"/office/campaigns/{result.campaign.id}/coverage/sessions", data={
        "unit_id": suggestion.group.unit.id, "group": "1部", "day": off_day.isoformat()}, follow_redirects=True)
    assert "cannot be suggested for this group on this date" in response.get_data(as_text=True)
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(DeskSession)) == 7


def test_the_coverage_page_shows_the_matrix_flags_and_suggestions(demo, client, monkeypatch):
    monkeypatch.setattr(coverage, "utcnow", lambda: DEMO_NOW)
    sign_in(client, "planner")
    with demo.app_context():
        campaign_id = db.session.scalar(select(Campaign.id))
    page = client.get(f"/office/campaigns/{campaign_id}/coverage").get_data(as_text=True)
    assert "Coverage by crew" in page and "北消防署" in page and "Day work (日勤)" in page
    assert page.count("No session on duty") >= 2 and "Too few seats" in page
    assert 'name="day"' in page and "Suggestions" in page
    campaign_page = client.get(f"/office/campaigns/{campaign_id}").get_data(as_text=True)
    assert f"/office/campaigns/{campaign_id}/coverage" in campaign_page


@pytest.mark.parametrize("crew,expected", [("1部", "1部"), ("日勤", "日勤"), ("4部", None)])
def test_staff_with_a_crew_the_calendar_does_not_name_are_listed_apart(demo, crew, expected):
    from booking.services import directory

    with demo.test_request_context():
        directory.add_staff(staff_number="9999", family_name="山田", given_name="誠", family_name_kana="ヤマダ",
                               given_name_kana="マコト", unit=directory.unit_by_code("B"), crew=crew)
        db.session.commit()
    result = matrix(demo)
    if expected is None:
        assert [(u.unit.code, u.crew, u.staff) for u in result.unplaced] == [("B", "4部", 1)]
    else:
        assert not result.unplaced
