"""Slot planning and time arithmetic, property-tested (hypothesis): sessions crossing midnight, slot
lengths that do not divide the window, and days at year, leap-day and era boundaries."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from booking.formatting import clock, day_label
from booking.localtime import TOKYO, at_tokyo, local, naive_as_tokyo
from booking.services.slots import plan_slots, session_bounds

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
clocks = st.times().map(lambda t: t.replace(second=0, microsecond=0))
lengths = st.integers(min_value=1, max_value=24 * 60)
desks = st.integers(min_value=1, max_value=100)

BOUNDARY_DAYS = [date(2019, 4, 30), date(2019, 5, 1), date(1989, 1, 7), date(1989, 1, 8), date(2024, 2, 29),
                 date(2023, 12, 31), date(2024, 1, 1), date(2020, 2, 28), date(2099, 12, 31)]
WEEKDAYS_JA = "月火水木金土日"


def _window(start: time, end: time) -> timedelta:
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return timedelta(minutes=minutes if minutes > 0 else minutes + 24 * 60)


@settings(max_examples=400, deadline=None)
@given(day=days, start=clocks, end=clocks, minutes=lengths, seats=desks)
@example(day=date(2019, 4, 30), start=time(22, 0), end=time(1, 0), minutes=25, seats=2)
@example(day=date(2023, 12, 31), start=time(23, 50), end=time(0, 10), minutes=7, seats=1)
@example(day=date(2024, 2, 29), start=time(9, 0), end=time(9, 0), minutes=60, seats=1)
@example(day=date(2024, 2, 28), start=time(23, 0), end=time(23, 59), minutes=60, seats=1)
def test_slots_tile_the_window_whole_from_the_start_and_drop_only_a_short_remainder(day, start, end, minutes, seats):
    planned = plan_slots(day, start, end, minutes, seats)
    starts_at, ends_at = session_bounds(day, start, end)
    window = _window(start, end)
    length = timedelta(minutes=minutes)
    assert ends_at - starts_at == window
    assert len(planned) == window // length
    assert window - len(planned) * length < length
    for index, slot in enumerate(planned):
        assert slot.starts_at == starts_at + index * length
        assert slot.ends_at - slot.starts_at == length
        assert starts_at <= slot.starts_at < slot.ends_at <= ends_at
        assert slot.capacity == seats
        assert local(slot.starts_at).date() in (day, day + timedelta(days=1))
    assert all(a.ends_at == b.starts_at for a, b in pairwise(planned))


@settings(max_examples=200, deadline=None)
@given(day=days, start=clocks, end=clocks)
def test_a_session_ending_at_or_before_its_start_ends_the_next_day(day, start, end):
    starts_at, ends_at = session_bounds(day, start, end)
    assert local(starts_at).date() == day and local(starts_at).time() == start
    assert local(ends_at).time() == end
    expected_day = day + timedelta(days=1) if end <= start else day
    assert local(ends_at).date() == expected_day
    assert timedelta(0) < ends_at - starts_at <= timedelta(days=1)


@settings(max_examples=100, deadline=None)
@given(day=days, start=clocks, minutes=lengths)
def test_no_slots_for_empty_lengths_or_desks(day, start, minutes):
    assert plan_slots(day, start, time(23, 59), 0, 1) == []
    assert plan_slots(day, start, time(23, 59), minutes, 0) == []


@settings(max_examples=300, deadline=None)
@given(instant=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                            timezones=st.just(UTC)))
def test_tokyo_is_always_nine_hours_ahead_and_round_trips(instant):
    on_clock = local(instant)
    assert on_clock.utcoffset() == timedelta(hours=9)
    assert at_tokyo(on_clock.date(), on_clock.timetz().replace(tzinfo=None)) == instant
    assert naive_as_tokyo(datetime.fromisoformat(on_clock.replace(tzinfo=None).isoformat())) == instant
    assert naive_as_tokyo(datetime.fromisoformat(instant.isoformat())) == instant


@pytest.fixture
def request_ctx(app):
    with app.test_request_context():
        yield


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(instant=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                            timezones=st.just(UTC)))
def test_labels_show_the_tokyo_day_weekday_and_clock(request_ctx, instant):
    on_clock = local(instant)
    with force_locale("ja"):
        assert day_label(instant, year=False) == f"{on_clock.month}月{on_clock.day}日({WEEKDAYS_JA[on_clock.weekday()]})"
        assert clock(instant) == on_clock.strftime("%H:%M")
    with force_locale("en"):
        assert str(on_clock.day) in day_label(instant, year=False) and on_clock.strftime("%a") in day_label(instant, year=False)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hours=clocks)
def test_a_time_of_day_reads_as_the_strftime_the_templates_used(request_ctx, hours):
    """A session's hours (a naive time) go through the same clock as instants, unchanged."""
    for locale in ("ja", "en"):
        with force_locale(locale):
            assert clock(hours) == hours.strftime("%H:%M")


@pytest.mark.parametrize("day", BOUNDARY_DAYS)
def test_boundary_days_get_the_right_weekday_and_a_slot_across_midnight_lands_on_the_next_day(request_ctx, day):
    planned = plan_slots(day, time(23, 30), time(0, 30), 30, 1)
    assert [local(s.starts_at).date() for s in planned] == [day, day + timedelta(days=1)]
    with force_locale("ja"):
        assert day_label(planned[1].starts_at, year=False) == (
            f"{(day + timedelta(days=1)).month}月{(day + timedelta(days=1)).day}日"
            f"({WEEKDAYS_JA[(day + timedelta(days=1)).weekday()]})")
        assert clock(planned[1].starts_at) == "00:00"


def test_heisei_to_reiwa_and_new_year_sessions_book_through_the_api(client, admin_headers, world):
    """Across the era change and the year end, slots come back with +09:00 and the right days."""
    for day, following in (("2019-04-30", "2019-05-01"), ("2023-12-31", "2024-01-01"), ("2024-02-29", "2024-03-01")):
        answer = client.post(f"/api/v1/campaigns/{world.campaign_id}/sessions", headers=admin_headers, json={
            "venue_id": world.venue_id, "date": day, "start_time": "23:00", "end_time": "01:00",
            "slot_minutes": 45, "desks": 1})
        assert answer.status_code == 201, answer.get_json()
        slots = answer.get_json()["slots"]
        assert [s["starts_at"] for s in slots] == [f"{day}T23:00:00+09:00", f"{day}T23:45:00+09:00",
                                                   f"{following}T00:30:00+09:00"][:len(slots)]
        assert len(slots) == 2  # 120 minutes hold two 45-minute slots; the 30-minute rest is dropped
        assert datetime.fromisoformat(slots[-1]["ends_at"]).astimezone(TOKYO).date().isoformat() == following
