"""Card status as dated events: counts and rates as of days before and after each change."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from booking.extensions import db
from booking.models import Dependent, Staff
from booking.services import card_status, reports
from booking.services.errors import DomainError


def _by_code(statuses) -> dict[str, reports.UnitStatus]:
    return {s.unit_code: s for s in statuses}


@pytest.fixture
def days():
    today = card_status.today()
    return {"before": today - timedelta(days=60), "applied": today - timedelta(days=40),
            "between": today - timedelta(days=30), "received": today - timedelta(days=20), "today": today}


def test_a_rate_as_of_a_day_counts_only_changes_on_or_before_it(app, ctx, dept, days):
    staff = db.session.get(Staff, dept.staff_ids["2001"])
    card_status.record_change(staff, "applied", on=days["applied"], source="edit")
    card_status.record_change(staff, "received", on=days["received"], source="import")
    db.session.commit()

    before = _by_code(reports.unit_status(days["before"]))["A"]
    on_applied = _by_code(reports.unit_status(days["applied"]))["A"]
    between = _by_code(reports.unit_status(days["between"]))["A"]
    after = _by_code(reports.unit_status(days["today"]))["A"]
    # unit A: 佐藤 (1001) and 高橋 (2001); 山田 is in the branch office A1
    assert (before.staff, before.staff_applied, before.staff_received) == (2, 0, 0)
    assert (on_applied.staff_applied, on_applied.staff_received) == (1, 0)
    assert (between.staff_applied, between.staff_received) == (1, 0)
    assert (after.staff_applied, after.staff_received) == (1, 1)
    assert str(between.staff_application_rate) == "50.0"
    assert str(after.staff_acquisition_rate) == "50.0"


def test_a_correction_dated_in_the_past_is_slotted_into_the_history(app, ctx, dept, days):
    staff = db.session.get(Staff, dept.staff_ids["2001"])
    card_status.record_change(staff, "received", on=days["received"], source="import")
    card_status.record_change(staff, "applied", on=days["applied"], source="edit")  # learnt later
    db.session.commit()
    assert staff.card_status == "received"  # the latest change still stands
    timeline = card_status.timeline_of(staff)
    assert [timeline.on(days[k]) for k in ("before", "applied", "between", "received")] == [
        "none", "applied", "applied", "received"]


def test_recording_the_same_status_again_adds_no_event(app, ctx, dept):
    staff = db.session.get(Staff, dept.staff_ids["2001"])
    assert card_status.record_change(staff, "applied", source="edit") is not None
    assert card_status.record_change(staff, "applied", source="import") is None
    assert len(card_status.history(staff)) == 1


def test_the_desk_application_never_turns_a_received_card_back(app, ctx, dept):
    staff = db.session.get(Staff, dept.staff_ids["2001"])
    card_status.record_change(staff, "received", source="edit")
    assert card_status.record_application(staff) is None
    assert staff.card_status == "received"


def test_a_status_written_without_an_event_still_counts_from_its_date(app, ctx, dept, days):
    staff = db.session.get(Staff, dept.staff_ids["2001"])
    staff.card_status, staff.card_status_on = "received", days["between"]
    db.session.commit()
    assert _by_code(reports.unit_status(days["before"]))["A"].staff_received == 0
    assert _by_code(reports.unit_status(days["today"]))["A"].staff_received == 1


def test_dependents_are_counted_apart_from_staff(app, ctx, dept, days):
    spouse = db.session.get(Dependent, dept.world.dependent_id)
    card_status.record_change(spouse, "applied", on=days["between"], source="desk")
    db.session.commit()
    a = _by_code(reports.unit_status(days["today"]))["A"]
    assert (a.dependents, a.dependents_applied, a.staff_applied) == (1, 1, 0)
    assert str(a.dependents_application_rate) == "100.0"
    assert str(a.application_rate) == "33.3"  # 1 of 3 people (two staff and the spouse)
    assert _by_code(reports.unit_status(days["before"]))["A"].dependents_applied == 0


def test_a_future_change_is_refused(app, ctx, dept):
    staff = db.session.get(Staff, dept.staff_ids["2001"])
    with pytest.raises(DomainError) as excinfo:
        card_status.record_change(staff, "applied", on=card_status.today() + timedelta(days=1), source="edit")
    assert excinfo.value.code == "invalid"


def test_rates_round_half_up_to_one_decimal():
    assert str(reports.percent(2, 3)) == "66.7"
    assert str(reports.percent(1, 16)) == "6.3"
    assert str(reports.percent(1, 8)) == "12.5"
    assert str(reports.percent(0, 0)) == "0.0"


def test_a_chiefs_unit_status_holds_only_their_units(app, ctx, dept):
    codes = [s.unit_code for s in reports.unit_status(card_status.today(), {dept.unit_ids["A"], dept.unit_ids["A1"]})]
    assert codes == ["A", "A1"]


def test_ranking_puts_the_best_rate_first_and_shares_ties(app, ctx, dept):
    for number in ("3001", "4001"):
        card_status.record_change(db.session.get(Staff, dept.staff_ids[number]), "applied", source="edit")
    ranked = reports.ranking(reports.unit_status(card_status.today()))
    assert [(rank, s.unit_code) for rank, s in ranked] == [(1, "A1"), (1, "B"), (3, "A")]


def test_default_report_dates_are_the_coming_surveys_never_past_ones():
    assert reports.default_report_dates(date(2026, 12, 8)) == [date(2026, 12, 31), date(2027, 3, 31)]
    assert reports.default_report_dates(date(2026, 12, 31)) == [date(2026, 12, 31), date(2027, 3, 31)]
    assert reports.default_report_dates(date(2027, 1, 1)) == [date(2027, 3, 31)]
    assert reports.default_report_dates(date(2027, 3, 31)) == [date(2027, 3, 31)]
    assert reports.default_report_dates(date(2027, 4, 1)) == [date(2027, 12, 31), date(2028, 3, 31)]
    assert reports.default_report_dates(date(2027, 5, 10)) == [date(2027, 12, 31), date(2028, 3, 31)]
