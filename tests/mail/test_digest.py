"""The chiefs' morning digest of bookings waiting for their approval: once per chief and day, only
to a chief with an address and something waiting; the admin sets the address on the user page."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import Campaign, DutyApproval, OutboxMessage, User
from booking.services import approvals, directory, duty
from booking.services.actor import Actor
from tests.conftest import tokyo
from tests.duty.conftest import make_user, sign_in


@pytest.fixture
def held(mail_app, world):
    """A booking by station A's 1部 in its duty hours, held for chief_a's approval."""
    with mail_app.test_request_context(base_url="http://localhost"):
        a = directory.unit_by_code("A")
        duty.store_plan(a, duty.check_plan("two_crew", time(8, 30), [
            ("1部", world.session_day), ("2部", world.session_day + timedelta(days=1))]))
        db.session.get(Campaign, world.campaign_id).requires_duty_approval = True
        db.session.commit()
    world.chief_id = make_user(mail_app, "chief_a", "chief", unit_code="A")
    world.other_chief_id = make_user(mail_app, "chief_hq", "chief", unit_code="HQ")
    with mail_app.app_context():
        db.session.get(User, world.chief_id).email = "chief.a@example.jp"
        db.session.commit()
    return world


def book(client, world) -> dict:
    response = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number,
        "invitation_code": world.invitation_code})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def run_at(runner, when):
    result = runner.invoke(args=["run-due-jobs", "--now", when.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def digests(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest")))


def test_a_chief_with_a_booking_waiting_gets_one_digest_a_morning(mail_app, client, held, runner, smtp):
    book(client, held)
    morning = held.session_day - timedelta(days=1)
    run_at(runner, tokyo(morning, 7, 59))
    assert digests(mail_app) == []
    assert "chief_digest: 1 digests queued" in run_at(runner, tokyo(morning, 8, 0))
    run_at(runner, tokyo(morning, 8, 1))
    run_at(runner, tokyo(morning, 17, 0))
    [digest] = digests(mail_app)
    assert (digest.status, digest.to_address, digest.user_id) == ("sent", "chief.a@example.jp", held.chief_id)
    [mail] = [m for m in smtp.inbox.wait_for(1) if "承認待ち" in m["Subject"]]
    assert mail["To"] == "chief.a@example.jp"
    text = mail.get_body(("plain",)).get_content()
    assert "佐藤" in text and "/chiefs/approvals" in text
    assert "1件" in mail["Subject"]


def test_no_digest_once_answered_or_for_a_chief_without_an_address(mail_app, client, held, runner, smtp):
    body = book(client, held)
    with mail_app.app_context():
        db.session.get(User, held.chief_id).email = ""
        db.session.commit()
    run_at(runner, tokyo(held.session_day - timedelta(days=2), 8, 0))
    assert digests(mail_app) == []  # chief_a has no address; chief_hq has nothing waiting
    with mail_app.test_request_context(base_url="http://localhost"):
        db.session.get(User, held.chief_id).email = "chief.a@example.jp"
        approval = db.session.scalar(select(DutyApproval).where(DutyApproval.reservation_id == body["id"]))
        approvals.decide(Actor("page", user=db.session.get(User, held.chief_id)), approval.id, approve=True)
        db.session.commit()
    run_at(runner, tokyo(held.session_day - timedelta(days=1), 8, 0))
    assert digests(mail_app) == []


def test_the_admin_sets_a_chiefs_address_and_a_wrong_one_is_refused(mail_app, client, held):
    make_user(mail_app, "boss", "admin")
    sign_in(client, "boss")
    form = {"display_name": "北署長", "role": "chief", "unit_id": "", "is_active": "y"}
    with mail_app.app_context():
        form["unit_id"] = str(db.session.get(User, held.other_chief_id).unit_id)
    page = client.get(f"/office/users/{held.other_chief_id}")
    assert 'type="email"' in page.get_data(as_text=True)
    response = client.post(f"/office/users/{held.other_chief_id}", data={**form, "email": "not an address"})
    assert response.status_code == 422
    assert "This is not an email address." in response.get_data(as_text=True)
    response = client.post(f"/office/users/{held.other_chief_id}", data={**form, "email": "hq.chief@example.jp"})
    assert response.status_code == 302
    with mail_app.app_context():
        assert db.session.get(User, held.other_chief_id).email == "hq.chief@example.jp"
