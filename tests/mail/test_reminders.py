"""Reminders at their time, once; none for late bookings or cancelled ones; the scheduled jobs
claimed once per due time (``flask --app booking run-due-jobs --now …`` drives the clock)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import Campaign, JobRun, OutboxMessage, Staff
from booking.services import bookings, schedule
from booking.services.actor import Actor
from tests.conftest import tokyo


@pytest.fixture
def booker(mail_app, world):
    with mail_app.app_context():
        db.session.get(Staff, world.staff_id).email = "sato@example.jp"
        db.session.commit()
    return world


def run_at(runner, when: datetime):
    result = runner.invoke(args=["run-due-jobs", "--now", when.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def reminders(app):
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder")))


def book(app, world, *, now=None, number=None):
    with app.test_request_context(base_url="http://localhost"):
        staff = db.session.get(Staff, world.staff_id) if number is None else \
            db.session.scalar(select(Staff).where(Staff.staff_number == number))
        staff.email = staff.email or f"{staff.staff_number}@example.jp"
        reservation = bookings.book(Actor.system(), world.slot_ids[0], staff, now=now)
        db.session.commit()
        return reservation.id


def test_the_day_before_at_noon_once(mail_app, booker, runner, smtp):
    book(mail_app, booker)
    day_before = booker.session_day - timedelta(days=1)
    run_at(runner, tokyo(day_before, 11, 59))
    assert reminders(mail_app) == []
    output = run_at(runner, tokyo(day_before, 12, 0))
    assert "reminders: 1 reminders queued" in output
    run_at(runner, tokyo(day_before, 12, 1))
    run_at(runner, tokyo(day_before, 18, 0))
    [reminder] = reminders(mail_app)
    assert reminder.status == "sent"
    subjects = [m["Subject"] for m in smtp.inbox.wait_for(2)]
    assert sum("予約の確認" in s for s in subjects) == 1


def test_no_reminder_for_a_booking_made_after_the_reminder_time(mail_app, booker, runner, smtp):
    day_before = booker.session_day - timedelta(days=1)
    book(mail_app, booker, now=tokyo(day_before, 13, 0))
    run_at(runner, tokyo(day_before, 13, 1))
    run_at(runner, tokyo(booker.session_day, 9, 0))
    assert reminders(mail_app) == []


def test_never_for_a_cancelled_booking(mail_app, booker, runner, smtp):
    reservation_id = book(mail_app, booker)
    with mail_app.test_request_context(base_url="http://localhost"):
        from booking.models import Reservation

        bookings.cancel(Actor.system(), db.session.get(Reservation, reservation_id))
        db.session.commit()
    run_at(runner, tokyo(booker.session_day - timedelta(days=1), 12, 30))
    assert reminders(mail_app) == []


def test_campaign_setting_minutes_before(mail_app, booker, runner, smtp):
    with mail_app.app_context():
        db.session.get(Campaign, booker.campaign_id).reminder_minutes_before = 120
        db.session.commit()
    book(mail_app, booker)
    run_at(runner, tokyo(booker.session_day - timedelta(days=1), 12, 30))
    assert reminders(mail_app) == []
    run_at(runner, tokyo(booker.session_day, 13, 0))  # the slot starts at 15:00
    assert len(reminders(mail_app)) == 1


def test_each_scheduled_run_is_claimed_once(mail_app, booker):
    now = tokyo(booker.session_day - timedelta(days=1), 12, 0)
    with mail_app.app_context():
        first = schedule.run_due(now)
        second = schedule.run_due(now + timedelta(seconds=30))  # the same minute, another worker
        assert "reminders" in first and "mark_no_shows" in first
        assert second == {}
        assert db.session.scalar(select(JobRun).where(JobRun.job == "reminders")).outcome
        third = schedule.run_due(now + timedelta(minutes=1))
        assert list(third) == ["reminders", "waitlist_offers"]  # the every-minute jobs
