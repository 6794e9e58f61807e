"""Duty calendars on the unit's office page, their inheritance, and the duty service over the database."""
from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.localtime import at_tokyo
from booking.models import AuditEvent, DutyCalendar, Staff, Unit
from booking.services import directory, duty
from booking.services.actor import Actor


@pytest.fixture
def units(app):
    with app.test_request_context():
        directory.create_unit(Actor.system(), code="HQ", name="消防本部")
        directory.create_unit(Actor.system(), code="A", name="中央消防署", parent_code="HQ")
        directory.create_unit(Actor.system(), code="A1", name="中央消防署 東出張所", parent_code="A")
        db.session.commit()
        return {u.code: u.id for u in db.session.scalars(select(Unit))}


def add_staff(number: str, unit_code: str, crew: str) -> Staff:
    return directory.add_staff(staff_number=number, family_name="佐藤", given_name="翔太", family_name_kana="サトウ",
                                  given_name_kana="ショウタ", unit=directory.unit_by_code(unit_code), crew=crew)


def two_crews(client, unit_id: int, first: str = "2026-07-01", second: str = "2026-07-02", **extra):
    data = {"system": "two_crew", "shift_start": "08:30", "crews-0-name": "1部", "crews-0-anchor_date": first,
            "crews-1-name": "2部", "crews-1-anchor_date": second, "crews-2-name": "", "crews-2-anchor_date": ""}
    data.update(extra)
    return client.post(f"/office/units/{unit_id}/duty", data=data)


def test_the_admin_gives_a_station_two_crews_and_the_save_is_audited(app, admin_client, units):
    response = two_crews(admin_client, units["A"])
    assert response.status_code == 302
    with app.app_context():
        calendar = db.session.scalar(select(DutyCalendar).where(DutyCalendar.unit_id == units["A"]))
        assert calendar.system == "two_crew" and calendar.shift_start == time(8, 30)
        assert [(c.name, c.anchor_date) for c in calendar.crews] == [("1部", date(2026, 7, 1)), ("2部", date(2026, 7, 2))]
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "unit.duty_calendar"))
        assert event.target_id == str(units["A"]) and event.details["crews"][0] == ["1部", "2026-07-01"]
    page = admin_client.get(f"/office/units/{units['A']}/duty").get_data(as_text=True)
    assert "Own duty calendar" in page and 'value="1部"' in page and "The next two weeks" in page


def test_two_crews_on_duty_on_the_same_day_are_refused_and_nothing_is_saved(app, admin_client, units):
    response = two_crews(admin_client, units["A"], second="2026-07-03")
    assert response.status_code == 422
    assert "Two crews would be on duty on the same day" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(DutyCalendar)) is None


def test_a_crew_name_holding_an_individual_number_is_refused(admin_client, units):
    response = two_crews(admin_client, units["A"], **{"crews-0-name": "123456789018"})
    assert response.status_code == 422


def test_a_branch_office_follows_its_station_until_it_has_its_own(app, admin_client, units):
    two_crews(admin_client, units["A"])
    page = admin_client.get(f"/office/units/{units['A1']}/duty").get_data(as_text=True)
    assert "Follows 中央消防署" in page
    with app.test_request_context():
        branch = db.session.get(Unit, units["A1"])
        assert duty.crew_on_duty(branch, at_tokyo(date(2026, 7, 3), time(12))) == "1部"
    admin_client.post(f"/office/units/{units['A1']}/duty", data={"system": "day_only", "shift_start": "08:30"})
    with app.test_request_context():
        assert duty.crew_on_duty(db.session.get(Unit, units["A1"]), at_tokyo(date(2026, 7, 3), time(12))) is None
    # Back to following the station.
    admin_client.post(f"/office/units/{units['A1']}/duty", data={"system": "inherit", "shift_start": "08:30"})
    with app.test_request_context():
        assert duty.unit_duty(db.session.get(Unit, units["A1"])).is_inherited


def test_a_staff_member_is_on_duty_off_duty_or_on_a_rest_day(app, admin_client, units):
    admin_client.post(f"/office/units/{units['A']}/duty", data={
        "system": "three_crew", "shift_start": "08:30",
        "crews-0-name": "A", "crews-0-anchor_date": "2026-07-01", "crews-1-name": "B",
        "crews-1-anchor_date": "2026-07-02", "crews-2-name": "C", "crews-2-anchor_date": "2026-07-03"})
    with app.test_request_context():
        crew_a, day_worker, unknown = add_staff("1", "A1", "A"), add_staff("2", "A", "日勤"), add_staff("3", "A", "4部")
        assert [duty.staff_state(crew_a, date(2026, 7, d)) for d in (1, 2, 3, 4)] == [
            duty.ON_DUTY, duty.OFF_DUTY, duty.REST, duty.ON_DUTY]
        assert duty.staff_state(day_worker, date(2026, 7, 3)) == duty.ON_DUTY    # Friday
        assert duty.staff_state(day_worker, date(2026, 7, 4)) == duty.REST       # Saturday
        assert duty.staff_state(day_worker, date(2026, 7, 20)) == duty.REST      # 海の日
        assert duty.staff_state(unknown, date(2026, 7, 3)) is None


def test_the_editor_is_for_admins_only(app, client, units):
    from tests.duty.conftest import make_user, sign_in

    make_user(app, "chief", "chief", unit_code="A")
    sign_in(client, "chief")
    assert client.get(f"/office/units/{units['A']}/duty").status_code == 403
    assert two_crews(client, units["A"]).status_code == 403
