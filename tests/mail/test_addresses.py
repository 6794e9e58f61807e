"""The booker's own address: asked for on their booking page, used once the link sent to it is
opened; it wins over later staff imports; an invalid address in an import is refused with its line."""
from __future__ import annotations

import re

from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEvent, OutboxMessage, Staff
from booking.services import mail_delivery

HEADER = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,card_status"


def book(client, world):
    response = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number,
        "invitation_code": world.invitation_code})
    assert response.status_code == 201
    return response.json


def staff(app, world):
    with app.app_context():
        found = db.session.get(Staff, world.staff_id)
        db.session.expunge(found)
        return found


def confirm_link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://localhost(/r/\S+/email/\S+)", text).group(1)


def test_an_address_is_used_only_once_the_link_sent_to_it_is_opened(mail_app, world, client, smtp):
    booked = book(client, world)
    token = booked["manage_token"]
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert 'name="email"' in page
    assert client.post(f"/r/{token}/email", data={"email": "not-an-address"}).status_code == 422
    response = client.post(f"/r/{token}/email", data={"email": "shota@example.jp"})
    assert response.status_code == 302
    assert staff(mail_app, world).email == ""  # not used before it is confirmed
    with mail_app.app_context():
        mail_delivery.deliver_due()
    [confirmation_mail] = [m for m in smtp.inbox.wait_for(1) if m["To"] == "shota@example.jp"]
    link = confirm_link(confirmation_mail)
    # Opening the link (a mail scanner does) changes nothing; the button does.
    assert "shota@example.jp" in client.get(link).get_data(as_text=True)
    assert staff(mail_app, world).email == ""
    assert client.post(link).status_code == 302
    confirmed = staff(mail_app, world)
    assert confirmed.email == "shota@example.jp" and confirmed.email_confirmed_at is not None
    assert client.post(link).status_code == 404  # used once
    with mail_app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"staff.email_requested", "staff.email_confirmed"} <= actions
    # From now on the booking's messages go there.
    client.post(f"/api/v1/reservations/{token}/cancel")
    with mail_app.app_context():
        cancelled = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "cancelled"))
        assert cancelled.to_address == "shota@example.jp"


def test_an_individual_number_is_refused_as_an_address(mail_app, world, client, smtp):
    token = book(client, world)["manage_token"]
    client.set_cookie("lang", "en")
    response = client.post(f"/r/{token}/email", data={"email": "1234-5678-9018@example.jp"})
    assert response.status_code == 422 and "individual number" in response.get_data(as_text=True)
    assert staff(mail_app, world).pending_email in (None, "")


def test_a_tampered_link_is_refused(mail_app, world, client, smtp):
    token = book(client, world)["manage_token"]
    client.post(f"/r/{token}/email", data={"email": "shota@example.jp"})
    assert client.get(f"/r/{token}/email/forged").status_code == 404
    assert client.post(f"/r/{token}/email/forged").status_code == 404
    assert staff(mail_app, world).email == ""


def test_a_confirmed_address_wins_over_a_later_import(mail_app, world, client, smtp, admin_headers):
    with mail_app.app_context():
        from datetime import UTC, datetime

        record = db.session.get(Staff, world.staff_id)
        record.email, record.email_confirmed_at = "own@example.jp", datetime.now(UTC)
        db.session.commit()
    row = f"{world.staff_number},佐藤,翔太,サトウ,ショウタ,A,2部,office@example.jp,,none"
    response = client.post("/api/v1/staff/import", data=f"{HEADER}\n{row}\n", content_type="text/csv",
                           headers=admin_headers)
    assert response.status_code == 200, response.json
    after = staff(mail_app, world)
    assert after.email == "own@example.jp" and after.crew == "2部"


def test_an_import_sets_the_address_of_someone_who_confirmed_none_and_clears_a_refusal(
        mail_app, world, client, admin_headers):
    with mail_app.app_context():
        db.session.get(Staff, world.staff_id).email_failure = "550 no such user"
        db.session.commit()
    row = f"{world.staff_number},佐藤,翔太,サトウ,ショウタ,A,1部,new@example.jp,,none"
    assert client.post("/api/v1/staff/import", data=f"{HEADER}\n{row}\n", content_type="text/csv",
                       headers=admin_headers).status_code == 200
    after = staff(mail_app, world)
    assert after.email == "new@example.jp" and after.email_failure == ""


def test_an_invalid_address_in_an_import_is_refused_with_its_line_and_field(mail_app, world, client, admin_headers):
    rows = [f"{world.staff_number},佐藤,翔太,サトウ,ショウタ,A,1部,ok@example.jp,,none",
            "9001,田中,花子,タナカ,ハナコ,A,1部,hanako@@example,,none"]
    response = client.post("/api/v1/staff/import", data=HEADER + "\n" + "\n".join(rows) + "\n",
                           content_type="text/csv", headers=admin_headers)
    assert response.status_code == 422
    assert response.json["error"] == "invalid_import"
    assert [(e["line"], e["field"]) for e in response.json["errors"]] == [(3, "email")]
    assert staff(mail_app, world).email == ""
