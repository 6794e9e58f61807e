"""GET /api/v1/messages?reservation_code=CODE (admin), as API.md says."""
from __future__ import annotations

from booking.extensions import db
from booking.models import Staff
from booking.services import mail_delivery


def test_lists_a_bookings_messages_for_admins_only(mail_app, world, client, smtp, admin_headers, make_token):
    with mail_app.app_context():
        db.session.get(Staff, world.staff_id).email = "sato@example.jp"
        db.session.commit()
    booked = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number,
        "invitation_code": world.invitation_code}).json
    client.post(f"/api/v1/reservations/{booked['manage_token']}/cancel")
    smtp.inbox.refuse.add("sato@example.jp")
    with mail_app.app_context():
        mail_delivery.deliver_due()

    response = client.get(f"/api/v1/messages?reservation_code={booked['code']}", headers=admin_headers)
    assert response.status_code == 200
    listed = response.json
    assert [m["kind"] for m in listed] == ["confirmation", "cancelled"]
    for message in listed:
        assert set(message) >= {"id", "kind", "to", "status", "attempts", "sent_at", "last_error"}
        assert message["to"] == "sato@example.jp"
        assert message["status"] == "failed" and message["attempts"] == 1
        assert message["last_error"].startswith("550") and message["sent_at"] is None
        assert "body" not in message and "subject" not in message

    assert client.get("/api/v1/messages?reservation_code=ZZZZZZ", headers=admin_headers).json == []
    assert client.get(f"/api/v1/messages?reservation_code={booked['code']}").status_code == 401
    clerk = {"Authorization": f"Bearer {make_token('clerk')}"}
    assert client.get(f"/api/v1/messages?reservation_code={booked['code']}", headers=clerk).status_code == 403
    assert client.get("/api/v1/messages?status=bogus", headers=admin_headers).status_code == 422


def test_sent_message_has_its_time(mail_app, world, client, smtp, admin_headers):
    with mail_app.app_context():
        db.session.get(Staff, world.staff_id).email = "sato@example.jp"
        db.session.commit()
    booked = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number,
        "invitation_code": world.invitation_code}).json
    [queued] = client.get(f"/api/v1/messages?reservation_code={booked['code']}", headers=admin_headers).json
    assert queued["status"] == "queued" and queued["attempts"] == 0
    with mail_app.app_context():
        mail_delivery.deliver_due()
    [sent] = client.get(f"/api/v1/messages?reservation_code={booked['code']}", headers=admin_headers).json
    assert sent["status"] == "sent" and sent["sent_at"] and sent["last_error"] is None
