"""The real worker process (``flask --app booking worker``) against a real SMTP server."""
from __future__ import annotations

import signal
import time

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import OutboxMessage, Staff
from booking.services import bookings
from booking.services.actor import Actor
from tests.conftest import PG_URL, requires_postgres

pytestmark = pytest.mark.slow


@pytest.fixture
def booker(mail_app, world):
    with mail_app.app_context():
        db.session.get(Staff, world.staff_id).email = "sato@example.jp"
        db.session.commit()
    return world


def book(client, world, slot=0):
    response = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[slot], "staff_number": world.staff_number,
        "invitation_code": world.invitation_code})
    assert response.status_code == 201, response.json
    return response.json


def test_worker_sends_each_kind_once_and_stops_cleanly_on_sigterm(mail_app, booker, client, smtp, workers):
    workers.start()
    workers.wait_started()
    booked = book(client, booker)
    token = booked["manage_token"]
    assert len(smtp.inbox.wait_for(1)) == 1
    client.post(f"/api/v1/reservations/{token}/reschedule", json={"slot_id": booker.slot_ids[3]})
    assert len(smtp.inbox.wait_for(2)) == 2
    client.post(f"/api/v1/reservations/{token}/cancel")
    messages = smtp.inbox.wait_for(3)
    time.sleep(1.5)  # nothing more arrives
    assert len(smtp.inbox.messages) == 3
    methods = []
    for message in messages:
        [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        methods.append(part.get_param("method"))
    assert methods == ["REQUEST", "REQUEST", "CANCEL"]
    assert workers.stop() == [0]


def test_sigint_stops_the_worker_with_exit_code_0(mail_app, workers):
    workers.start()
    workers.wait_started()
    process = workers.processes[0]
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0


def test_mail_server_down_during_a_booking(mail_app, booker, client, smtp, workers):
    smtp.stop()
    workers.start()
    workers.wait_started()
    started = time.monotonic()
    book(client, booker)
    assert time.monotonic() - started < 2  # the booking does not wait for the mail server
    deadline = time.monotonic() + 60
    while True:  # the worker tries and fails at least twice (a retry within seconds here)
        with mail_app.app_context():
            message = db.session.scalars(select(OutboxMessage)).one()
            if message.attempts >= 2 or time.monotonic() > deadline:
                break
        time.sleep(0.2)
    assert message.status == "queued" and message.attempts >= 2 and message.last_error, workers.output()
    smtp.start()
    assert len(smtp.inbox.wait_for(1)) == 1
    time.sleep(1.5)
    assert len(smtp.inbox.messages) == 1
    with mail_app.app_context():
        db.session.expire_all()
        assert db.session.scalars(select(OutboxMessage)).one().status == "sent"


def _queue_many(app, world, count):
    """``count`` bookings' confirmations queued without waking any worker."""
    pairs = world.add_staff(count)
    app.extensions.pop("outbox.wake", None)
    with app.test_request_context(base_url="http://localhost"):
        for index, (number, _code) in enumerate(pairs):
            staff = db.session.scalar(select(Staff).where(Staff.staff_number == number))
            staff.email = f"s{number}@example.jp"
            bookings.book(Actor.system(), world.slot_ids[index // 2], staff)
        db.session.commit()


def test_two_workers_send_each_message_once(mail_app, world, smtp, workers):
    _queue_many(mail_app, world, 12)
    workers.start(2)
    workers.wait_started()
    messages = smtp.inbox.wait_for(12, timeout=60)
    time.sleep(2)
    assert len(smtp.inbox.messages) == 12
    recipients = sorted(m["To"] for m in messages)
    assert len(set(recipients)) == 12
    assert workers.stop() == [0, 0]


@requires_postgres
def test_two_workers_on_postgresql_with_its_own_queue(mail_app, world, smtp, workers):
    mail_app.config["JOBS_STORAGE"] = mail_app.config["SQLALCHEMY_DATABASE_URI"]
    _queue_many(mail_app, world, 12)
    workers.start(2)
    workers.wait_started()
    smtp.inbox.wait_for(12, timeout=60)
    time.sleep(2)
    assert len(smtp.inbox.messages) == 12
    assert len({m["To"] for m in smtp.inbox.messages}) == 12
    assert workers.stop() == [0, 0]


@requires_postgres
def test_processes_starting_together_on_postgresql_all_get_the_queue(app):
    """gunicorn's workers each make the app, and with it huey's PostgreSQL queue, which creates its
    tables as it starts: starting together must not fail any of them (a failed boot made gunicorn's
    master shut the server down)."""
    import threading

    import psycopg

    from booking import create_app

    dsn = PG_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    for _round in range(3):
        with psycopg.connect(dsn, autocommit=True) as connection:
            for table in ("jobs_huey_kv", "jobs_huey_schedule", "jobs_huey_task"):
                connection.execute(f"DROP TABLE IF EXISTS {table}")
        start, failures = threading.Barrier(6), []

        def boot(start=start, failures=failures):
            start.wait()
            try:
                create_app({**app.config, "JOBS_STORAGE": dsn, "TESTING": True})
            except Exception as error:  # noqa: BLE001 — the test reports any failure to boot
                failures.append(repr(error))

        threads = [threading.Thread(target=boot) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
