"""What the office sees of the mail: the messages page (admin, each read of a text audited), the
failed count on the home page, a booking's messages on the phone and desk screens, and a call list
of exactly the people mail does not reach."""
from __future__ import annotations

from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEvent, OutboxMessage, Reservation, Staff
from booking.services import bookings, mail_delivery
from booking.services.actor import Actor


def _book(app, office, staff_key="staff_a", slot=0):
    with app.test_request_context(base_url="http://localhost"):
        staff = db.session.get(Staff, office.ids[staff_key])
        reservation = bookings.book(Actor.system(), office.ids["slots"][slot], staff)
        db.session.commit()
        return reservation.id, reservation.code


def _render_all(app):
    """The worker's pass without SMTP_URL: texts written, kept as not sent."""
    with app.app_context():
        mail_delivery.deliver_due()


def _set_email(app, office, staff_key, email):
    with app.app_context():
        db.session.get(Staff, office.ids[staff_key]).email = email
        db.session.commit()


def test_admin_reads_the_messages_and_each_read_is_audited(app, client, office, login):
    _set_email(app, office, "staff_a", "sato@example.jp")
    _, code = _book(app, office)
    _render_all(app)
    admin = login("admin")
    page = admin.get("/office/messages", query_string={"code": code}).get_data(as_text=True)
    assert "sato@example.jp" in page and "Not sent" in page and "Confirmation" in page
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "message.read")) is None
    text = admin.get(f"/office/messages/{message.id}").get_data(as_text=True)
    assert code[:3] in text and "予約" in text  # the Japanese text as it would have gone out
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "message.read"))
        assert event.target_id == str(message.id) and event.actor == "admin"
    assert "No messages match" in admin.get("/office/messages", query_string={"status": "failed"}).get_data(as_text=True)


def test_clerks_may_not_open_the_messages_page(client, office, login):
    clerk = login("clerk")
    assert clerk.get("/office/messages").status_code == 403


def test_failed_deliveries_are_counted_on_the_office_home(app, client, office, login):
    _book(app, office)
    with app.app_context():
        db.session.scalars(select(OutboxMessage)).one().status = "failed"
        db.session.commit()
    page = login("admin").get("/office/").get_data(as_text=True)
    assert "1 mail message could not be delivered" in page
    assert "/office/messages?status=failed" in page


def test_the_phone_and_desk_screens_list_the_bookings_messages(app, client, office, login):
    _set_email(app, office, "staff_a", "sato@example.jp")
    reservation_id, _code = _book(app, office)
    _render_all(app)
    clerk = login("clerk")
    phone = clerk.get(f"/office/phone/staff/{office.ids['staff_a']}").get_data(as_text=True)
    assert "Mail to the booker" in phone and "Confirmation" in phone and "sato@example.jp" in phone
    desk = clerk.get(f"/desk/reservations/{reservation_id}").get_data(as_text=True)
    assert "Mail to the booker" in desk and "Confirmation" in desk


def test_the_phone_screen_says_when_there_is_no_address(app, client, office, login):
    _book(app, office)
    phone = login("clerk").get(f"/office/phone/staff/{office.ids['staff_a']}").get_data(as_text=True)
    assert "No mail address on record" in phone


def test_the_call_list_shows_exactly_the_people_mail_does_not_reach(app, client, office, login):
    _set_email(app, office, "staff_a", "sato@example.jp")  # reached by mail
    _book(app, office, "staff_a", 0)
    _book(app, office, "staff_a1", 1)  # no address
    admin = login("admin")
    response = admin.post(f"/office/sessions/{office.ids['session']}/cancel", data={"reason": "設備点検のため"})
    assert response.status_code == 302
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "鈴木 大輔" in page and "No mail address" in page
    assert "佐藤 翔太" not in page
    assert "1 person was told by mail" in page
    with app.app_context():
        cancelled = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "cancelled")).all()
        assert len(cancelled) == 2 and {m.reason for m in cancelled} == {"設備点検のため"}
        assert all(r.status == "cancelled" for r in db.session.scalars(select(Reservation)))
