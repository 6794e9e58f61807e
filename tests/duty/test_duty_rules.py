"""The duty core (services.duty.DutyPlan) over long ranges: property tests with hypothesis,
and the boundaries people get wrong (07:00 belongs to yesterday's crew, month, year and
leap-day ends, public holidays and the year-end closure)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.localtime import at_tokyo
from booking.services import duty
from booking.services.duty import (
    DAY_CREW,
    OFF_DUTY,
    ON_DUTY,
    REST,
    check_plan,
    is_working_day,
)
from booking.services.errors import DomainError

DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))
INSTANTS = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31),
                        timezones=st.just(UTC))
SHIFT_STARTS = st.sampled_from([time(8, 30), time(9, 0), time(8, 0), time(7, 45)])


@st.composite
def plans(draw, counts=(2, 3)):
    """A valid two- or three-crew plan: crews anchored on consecutive days from any date, in any order."""
    n = draw(st.sampled_from(counts))
    base = draw(DATES)
    # Each crew's anchor may be any number of whole rotations away from its slot.
    offsets = draw(st.permutations(range(n)))
    shifts = draw(st.lists(st.integers(-500, 500), min_size=n, max_size=n))
    names = ["1部", "2部", "3部"][:n]
    crews = [(names[i], base + timedelta(days=offsets[i] + n * shifts[i])) for i in range(n)]
    return check_plan("two_crew" if n == 2 else "three_crew", draw(SHIFT_STARTS), crews)


@settings(max_examples=300, deadline=None)
@given(plan=plans(), at=INSTANTS)
def test_exactly_one_crew_is_on_duty_at_any_moment(plan, at):
    on_duty = [c.name for c in plan.crews
               if any(s <= at < e for s, e in plan.duty_intervals(c.name, at.date() - timedelta(days=2),
                                                                  at.date() + timedelta(days=1)))]
    assert len(on_duty) == 1
    assert plan.crew_on_duty(at).name == on_duty[0]


@settings(max_examples=300, deadline=None)
@given(plan=plans(), day=DATES, weeks=st.integers(-2000, 2000))
def test_the_rotation_repeats_with_its_period(plan, day, weeks):
    later = day + timedelta(days=plan.period * weeks)
    assert plan.crew_starting(day) == plan.crew_starting(later)
    for crew in plan.crews:
        assert plan.state(crew.name, day) == plan.state(crew.name, later)


@settings(max_examples=200, deadline=None)
@given(plan=plans(), day=DATES)
def test_each_crew_is_on_duty_once_per_rotation_then_off_duty_the_next_day(plan, day):
    for crew in plan.crews:
        days = [day + timedelta(days=n) for n in range(plan.period)]
        states = [plan.state(crew.name, d) for d in days]
        assert states.count(ON_DUTY) == 1
        first_on = days[states.index(ON_DUTY)]
        assert plan.state(crew.name, first_on + timedelta(days=1)) == OFF_DUTY


@settings(max_examples=200, deadline=None)
@given(plan=plans(counts=(3,)), day=DATES)
def test_three_crews_go_on_duty_off_duty_rest_day(plan, day):
    crew = plan.crew_starting(day)
    assert [plan.state(crew.name, day + timedelta(days=n)) for n in range(4)] == [ON_DUTY, OFF_DUTY, REST, ON_DUTY]


@settings(max_examples=200, deadline=None)
@given(plan=plans(counts=(2,)), day=DATES)
def test_two_crews_alternate_and_have_no_rest_day(plan, day):
    for crew in plan.crews:
        assert plan.state(crew.name, day) != REST
        assert plan.state(crew.name, day) != plan.state(crew.name, day + timedelta(days=1))


@settings(max_examples=300, deadline=None)
@given(day=DATES)
def test_day_workers_never_work_weekends_holidays_or_the_year_end(day):
    plan = check_plan("day_only", None, [])
    working = plan.state(DAY_CREW, day) == ON_DUTY
    if day.weekday() >= 5 or duty.public_holiday(day) or duty.is_year_end_closure(day):
        assert not working
        assert plan.duty_intervals(DAY_CREW, day, day) == []
    else:
        assert working
        assert plan.duty_intervals(DAY_CREW, day, day) == [(at_tokyo(day, time(8, 30)), at_tokyo(day, time(17, 15)))]


@settings(max_examples=200, deadline=None)
@given(plan=plans(), day=DATES)
def test_day_workers_in_a_shift_unit_follow_the_weekday_calendar(plan, day):
    assert plan.group_of("日勤") == DAY_CREW
    assert (plan.state(DAY_CREW, day) == ON_DUTY) == is_working_day(day)


def test_at_seven_in_the_morning_the_crew_of_the_day_before_is_still_on_duty():
    plan = check_plan("two_crew", time(8, 30), [("1部", date(2026, 7, 1)), ("2部", date(2026, 7, 2))])
    assert plan.crew_on_duty(at_tokyo(date(2026, 7, 2), time(7))).name == "1部"
    assert plan.crew_on_duty(at_tokyo(date(2026, 7, 2), time(8, 29))).name == "1部"
    assert plan.crew_on_duty(at_tokyo(date(2026, 7, 2), time(8, 30))).name == "2部"
    assert plan.crew_on_duty(at_tokyo(date(2026, 7, 2), time(23, 59))).name == "2部"


def test_the_tokyo_date_counts_not_the_utc_date():
    plan = check_plan("two_crew", time(8, 30), [("1部", date(2026, 7, 1)), ("2部", date(2026, 7, 2))])
    # 2026-07-01 23:30 UTC is 2026-07-02 08:30 in Tokyo: 2部's shift has just begun.
    assert plan.crew_on_duty(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)).name == "2部"


@pytest.mark.parametrize("system,names", [("two_crew", ["1部", "2部"]), ("three_crew", ["1係", "2係", "3係"])])
@pytest.mark.parametrize("boundary", [
    date(2024, 2, 28), date(2024, 2, 29), date(2025, 2, 28), date(2025, 12, 31), date(2026, 1, 31),
    date(2028, 2, 29), date(2099, 12, 31),
])
def test_the_rotation_runs_straight_through_month_year_and_leap_day_ends(system, names, boundary):
    n = len(names)
    plan = check_plan(system, time(8, 30), [(name, date(2020, 1, 1) + timedelta(days=i)) for i, name in enumerate(names)])
    before = plan.crew_starting(boundary)
    following = [plan.crew_starting(boundary + timedelta(days=k)).name for k in range(1, n + 1)]
    assert following[-1] == before.name
    assert len(set(following)) == n
    # Counting days by hand across the boundary gives the same crew.
    expected = names[(boundary - date(2020, 1, 1)).days % n]
    assert before.name == expected
    # 07:00 the next morning still belongs to the crew that started on the boundary day.
    assert plan.crew_on_duty(at_tokyo(boundary + timedelta(days=1), time(7))).name == expected


@pytest.mark.parametrize("day,working", [
    (date(2025, 12, 26), True),   # Friday
    (date(2025, 12, 29), False),  # Monday, year-end closure
    (date(2026, 1, 2), False),    # Friday, closure
    (date(2026, 1, 5), True),     # first working day of 2026
    (date(2026, 1, 12), False),   # 成人の日
    (date(2025, 11, 24), False),  # 振替休日 for 勤労感謝の日 on a Sunday
    (date(2026, 5, 6), False),    # 振替休日 for 憲法記念日 on a Sunday
    (date(2024, 2, 29), True),    # leap day, a Thursday
    (date(2024, 3, 2), False),    # Saturday
])
def test_day_work_calendar_on_known_dates(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize("system,crews,field_message", [
    ("two_crew", [("1部", date(2026, 7, 1))], "exactly 2 crews"),
    ("two_crew", [("1部", date(2026, 7, 1)), ("2部", date(2026, 7, 3))], "same day"),
    ("three_crew", [("A", date(2026, 7, 1)), ("B", date(2026, 7, 2)), ("C", date(2026, 7, 4))], "same day"),
    ("two_crew", [("1部", date(2026, 7, 1)), ("1部", date(2026, 7, 2))], "own name"),
    ("two_crew", [("日勤", date(2026, 7, 1)), ("2部", date(2026, 7, 2))], "day workers"),
    ("two_crew", [("1部", date(2026, 7, 1)), ("2部", None)], "name and a date"),
])
def test_a_plan_that_is_not_a_rotation_is_refused_with_what_to_fix(app, system, crews, field_message):
    with app.test_request_context("/?lang=en"):
        with pytest.raises(DomainError) as caught:
            check_plan(system, time(8, 30), crews)
        assert caught.value.code == "invalid"
        assert field_message in str(caught.value.fields["crews"])


def test_instants_are_read_on_the_tokyo_wall_clock():
    plan = check_plan("day_only", None, [])
    monday = date(2026, 7, 6)
    assert plan.on_duty_during(DAY_CREW, at_tokyo(monday, time(17)), at_tokyo(monday, time(18)))
    assert not plan.on_duty_during(DAY_CREW, at_tokyo(monday, time(17, 15)), at_tokyo(monday, time(18)))
    assert plan.on_duty_during(DAY_CREW, datetime(2026, 7, 6, 0, tzinfo=UTC),
                               datetime(2026, 7, 6, 0, 10, tzinfo=UTC))  # 09:00 in Tokyo
