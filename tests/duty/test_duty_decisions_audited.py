"""The chief's decision is one act: one audit event written by services.approvals.decide."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEvent, Reservation
from tests.duty.conftest import sign_in
from tests.duty.test_approvals import approval_of, book, held  # noqa: F401  (held is a fixture)


def decision_events(app) -> list[tuple[str, str, str, str, str]]:
    with app.app_context():
        return [(e.action, e.actor, e.channel, e.remote_addr, e.target_id)
                for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
                if e.action.startswith("reservation.duty_")]


@pytest.mark.parametrize("answer, action", [("approve", "reservation.duty_approved"),
                                            ("decline", "reservation.duty_declined")])
def test_a_decision_writes_one_event_naming_the_chief_and_the_booking(app, client, held, answer, action):  # noqa: F811
    body = book(client, held)
    chief = app.test_client()
    sign_in(chief, "chief_a")
    assert chief.post(f"/chiefs/approvals/{approval_of(app, body['id']).id}/{answer}").status_code == 302
    assert decision_events(app) == [(action, "chief_a", "page", "127.0.0.1", str(body["id"]))]
    with app.app_context():
        # A decline cancels the booking inside the same act: no separate cancel event.
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reservation.cancel")) is None
        assert db.session.get(Reservation, body["id"]).status == ("cancelled" if answer == "decline" else "booked")


def test_a_decision_after_the_booker_cancelled_is_recorded_as_withdrawn(app, client, held):  # noqa: F811
    body = book(client, held)
    approval_id = approval_of(app, body["id"]).id
    client.post(f"/api/v1/reservations/{body['manage_token']}/cancel")
    chief = app.test_client()
    sign_in(chief, "chief_a")
    chief.post(f"/chiefs/approvals/{approval_id}/approve")
    assert decision_events(app) == [("reservation.duty_withdrawn", "chief_a", "page", "127.0.0.1", str(body["id"]))]


def test_a_chief_of_another_unit_is_refused_and_nothing_is_recorded(app, client, held):  # noqa: F811
    body = book(client, held)
    chief = app.test_client()
    sign_in(chief, "chief_b")
    assert chief.post(f"/chiefs/approvals/{approval_of(app, body['id']).id}/approve").status_code == 403
    assert decision_events(app) == []
