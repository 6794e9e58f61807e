"""The coverage matrix of the demo's Fukushima-like plan: its gaps, the suggestions, and
none left after adding the suggested sessions with one click each."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AuditEvent, Campaign, DeskSession
from booking.services import coverage, slots
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


def test_at_most_five_suggestions_the_fewest_that_reach_every_flagged_group(demo):
    result = matrix(demo)
    reached = {(g.unit.code, g.name) for p in result.proposals for g in p.groups}
    assert reached == {(unit, name) for unit, name, _why in DEMO_GAPS} and not result.unreachable
    # Station C's day workers and the crew on duty share a weekday afternoon: three sessions, not four.
    assert len(result.proposals) == 3
    for p in result.proposals:
        assert result.period[0] <= p.day <= result.period[1]
        assert all(p.venue.id in g.station_venue_ids for g in p.groups)
        assert all(g.plan.on_duty_during(g.name, *slots.session_bounds(p.day, p.start, p.end)) for g in p.groups)
    b_day = next(p for p in result.proposals if [(g.unit.code, g.name) for g in p.groups] == [("B", "日勤")])
    assert (b_day.start, b_day.end) == (time(16, 15), time(17, 15)) and b_day.day.weekday() < 5


def test_equal_choices_go_to_the_day_nearest_the_campaigns_other_sessions(demo):
    from booking.services.duty import is_working_day

    result = matrix(demo)
    b_day = next(p for p in result.proposals if [(g.unit.code, g.name) for g in p.groups] == [("B", "日勤")])
    first, last = result.period
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    session_days = [s.date for s in result.sessions]
    nearest = min((d for d in days if is_working_day(d)),
                  key=lambda d: (min(abs((d - o).days) for o in session_days), d))
    assert b_day.day == nearest
    assert date(2026, 7, 20) != b_day.day  # 海の日


def confirm_and_add(client, campaign_id: int, keys: list[str]):
    page = client.get(f"/office/campaigns/{campaign_id}/coverage/sessions", query_string={"pick": keys})
    assert page.status_code == 200
    assert "Add the suggested sessions" in page.get_data(as_text=True)
    return client.post(f"/office/campaigns/{campaign_id}/coverage/sessions",
                       data={f"pick-{n}": key for n, key in enumerate(keys)})


def test_nothing_is_added_until_the_confirmation_and_then_no_crew_is_left_without(demo, client, monkeypatch):
    monkeypatch.setattr(coverage, "utcnow", lambda: DEMO_NOW)
    sign_in(client, "planner")
    result = matrix(demo)
    keys = [p.key for p in result.proposals]
    page = client.get(f"/office/campaigns/{result.campaign.id}/coverage/sessions",
                      query_string={"pick": keys}).get_data(as_text=True)
    assert page.count('name="pick-') == 3 and "南消防署 1階会議室" in page and "Add these 3 sessions" in page
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(DeskSession)) == 7
    assert confirm_and_add(client, result.campaign.id, keys).status_code == 302
    after = matrix(demo)
    assert not [g for g in after.flagged if g.no_duty_session]
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(DeskSession)) == 10
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "session.create",
                                                             AuditEvent.channel == "page")).all()
    assert len(events) == 3 and all(e.details["suggested_for"]["groups"] for e in events)


def test_a_suggested_session_is_added_with_the_copied_times_and_its_slots(demo, client, monkeypatch):
    monkeypatch.setattr(coverage, "utcnow", lambda: DEMO_NOW)
    sign_in(client, "planner")
    result = matrix(demo)
    proposal = next(p for p in result.proposals if p.groups[0].unit.code == "B")
    confirm_and_add(client, result.campaign.id, [proposal.key])
    with demo.app_context():
        session = db.session.scalar(select(DeskSession).where(DeskSession.date == proposal.day,
                                                              DeskSession.venue_id == proposal.venue.id))
        assert (session.start_time, session.end_time, session.slot_minutes, session.desks) == (
            time(16, 15), time(17, 15), 10, 2)
        assert len(session.slots) == 6


def test_a_key_outside_the_suggestions_adds_nothing(demo, client, monkeypatch):
    monkeypatch.setattr(coverage, "utcnow", lambda: DEMO_NOW)
    sign_in(client, "planner")
    result = matrix(demo)
    good = result.proposals[0].key
    venue, day, hhmm = good.split(":")
    stale = f"{venue}:{(date.fromisoformat(day) + timedelta(days=1)).isoformat()}:{hhmm}"
    response = client.post(f"/office/campaigns/{result.campaign.id}/coverage/sessions",
                           data={"pick-0": good, "pick-1": stale}, follow_redirects=True)
    assert "nothing was added" in response.get_data(as_text=True)
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(DeskSession)) == 7


def test_the_coverage_page_shows_the_matrix_flags_and_at_most_five_suggestions(demo, client, monkeypatch):
    monkeypatch.setattr(coverage, "utcnow", lambda: DEMO_NOW)
    sign_in(client, "planner")
    with demo.app_context():
        campaign_id = db.session.scalar(select(Campaign.id))
    page = client.get(f"/office/campaigns/{campaign_id}/coverage").get_data(as_text=True)
    assert "Coverage by crew" in page and "北消防署" in page
    assert page.count("No session on duty") >= 2 and "Too few seats" in page
    assert page.count('name="pick"') == 3 and "Suggestions" in page
    assert "日勤（日勤）" not in page and "Day work (日勤)" not in page
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
