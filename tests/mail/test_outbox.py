"""The outbox: each act writes its message in its own transaction, and delivery sends it once,
with the right calendar part, to a real SMTP server (aiosmtpd)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import OutboxMessage, Reservation, Staff
from booking.services import approvals, bookings, campaigns, mail_delivery
from booking.services.actor import Actor

ADDRESS = "sato@example.jp"


@pytest.fixture
def booker(mail_app, world):
    with mail_app.app_context():
        staff = db.session.get(Staff, world.staff_id)
        staff.email = ADDRESS
        db.session.commit()
    return world


def book(client, world, **extra):
    response = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number,
        "invitation_code": world.invitation_code, **extra})
    assert response.status_code == 201, response.json
    return response.json


def rows(app):
    with app.app_context():
        return [(m.kind, m.status, m.to_address, m.locale) for m in
                db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def deliver(app):
    with app.app_context():
        return mail_delivery.deliver_due()


def calendar_of(message):
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return parts[0].get_content()


def test_booking_queues_a_confirmation_and_delivery_sends_it_once(mail_app, booker, client, smtp):
    booked = book(client, booker)
    assert rows(mail_app) == [("confirmation", "queued", ADDRESS, "ja")]
    assert deliver(mail_app).sent == 1
    assert deliver(mail_app).sent == 0
    [message] = smtp.inbox.wait_for(1)
    code = booked["code"]
    assert code.replace("-", "") in message["Subject"].replace("-", "")
    assert message["To"] == ADDRESS
    text = message.get_body(("plain",)).get_content()
    assert booked["manage_url"] in text
    ics = calendar_of(message)
    assert "METHOD:REQUEST" in ics and "SEQUENCE:0" in ics
    # The same event as ics_url: same UID.
    feed = client.get(booked["ics_url"]).get_data(as_text=True)
    uid = next(line for line in feed.splitlines() if line.startswith("UID:"))
    assert uid in ics
    # The QR code as an inline image of the HTML part.
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"]
    with mail_app.app_context():
        stored = db.session.scalars(select(OutboxMessage)).one()
        assert stored.status == "sent" and stored.attempts == 1 and stored.body == text.rstrip("\n") + "\n" \
            or stored.body.strip() == text.strip()


def test_english_booker_gets_english(mail_app, booker, client, smtp):
    client.post("/api/v1/reservations", json={
        "slot_id": booker.slot_ids[0], "staff_number": booker.staff_number,
        "invitation_code": booker.invitation_code}, headers={"Accept-Language": "en"})
    # The API's language follows Accept-Language; the booker's page language is kept the same way.
    locale = rows(mail_app)[0][3]
    deliver(mail_app)
    [message] = smtp.inbox.wait_for(1)
    if locale == "en":
        assert message["Subject"].startswith("Booked")
    else:
        assert "予約完了" in message["Subject"]


def test_move_and_cancel_by_the_booker(mail_app, booker, client, smtp):
    booked = book(client, booker)
    token = booked["manage_token"]
    assert client.post(f"/api/v1/reservations/{token}/reschedule", json={"slot_id": booker.slot_ids[2]}).status_code == 200
    deliver(mail_app)
    assert client.post(f"/api/v1/reservations/{token}/cancel").status_code == 200
    assert [r[0] for r in rows(mail_app)] == ["confirmation", "changed", "cancelled"]
    deliver(mail_app)
    messages = smtp.inbox.wait_for(3)
    assert len(messages) == 3
    changed, cancelled = calendar_of(messages[1]), calendar_of(messages[2])
    assert "METHOD:REQUEST" in changed and "SEQUENCE:1" in changed
    assert "METHOD:CANCEL" in cancelled and "STATUS:CANCELLED" in cancelled
    assert "変更" in messages[1]["Subject"] and "取消" in messages[2]["Subject"]


def test_a_late_message_never_revives_a_cancelled_booking(mail_app, booker, client, smtp):
    """Rendered when sent, from the booking as it is then: a confirmation that goes out after the
    cancellation (the server was down) carries the cancelled event, not an invitation."""
    booked = book(client, booker)
    client.post(f"/api/v1/reservations/{booked['manage_token']}/cancel")
    deliver(mail_app)
    messages = smtp.inbox.wait_for(2)
    assert all("STATUS:CANCELLED" in calendar_of(m) for m in messages)


def test_office_cancels_the_session_with_a_reason(mail_app, booker, client, smtp):
    book(client, booker)
    with mail_app.test_request_context(base_url="http://localhost"):
        session = campaigns.get_session(booker.session_id)
        change = campaigns.cancel_session(Actor.system(), session, reason="会場の設備点検のため")
        assert len(change.cancelled) == 1
        db.session.commit()
    deliver(mail_app)
    messages = smtp.inbox.wait_for(2)
    assert len(messages) == 2
    text = messages[1].get_body(("plain",)).get_content()
    assert "会場の設備点検のため" in text
    assert "/i/" in text or "invite" in text or "http://localhost/" in text  # a link to book another time
    assert "STATUS:CANCELLED" in calendar_of(messages[1])


def test_rolled_back_change_sends_nothing(mail_app, booker, client, smtp):
    with mail_app.test_request_context(base_url="http://localhost"):
        staff = db.session.get(Staff, booker.staff_id)
        bookings.book(Actor.system(), booker.slot_ids[0], staff)
        assert db.session.scalar(select(OutboxMessage.id)) is not None
        db.session.rollback()
    assert rows(mail_app) == []
    assert deliver(mail_app).handled == 0
    assert smtp.inbox.messages == []


def test_without_smtp_url_messages_are_kept_not_sent(mail_app, booker, client, smtp):
    mail_app.config["SMTP_URL"] = ""
    book(client, booker)
    outcome = deliver(mail_app)
    assert outcome.not_sent == 1
    with mail_app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.status == "not_sent" and "予約" in message.body
    assert smtp.inbox.messages == []


def test_no_address_is_not_sent(mail_app, world, client, smtp):
    book(client, world)
    deliver(mail_app)
    assert rows(mail_app)[0][:3] == ("confirmation", "not_sent", "")
    assert smtp.inbox.messages == []


def test_server_down_retries_with_growing_pauses_then_sends_once(mail_app, booker, client, smtp):
    smtp.stop()
    book(client, booker)
    outcome = deliver(mail_app)
    assert outcome.retried == 1
    with mail_app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        first_pause = (message.next_attempt_at - datetime.now(UTC)).total_seconds()
        assert 0 < first_pause <= 30 and message.status == "queued" and message.last_error
    smtp.start()
    with mail_app.app_context():
        mail_delivery.deliver_due(datetime.now(UTC) + timedelta(seconds=31))
    assert len(smtp.inbox.wait_for(1)) == 1


def test_gives_up_after_the_limit_with_the_servers_answer(mail_app, booker, client, smtp):
    smtp.stop()
    mail_app.config["MAIL_GIVE_UP_SECONDS"] = 0.0
    book(client, booker)
    assert deliver(mail_app).failed == 1
    with mail_app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.status == "failed" and "Connection" in message.last_error


def test_permanent_refusal_is_not_retried_and_marks_the_address(mail_app, booker, client, smtp):
    smtp.inbox.refuse.add(ADDRESS)
    book(client, booker)
    assert deliver(mail_app).failed == 1
    with mail_app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.status == "failed" and message.last_error.startswith("550")
        assert message.attempts == 1
        assert db.session.get(Staff, booker.staff_id).email_failure.startswith("550")


def test_chiefs_decision_is_sent(mail_app, booker, client, smtp):
    with mail_app.test_request_context(base_url="http://localhost"):
        from booking.models import DutyApproval

        staff = db.session.get(Staff, booker.staff_id)
        reservation = bookings.book(Actor.system(), booker.slot_ids[0], staff)
        approval = DutyApproval(reservation_id=reservation.id, unit_id=staff.unit_id, status="pending",
                                requested_at=datetime.now(UTC))
        db.session.add(approval)
        db.session.commit()
        from booking.services import accounts
        chief = accounts.ensure_user("chief-a", "chief", unit_code="A")
        db.session.commit()
        approvals.decide(Actor("page", user=chief), approval.id, approve=False)
        db.session.commit()
        assert db.session.get(Reservation, reservation.id).status == "cancelled"
    assert [r[0] for r in rows(mail_app)] == ["confirmation", "approval"]
    deliver(mail_app)
    messages = smtp.inbox.wait_for(2)
    assert "STATUS:CANCELLED" in calendar_of(messages[1])


def test_readyz_names_the_mail_queue_when_messages_are_overdue(mail_app, booker, client, smtp):
    assert client.get("/readyz").json["checks"]["mail_queue"] == "ok"
    book(client, booker)
    with mail_app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        message.next_attempt_at = datetime.now(UTC) - timedelta(hours=1)
        db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["failed"] == ["mail_queue"]
    deliver(mail_app)
    assert client.get("/readyz").status_code == 200
