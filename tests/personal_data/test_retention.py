"""Retention: N days after a campaign ends, its bookings become counts (`flask purge-personal-data`)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from booking.extensions import db
from booking.models import (
    AuditEvent,
    CampaignRetention,
    CardStatusEvent,
    CheckIn,
    Photo,
    Reservation,
    ReservationPerson,
    RosterTally,
    Slot,
)
from booking.services import reports


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def purge_at(runner, world, days_after_session: int, *extra: str):
    when = world.session_day + timedelta(days=days_after_session)
    return runner.invoke(args=["purge-personal-data", "--now", f"{when.isoformat()}T12:00:00+09:00", *extra])


def session_figures(app, world):
    with app.test_request_context():
        line = next(l for l in reports.session_lines(None) if l.session.id == world.session_id)
        unit_line = next(l for l in reports.session_lines({world.unit_ids["A"]}) if l.session.id == world.session_id)
        seats = db.session.scalars(select(Slot.seats_taken).order_by(Slot.id)).all()
        return (line.capacity, line.taken, line.people, line.checked_in, line.no_shows, unit_line.people, seats)


def test_nothing_is_purged_before_the_retention_has_passed(app, runner, world, populated):
    result = purge_at(runner, world, 364)
    assert result.exit_code == 0 and "nothing to do" in result.output
    with app.app_context():
        assert count(Reservation) == 4


def test_a_campaign_past_its_retention_keeps_only_counts(app, runner, world, populated):
    before = session_figures(app, world)
    photo = Path(app.config["PHOTO_DIR"]) / populated.photo_name
    assert photo.exists()

    result = purge_at(runner, world, 366)
    assert result.exit_code == 0, result.output
    assert "4 reservations, 5 people, 2 check-ins and 1 photos replaced by counts" in result.output

    with app.app_context():
        assert (count(Reservation), count(ReservationPerson), count(CheckIn), count(Photo)) == (0, 0, 0, 0)
        assert count(RosterTally) > 0
        assert count(CardStatusEvent) == 1  # the application at the desk is the department's record
        assert db.session.get(CampaignRetention, world.campaign_id).purged_at is not None
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retention.purge"))
        assert event.details["reservations"] == 4 and event.actor == "cli"
    assert not photo.exists()
    assert session_figures(app, world) == before
    assert runner.invoke(args=["check"]).exit_code == 0


def test_the_purge_runs_once_and_is_safe_to_repeat(app, runner, world, populated):
    assert purge_at(runner, world, 400).exit_code == 0
    again = purge_at(runner, world, 401)
    assert again.exit_code == 0 and "nothing to do" in again.output


def test_a_dry_run_lists_the_campaigns_due_and_deletes_nothing(app, runner, world, populated):
    result = purge_at(runner, world, 400, "--dry-run")
    assert result.exit_code == 0 and f"due: campaign {world.campaign_id}" in result.output
    with app.app_context():
        assert count(Reservation) == 4


def test_the_admin_sets_a_campaigns_retention_on_the_personal_data_page(app, runner, client, world, populated, sign_in):
    sign_in("admin")
    page = client.get("/office/personal-data?lang=en")
    assert page.status_code == 200 and "Retention of bookings" in page.get_data(as_text=True)
    response = client.post(f"/office/personal-data/retention/{world.campaign_id}", data={"days": "30"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(CampaignRetention, world.campaign_id).days == 30
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retention.set"))
        assert event.details == {"previous_days": 365, "days": 30}
    assert "nothing to do" in purge_at(runner, world, 29).output
    assert "replaced by counts" in purge_at(runner, world, 31).output


def test_a_retention_out_of_range_is_refused(app, client, world, sign_in):
    sign_in("admin")
    client.post(f"/office/personal-data/retention/{world.campaign_id}?lang=en", data={"days": "0"})
    page = client.get("/office/personal-data?lang=en").get_data(as_text=True)
    assert "Enter a number of days from 1 to 3650" in page
    with app.app_context():
        assert db.session.get(CampaignRetention, world.campaign_id) is None


def test_only_an_admin_opens_the_personal_data_page(client, world, sign_in):
    sign_in("clerk")
    assert client.get("/office/personal-data").status_code == 403
