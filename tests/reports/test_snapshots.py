"""Monthly snapshots: `flask --app booking snapshot` freezes each unit's counts once a month."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Staff, StatusSnapshot
from booking.services import card_status, reports


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(StatusSnapshot))


def test_the_snapshot_command_takes_one_row_per_unit_once_a_month(app, runner, dept):
    first = runner.invoke(args=["snapshot"])
    assert first.exit_code == 0, first.output
    assert "4 units" in first.output
    again = runner.invoke(args=["snapshot"])
    assert again.exit_code == 0
    assert "already taken" in again.output
    assert _count(app) == 4


def test_a_snapshot_for_an_earlier_day_goes_to_that_month(app, runner, dept):
    day = card_status.today().replace(day=1) - timedelta(days=1)
    result = runner.invoke(args=["snapshot", "--as-of", day.isoformat()])
    assert result.exit_code == 0, result.output
    with app.app_context():
        months = db.session.scalars(select(StatusSnapshot.month).distinct()).all()
        assert months == [day.replace(day=1)]


def test_the_trend_keeps_the_snapshot_after_a_later_correction(app, runner, dept):
    today = card_status.today()
    with app.app_context():
        card_status.record_change(db.session.get(Staff, dept.staff_ids["2001"]), "applied", on=today, source="edit")
        db.session.commit()
    assert runner.invoke(args=["snapshot"]).exit_code == 0
    with app.app_context():
        # A correction afterwards: it was never applied.
        card_status.record_change(db.session.get(Staff, dept.staff_ids["2001"]), "none", on=today, source="edit")
        db.session.commit()
        this_month = reports.monthly(today)[-1]
        assert this_month.is_snapshot
        assert this_month.total().staff_applied == 1
        assert reports.total(reports.unit_status(today)).staff_applied == 0


def test_the_dashboard_button_takes_the_snapshot_too(app, client, dept, login):
    login("admin")
    assert client.post("/reports/snapshot").status_code == 302
    assert client.post("/reports/snapshot").status_code == 302
    assert _count(app) == 4
