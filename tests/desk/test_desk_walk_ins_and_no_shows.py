"""Walk-ins (current or next slot with room, an override that is recorded) and no-shows."""
from __future__ import annotations

import io
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.localtime import at_tokyo
from booking.models import AuditEvent, DeskSession, Reservation, Slot, Staff
from booking.services import accounts, applications, checkin, photos
from booking.services.actor import Actor
from booking.services.errors import DomainError


@pytest.fixture
def desk(app, ctx, world):
    """Services called directly: the session, a clerk and a clock inside the session."""

    class Desk:
        session = db.session.get(DeskSession, world.session_id)
        clerk = accounts.ensure_user("walk-in-clerk", "clerk")
        actor = Actor("page", user=clerk)
        slots = tuple(db.session.get(DeskSession, world.session_id).slots)

        @staticmethod
        def at(hour: int, minute: int = 0):
            from datetime import time

            return at_tokyo(world.session_day, time(hour, minute))

        @staticmethod
        def staff(number: str) -> Staff:
            return db.session.scalar(select(Staff).where(Staff.staff_number == number))

    db.session.commit()
    return Desk


def seats(slot_id: int) -> tuple[int, int]:
    row = db.session.execute(select(Slot.seats_taken, Slot.capacity).where(Slot.id == slot_id)).one()
    return row.seats_taken, row.capacity


def test_a_walk_in_gets_the_current_slot_and_is_checked_in(desk, world):
    staff = desk.staff(world.staff_number)
    result = checkin.walk_in(desk.actor, desk.session, staff, dependent_ids=[world.dependent_id],
                             now=desk.at(15, 12))
    db.session.commit()

    reservation = db.session.get(Reservation, result.reservation.id)
    assert reservation.channel == "walk_in" and reservation.status == "checked_in"
    assert reservation.slot_id == desk.slots[1].id  # 15:10-15:20
    assert reservation.booked_by_id == desk.clerk.id
    assert len(result.check_ins) == 2 and not result.is_override
    assert seats(desk.slots[1].id) == (2, 2)


def test_a_walk_in_goes_to_the_next_slot_with_room_when_the_current_one_is_full(desk, world, book_for):
    world.add_staff(3)
    book_for("2000", slot_index=1)
    book_for("2001", slot_index=1)  # 15:10 is full
    result = checkin.walk_in(desk.actor, desk.session, desk.staff("2002"), now=desk.at(15, 12))
    assert result.reservation.slot_id == desk.slots[2].id


def test_a_walk_in_needs_an_override_when_no_slot_has_room(desk, world, book_for):
    pairs = world.add_staff(2 * 6 + 1)
    for index, (number, _code) in enumerate(pairs[:12]):
        book_for(number, slot_index=index // 2)
    late_comer = desk.staff(pairs[12][0])

    with pytest.raises(DomainError) as refused:
        checkin.walk_in(desk.actor, desk.session, late_comer, now=desk.at(15, 25))
    assert refused.value.code == "slot_full"
    db.session.rollback()

    result = checkin.walk_in(desk.actor, desk.session, late_comer, now=desk.at(15, 25),
                             override_reason="Crew leaves for a drill at 16:00")
    db.session.commit()

    assert result.is_override and result.reservation.slot_id == desk.slots[2].id
    assert seats(desk.slots[2].id) == (3, 3)  # capacity raised by exactly the missing seat
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "walk_in.over_capacity"))
    assert event.details["reason"] == "Crew leaves for a drill at 16:00"
    assert event.details["capacity_before"] == 2 and event.details["added_capacity"] == 1
    assert event.user_id == desk.clerk.id


def test_an_override_reason_holding_an_individual_number_is_refused(desk, world):
    with pytest.raises(DomainError) as refused:
        checkin.walk_in(desk.actor, desk.session, desk.staff(world.staff_number), now=desk.at(15),
                        override_reason="番号 1234 5678 9018")
    assert refused.value.code == "individual_number_refused"


def test_a_walk_in_who_already_booked_is_sent_to_their_reservation(desk, world, booked):
    with pytest.raises(DomainError) as refused:
        checkin.walk_in(desk.actor, desk.session, desk.staff(world.staff_number), now=desk.at(15))
    assert refused.value.code == "already_reserved"
    assert refused.value.extra["reservation_id"] == booked.id


def test_no_walk_in_after_the_session_has_ended(desk, world):
    with pytest.raises(DomainError) as refused:
        checkin.walk_in(desk.actor, desk.session, desk.staff(world.staff_number), now=desk.at(16, 1))
    assert refused.value.code == "session_over"


def test_staff_are_found_by_number_or_by_kana_in_any_form(desk, world):
    assert [s.staff_number for s in checkin.find_staff("1001")] == ["1001"]
    assert [s.staff_number for s in checkin.find_staff("１００１")] == ["1001"]
    for query in ("サトウ", "さとう", "ｻﾄｳ ｼｮｳﾀ", "しょうた", "佐藤"):
        assert [s.staff_number for s in checkin.find_staff(query)] == ["1001"], query
    assert checkin.find_staff("ヤマダ") == []


def test_the_walk_in_page_finds_and_seats_a_staff_member(app, login, world):
    clerk = login("clerk")
    found = clerk.get(f"/desk/sessions/{world.session_id}/walk-in?q=さとう").get_data(as_text=True)
    assert "佐藤 翔太" in found and f"staff_id={world.staff_id}" in found

    response = clerk.post(f"/desk/sessions/{world.session_id}/walk-in",
                          data={"staff_id": world.staff_id, "dependent_ids": [world.dependent_id]})
    # The session is next week: the walk-in goes into its first slot with room.
    assert response.status_code == 302
    with app.app_context():
        reservation = db.session.scalar(select(Reservation))
        assert (reservation.channel, reservation.status, reservation.seats) == ("walk_in", "checked_in", 2)


def test_the_no_show_button_turns_the_remaining_bookings_into_no_shows(desk, world, book_for):
    world.add_staff(2)
    came = book_for()
    stayed_away = book_for("2000", slot_index=2)
    checkin.check_in(desk.actor, db.session.get(Reservation, came.id), now=desk.at(15, 1))
    db.session.commit()

    count = checkin.mark_no_shows(desk.actor, desk.session, now=desk.at(16, 5))
    db.session.commit()

    assert count == 1
    assert db.session.get(Reservation, came.id).status == "checked_in"
    assert db.session.get(Reservation, stayed_away.id).status == "no_show"


def test_no_shows_cannot_be_marked_before_the_session_starts(desk, booked):
    with pytest.raises(DomainError) as refused:
        checkin.mark_no_shows(desk.actor, desk.session, now=desk.at(14, 59))
    assert refused.value.code == "not_started"
    db.session.rollback()
    assert db.session.get(Reservation, booked.id).status == "booked"


def test_a_no_show_who_turns_up_late_can_still_be_checked_in(desk, booked):
    checkin.mark_no_shows(desk.actor, desk.session, now=desk.at(16, 5))
    db.session.commit()
    rows = checkin.check_in(desk.actor, db.session.get(Reservation, booked.id), now=desk.at(16, 10))
    assert len(rows) == 2


def test_a_no_show_who_booked_again_is_sent_to_the_new_booking_not_a_500(app, client, desk, booked, book_for,
                                                                         clerk_headers):
    """A no-show frees the person to book again; the old QR at the desk then points the clerk at the
    new booking instead of breaking the one-active-booking rule (it was a 500)."""
    checkin.mark_no_shows(desk.actor, desk.session, now=desk.at(16, 5))
    db.session.commit()
    again = book_for(slot_index=3)
    response = client.post("/api/v1/checkins", json={"code": booked.code}, headers=clerk_headers)
    assert response.status_code == 409, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "already_reserved" and body["reservation_code"] == again.code
    assert "booked again" in body["message"]
    db.session.expire_all()
    assert db.session.get(Reservation, booked.id).status == "no_show"
    assert client.post("/api/v1/checkins", json={"code": again.code}, headers=clerk_headers).status_code == 201


def test_the_cron_command_closes_only_sessions_that_have_ended(app, runner, world, booked):
    result = runner.invoke(args=["mark-no-shows"])
    assert result.exit_code == 0, result.output
    assert "Marked 0 reservations" in result.output  # the session is next week

    with app.app_context():
        session = db.session.get(DeskSession, world.session_id)
        session.date = session.date - timedelta(days=14)
        for slot in session.slots:
            slot.starts_at -= timedelta(days=14)
            slot.ends_at -= timedelta(days=14)
        db.session.commit()
    result = runner.invoke(args=["mark-no-shows"])
    assert "Marked 1 reservations as no-shows in 1 ended sessions" in result.output
    assert "Marked 0" in runner.invoke(args=["mark-no-shows"]).output  # idempotent
    with app.app_context():
        assert db.session.get(Reservation, booked.id).status == "no_show"


def test_no_shows_are_listed_by_unit_and_a_chief_sees_only_their_units(app, login, world, book_for):
    hq_staff = world.add_staff(1, unit="HQ", start=3000)
    station_staff = world.add_staff(1, unit="A", start=4000)
    book_for(hq_staff[0][0], slot_index=1)
    book_for(station_staff[0][0], slot_index=2)
    with app.app_context():
        checkin.mark_no_shows(Actor.command_line(), db.session.get(DeskSession, world.session_id),
                              now=at_tokyo(world.session_day + timedelta(days=1), time(9)))
        db.session.commit()

    clerk_page = login("clerk").get("/desk/no-shows").get_data(as_text=True)
    assert "消防本部" in clerk_page and "中央消防署" in clerk_page and "3000" in clerk_page and "4000" in clerk_page

    chief = login("chief", username="chief-a", unit_code="A")  # the same client, signed in again
    chief_page = chief.get("/desk/no-shows").get_data(as_text=True)
    assert "4000" in chief_page and "3000" not in chief_page


def hand_in(desk, check_in, jpeg) -> None:
    photos.attach_photo(desk.actor, check_in, io.BytesIO(jpeg()))
    applications.record_application(desk.actor, check_in, {"application_id": "12345678901234567890123"},
                                    submit=True)


def test_application_submitted_is_one_service_call_that_keeps_the_history(desk, world, booked, jpeg):
    from booking.models import CardStatusEvent

    rows = checkin.check_in(desk.actor, db.session.get(Reservation, booked.id), now=desk.at(15))
    hand_in(desk, rows[0], jpeg)
    db.session.commit()

    staff = desk.staff(world.staff_number)
    assert (staff.card_status, staff.card_status_on) == ("applied", checkin.local_today())
    event = db.session.scalar(select(CardStatusEvent).where(CardStatusEvent.staff_id == staff.id))
    assert (event.from_status, event.to_status, event.source, event.user_id) == ("none", "applied", "desk", desk.clerk.id)
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "application.submitted"))
    assert audit.details["previous_status"] == "none"


def test_a_card_already_received_stays_received(desk, world, booked, jpeg):
    staff = desk.staff(world.staff_number)
    staff.card_status = "received"
    rows = checkin.check_in(desk.actor, db.session.get(Reservation, booked.id), now=desk.at(15))
    hand_in(desk, rows[0], jpeg)
    db.session.commit()
    assert desk.staff(world.staff_number).card_status == "received"
    assert rows[0].is_application_submitted


def test_the_walk_in_search_shows_who_already_has_a_reservation(login, world, booked):
    clerk = login("clerk")
    page = clerk.get(f"/desk/sessions/{world.session_id}/walk-in?q=1001&lang=en").get_data(as_text=True)
    assert "Booked" in page and f"{booked.code[:3]}-{booked.code[3:]}" in page
    chosen = clerk.get(f"/desk/sessions/{world.session_id}/walk-in?staff_id={world.staff_id}&lang=en")
    assert f"/desk/reservations/{booked.id}" in chosen.get_data(as_text=True)
