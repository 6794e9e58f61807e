"""Campaigns and sessions: creating, previewing, copying, and changing them without stranding anyone."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from booking.extensions import db
from booking.localtime import TOKYO
from booking.models import (
    AuditEvent,
    Campaign,
    DeskSession,
    Reservation,
    ReservationPerson,
    Slot,
    Staff,
    User,
)
from booking.services import campaigns, directory, reservations, slots
from booking.services.actor import Actor
from booking.services.errors import DomainError


@pytest.fixture
def admin(client, office, login):
    return login("admin")


def book(app, office, slot_index: int, staff_number: str, *, dependents: bool = False) -> int:
    """A web booking by the staff member, returning its id."""
    with app.test_request_context():
        staff = db.session.scalar(select(Staff).where(Staff.staff_number == staff_number))
        if staff is None:
            unit = directory.unit_by_code("A")
            staff = directory.add_staff(staff_number=staff_number, family_name="田中", given_name=staff_number,
                                           family_name_kana="タナカ", given_name_kana="タロウ", unit=unit,
                                           phone=f"090-0000-{staff_number}")
        ids = [d.id for d in staff.dependents] if dependents else []
        reservation = reservations.reserve(office.ids["slots"][slot_index], staff, dependent_ids=ids)
        db.session.commit()
        return reservation.id


def assert_seats_match_reservations(app):
    """Rule 1's bookkeeping: every slot's counter equals the seats of its active reservations."""
    with app.app_context():
        for slot in db.session.scalars(select(Slot)):
            # One seat per person, in the slot that person sits in (a party may span slots).
            held = db.session.scalar(
                select(func.count(ReservationPerson.id))
                .join(Reservation, Reservation.id == ReservationPerson.reservation_id)
                .where(ReservationPerson.slot_id == slot.id, Reservation.status.in_(("booked", "checked_in"))))
            assert slot.seats_taken == held, (slot.id, slot.seats_taken, held)
            assert slot.seats_taken <= slot.capacity


def session_form(office, **changes) -> dict:
    data = {"venue_id": office.ids["venue"], "date": office.session_day.isoformat(), "start_time": "15:00",
            "end_time": "16:00", "slot_minutes": "10", "desks": "2", "action": "save"}
    data.update(changes)
    return data


def reservation(app, reservation_id: int) -> tuple[str, datetime, int]:
    with app.app_context():
        r = db.session.get(Reservation, reservation_id)
        return r.status, r.slot.starts_at, r.sequence


# --- campaigns ----------------------------------------------------------------------------------


def test_an_admin_creates_a_draft_campaign_for_two_units(app, admin, office):
    response = admin.post("/office/campaigns/new", data={
        "title": "第2回 出張申請", "booking_opens_at": "2030-06-01T09:00", "booking_closes_at": "2030-07-20T17:00",
        "cutoff_minutes": "120", "target_unit_ids": [office.ids["A"], office.ids["B"]],
        "what_to_bring": "本人確認書類 2点"})
    assert response.status_code == 302
    with app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.title == "第2回 出張申請"))
        assert not campaign.is_published and campaign.cutoff_minutes == 120
        assert campaign.booking_opens_at == datetime(2030, 6, 1, 9, tzinfo=TOKYO)
        assert sorted(u.code for u in campaign.target_units) == ["A", "B"]


def test_editing_a_campaign_publishes_it_and_is_audited(app, admin, office):
    with app.app_context():
        campaign = db.session.get(Campaign, office.ids["campaign"])
        opens = campaign.booking_opens_at.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M")
        closes = campaign.booking_closes_at.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M")
    response = admin.post(f"/office/campaigns/{office.ids['campaign']}/edit", data={
        "title": "出張申請（7月）", "booking_opens_at": opens, "booking_closes_at": closes, "cutoff_minutes": "60",
        "what_to_bring": "本人確認書類", "is_published": "y"})
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "campaign.update"))
        assert event.details["changed"] == ["title"]


def test_a_window_that_closes_before_it_opens_is_refused(admin, office):
    response = admin.post("/office/campaigns/new", data={
        "title": "x", "booking_opens_at": "2030-06-02T09:00", "booking_closes_at": "2030-06-01T09:00",
        "cutoff_minutes": "60"})
    assert response.status_code == 422
    assert "Booking must close after it opens." in response.get_data(as_text=True)


# --- sessions: preview, create, copy -------------------------------------------------------------


def test_the_preview_button_shows_the_slots_without_saving(app, admin, office):
    response = admin.post(f"/office/campaigns/{office.ids['campaign']}/sessions/new",
                          data=session_form(office, end_time="16:05", slot_minutes="15", desks="3", action="preview"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "4 slots × 3 desks = 12 places" in page
    assert re.findall(r"<li>(\d\d:\d\d)</li>", page) == ["15:00", "15:15", "15:30", "15:45"]
    with app.app_context():
        assert db.session.scalar(select(func.count(DeskSession.id))) == 1


def test_the_live_preview_uses_the_same_slot_plan_as_saving(admin, office):
    response = admin.get("/office/sessions/preview", query_string={
        "date": "2030-07-10", "start_time": "23:00", "end_time": "01:00", "slot_minutes": "30", "desks": "2"})
    body = response.get_json()
    planned = slots.plan_slots(date(2030, 7, 10), time(23), time(1), 30, 2)
    assert body["count"] == len(planned) == 4 and body["capacity"] == 8
    assert [s["starts_at"] for s in body["slots"]] == ["23:00", "23:30", "00:00", "00:30"]


def test_saving_a_session_creates_its_slots_and_is_audited(app, admin, office):
    day = (office.session_day + timedelta(days=1)).isoformat()
    response = admin.post(f"/office/campaigns/{office.ids['campaign']}/sessions/new",
                          data=session_form(office, date=day, start_time="18:00", end_time="19:00"))
    assert response.status_code == 302
    with app.app_context():
        session = db.session.scalar(select(DeskSession).where(DeskSession.start_time == time(18)))
        assert len(session.slots) == 6 and {s.capacity for s in session.slots} == {2}
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "session.create")).details["slots"] == 6


def test_a_session_is_copied_to_two_more_dates_in_one_step(app, admin, office):
    days = [office.session_day + timedelta(days=n) for n in (2, 3)]
    response = admin.post(f"/office/sessions/{office.ids['session']}/copy", data={
        "dates-0": days[0].isoformat(), "dates-1": days[1].isoformat(), "dates-2": ""})
    assert response.status_code == 302
    with app.app_context():
        copies = db.session.scalars(select(DeskSession).order_by(DeskSession.date)).all()
        assert [s.date for s in copies] == [office.session_day, *days]
        assert all((s.venue_id, s.start_time, s.end_time, s.slot_minutes, s.desks, len(s.slots)) ==
                   (office.ids["venue"], time(15), time(16), 10, 2, 6) for s in copies)
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "session.copy")).details["dates"] == [
            d.isoformat() for d in days]


def test_copying_onto_a_date_that_already_has_the_session_copies_nothing(app, admin, office):
    response = admin.post(f"/office/sessions/{office.ids['session']}/copy", data={
        "dates-0": (office.session_day + timedelta(days=2)).isoformat(), "dates-1": office.session_day.isoformat()})
    assert response.status_code == 422
    assert "already has this session on" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(DeskSession.id))) == 1


# --- changing a session with bookings ------------------------------------------------------------


def test_shortening_a_session_with_bookings_is_refused_with_the_list_of_them(app, admin, office):
    late = book(app, office, 5, "1001")  # 15:50
    early = book(app, office, 0, "2001")  # 15:00
    response = admin.post(f"/office/sessions/{office.ids['session']}/edit", data=session_form(office, end_time="15:30"))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "1 reservations do not fit" in page or "1 reservation does not fit" in page
    with app.app_context():
        code = db.session.get(Reservation, late).code
    assert f"{code[:3]}-{code[3:]}" in page and "佐藤 翔太" in page and "高橋 健一" not in page
    assert 'value="move"' in page and 'value="cancel"' in page
    with app.app_context():
        assert len(db.session.get(DeskSession, office.ids["session"]).slots) == 6
    assert reservation(app, late)[0] == reservation(app, early)[0] == "booked"


def test_moving_the_affected_bookings_puts_each_at_the_nearest_free_time(app, admin, office):
    first = book(app, office, 5, "1001", dependents=True)  # 15:50, two seats
    second = book(app, office, 4, "7001")  # 15:40
    response = admin.post(f"/office/sessions/{office.ids['session']}/edit",
                          data=session_form(office, end_time="15:30", action="move"))
    assert response.status_code == 302 and "/contacts/" in response.headers["Location"]
    # In time order: 15:40 takes one seat at 15:20; the pair from 15:50 no longer fits there and gets 15:10.
    status, starts_at, sequence = reservation(app, second)
    assert (status, starts_at.astimezone(TOKYO).time(), sequence) == ("booked", time(15, 20), 1)
    assert reservation(app, first)[1].astimezone(TOKYO).time() == time(15, 10)
    assert_seats_match_reservations(app)
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Moved" in page and "佐藤 翔太" in page and "090-1111-2222" in page


def test_moving_is_refused_when_the_smaller_session_has_no_room_left(app, admin, office):
    ids = [book(app, office, n, str(8000 + n)) for n in range(6)]
    ids.append(book(app, office, 0, "8100"))
    response = admin.post(f"/office/sessions/{office.ids['session']}/edit",
                          data=session_form(office, desks="1", action="move"))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "no free time left" in html
    # The code as people read it, and the bookings still listed with the other way out: cancel them.
    assert re.search(r"reservation [0-9A-Z]{3}-[0-9A-Z]{3} ", html)
    assert 'class="card o-conflict"' in html and 'value="cancel"' in html
    with app.app_context():
        assert {s.capacity for s in db.session.get(DeskSession, office.ids["session"]).slots} == {2}
    assert all(reservation(app, i)[0] == "booked" for i in ids)
    assert_seats_match_reservations(app)


def test_fewer_desks_push_out_the_latest_bookings_first(app, admin, office):
    first = book(app, office, 0, "8001")
    second = book(app, office, 0, "8002")
    response = admin.post(f"/office/sessions/{office.ids['session']}/edit", data=session_form(office, desks="1"))
    assert response.status_code == 409
    with app.app_context():
        code = db.session.get(Reservation, second).code
        other = db.session.get(Reservation, first).code
    page = response.get_data(as_text=True)
    assert f"{code[:3]}-{code[3:]}" in page and f"{other[:3]}-{other[3:]}" not in page
    response = admin.post(f"/office/sessions/{office.ids['session']}/edit",
                          data=session_form(office, desks="1", action="move"))
    assert response.status_code == 302
    assert reservation(app, first)[1].astimezone(TOKYO).time() == time(15)
    assert reservation(app, second)[1].astimezone(TOKYO).time() == time(15, 10)
    assert_seats_match_reservations(app)


def test_cancelling_the_affected_bookings_frees_their_seats_and_lists_whom_to_call(app, admin, office):
    late = book(app, office, 5, "1001")
    response = admin.post(f"/office/sessions/{office.ids['session']}/edit",
                          data=session_form(office, end_time="15:30", action="cancel"))
    assert response.status_code == 302
    assert reservation(app, late)[0] == "cancelled"
    with app.app_context():
        session = db.session.get(DeskSession, office.ids["session"])
        assert [s.starts_at.astimezone(TOKYO).strftime("%H:%M") for s in session.slots] == ["15:00", "15:10", "15:20"]
    assert_seats_match_reservations(app)
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Cancelled" in page and "090-1111-2222" in page


def test_a_change_that_strands_nobody_is_saved_at_once(app, admin, office):
    kept = book(app, office, 0, "1001")
    with app.app_context():
        slot_id = db.session.get(Reservation, kept).slot_id
    response = admin.post(f"/office/sessions/{office.ids['session']}/edit",
                          data=session_form(office, end_time="17:00", desks="3"))
    assert response.status_code == 302 and "/contacts/" not in response.headers["Location"]
    with app.app_context():
        session = db.session.get(DeskSession, office.ids["session"])
        assert len(session.slots) == 12 and {s.capacity for s in session.slots} == {3}
        assert db.session.get(Reservation, kept).slot_id == slot_id
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "session.update")).details[
            "changed"] == ["end_time", "desks"]


def test_moving_the_session_to_another_venue_asks_first_and_lists_everyone(app, admin, office):
    kept = book(app, office, 2, "1001")
    response = admin.post(f"/office/sessions/{office.ids['session']}/edit",
                          data=session_form(office, venue_id=office.ids["venue_b"]))
    assert response.status_code == 409
    response = admin.post(f"/office/sessions/{office.ids['session']}/edit",
                          data=session_form(office, venue_id=office.ids["venue_b"], action="move"))
    assert response.status_code == 302
    status, starts_at, sequence = reservation(app, kept)
    assert (status, starts_at.astimezone(TOKYO).time(), sequence) == ("booked", time(15, 20), 1)
    assert "New venue" in admin.get(response.headers["Location"]).get_data(as_text=True)


def test_a_session_that_has_started_cannot_be_changed(ctx, office):
    session = db.session.get(DeskSession, office.ids["session"])
    admin_user = db.session.get(User, office.ids["user_admin"])
    later = datetime.combine(office.session_day, time(15, 5), tzinfo=TOKYO)
    with pytest.raises(DomainError) as refused:
        campaigns.update_session(Actor("system", user=admin_user), session, venue_id=office.ids["venue"], day=office.session_day,
                                 start=time(15), end=time(17), slot_minutes=10, desks=2, now=later)
    assert refused.value.code == "session_started"


# --- cancelling a session ------------------------------------------------------------------------


def test_cancelling_a_session_cancels_its_bookings_and_lists_the_people_to_contact(app, admin, office):
    ids = [book(app, office, 0, "1001", dependents=True), book(app, office, 3, "2001")]
    page = admin.get(f"/office/sessions/{office.ids['session']}/cancel").get_data(as_text=True)
    assert "2 reservations will be cancelled" in page
    response = admin.post(f"/office/sessions/{office.ids['session']}/cancel")
    assert response.status_code == 302
    assert all(reservation(app, i)[0] == "cancelled" for i in ids)
    assert_seats_match_reservations(app)
    contacts = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "佐藤 翔太" in contacts and "高橋 健一" in contacts and "090-1111-2222" in contacts
    with app.app_context():
        assert db.session.get(DeskSession, office.ids["session"]).is_cancelled
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "session.cancel"))
        assert sorted(e["reservation_id"] for e in event.details["cancelled"]) == sorted(ids)


def test_a_cancelled_session_is_no_longer_offered_to_bookers(app, admin, office, client):
    admin.post(f"/office/sessions/{office.ids['session']}/cancel")
    with app.test_request_context():
        staff = db.session.get(Staff, office.ids["staff_a"])
        with pytest.raises(DomainError) as refused:
            reservations.reserve(office.ids["slots"][0], staff)
    assert refused.value.code == "booking_closed"


def test_the_contact_list_belongs_to_its_own_session(app, admin, office):
    book(app, office, 0, "1001")
    location = admin.post(f"/office/sessions/{office.ids['session']}/cancel").headers["Location"]
    event_id = location.rsplit("/", 1)[1]
    with app.test_request_context():
        campaign = db.session.get(Campaign, office.ids["campaign"])
        other = slots.create_session(campaign, office.ids["venue"], office.session_day + timedelta(days=9),
                                     time(9), time(10), 10, 1)
        db.session.commit()
        other_id = other.id
    assert admin.get(f"/office/sessions/{other_id}/contacts/{event_id}").status_code == 404


# --- the overview ------------------------------------------------------------------------------


def test_the_overview_puts_today_and_the_next_sessions_first_with_seat_bars(app, admin, office):
    book(app, office, 0, "1001", dependents=True)
    with app.test_request_context():
        campaign = db.session.get(Campaign, office.ids["campaign"])
        made = {offset: slots.create_session(campaign, office.ids["venue_b"], office.today + timedelta(days=offset),
                                             time(20), time(21), 30, 1) for offset in (-3, 0, 2)}
        db.session.commit()
        past_id = made[-3].id
    page = admin.get("/office/").get_data(as_text=True)
    upcoming = page[page.index("Today and next"):page.index('class="card o-campaign"')]
    assert upcoming.index(">Today<") < upcoming.index("2 / 12")
    assert f"#session-{past_id}" not in upcoming and upcoming.count("<tr") == 4  # header, today, +2 and +7 days
    assert 'aria-label="2 of 12 seats taken"' in page
    campaign_rows = page[page.index('class="card o-campaign"'):]
    assert campaign_rows.index("o-today") < campaign_rows.index("o-past")


def test_a_session_cannot_be_moved_into_the_past(app, admin, office):
    yesterday = (office.today - timedelta(days=1)).isoformat()
    response = admin.post(f"/office/sessions/{office.ids['session']}/edit", data=session_form(office, date=yesterday))
    assert response.status_code == 422
    assert "still ahead" in response.get_data(as_text=True)


def test_the_campaign_page_sets_when_the_reminder_goes_out(app, admin, office):
    with app.app_context():
        campaign = db.session.get(Campaign, office.ids["campaign"])
        campaign.reminder_minutes_before = 90  # set through the API: not one the list offers
        db.session.commit()
        form = {"title": campaign.title, "cutoff_minutes": "60", "is_published": "y",
                "booking_opens_at": campaign.booking_opens_at.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M"),
                "booking_closes_at": campaign.booking_closes_at.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M")}
    url = f"/office/campaigns/{office.ids['campaign']}"
    page = admin.get(f"{url}/edit").get_data(as_text=True)
    assert re.search(r'<option selected value="90">90 minutes before</option>', page)
    assert admin.post(f"{url}/edit", data={**form, "reminder_minutes_before": "1440"}).status_code == 302
    assert "24 hours before" in admin.get(url).get_data(as_text=True)
    assert admin.post(f"{url}/edit", data={**form, "reminder_minutes_before": ""}).status_code == 302
    with app.app_context():
        assert db.session.get(Campaign, office.ids["campaign"]).reminder_minutes_before is None
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.update")).all()
        assert [e.details["changed"] for e in events] == [["reminder_minutes_before"]] * 2
    assert "The day before at noon" in admin.get(url).get_data(as_text=True)
    response = admin.post(f"{url}/edit", data={**form, "reminder_minutes_before": "5"})
    assert response.status_code == 422
    assert "Use 10 to 20160 minutes" in response.get_data(as_text=True)
