"""The chief's approval of bookings during duty hours (職務専念義務の免除): held, approved or
declined (which cancels and frees the seat), shown to the booker; and a decision racing the
booker's own cancel over real HTTP leaves the seats consistent, on SQLite and PostgreSQL."""
from __future__ import annotations

import http.client
import threading
from datetime import time, timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import Campaign, DutyApproval, Reservation, Slot
from booking.services import directory, duty, invitations
from booking.services.actor import Actor
from tests.duty.conftest import PASSWORD, make_user, sign_in
from tests.test_concurrency import seats_in_step


@pytest.fixture
def held(app, world):
    """World's station A on 二部制 with 1部 on duty on the session day; the campaign asks for approval."""
    with app.test_request_context(base_url="http://localhost"):
        a = directory.unit_by_code("A")
        duty.store_plan(a, duty.check_plan("two_crew", time(8, 30), [
            ("1部", world.session_day), ("2部", world.session_day + timedelta(days=1))]))
        directory.create_unit(Actor.system(), code="B", name="北消防署", parent_code="HQ")
        db.session.get(Campaign, world.campaign_id).requires_duty_approval = True
        db.session.commit()
    make_user(app, "chief_a", "chief", unit_code="A")
    make_user(app, "chief_b", "chief", unit_code="B")
    return world


def book(client, world, slot_index: int = 0, staff_number=None, code=None) -> dict:
    response = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[slot_index], "staff_number": staff_number or world.staff_number,
        "invitation_code": code or world.invitation_code}, headers={"Accept-Language": "en"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def approval_of(app, reservation_id: int) -> DutyApproval | None:
    with app.app_context():
        return db.session.scalar(select(DutyApproval).where(DutyApproval.reservation_id == reservation_id))


def manage_page(client, body) -> str:
    client.set_cookie("lang", "en")
    return client.get(f"/r/{body['manage_token']}").get_data(as_text=True)


def test_a_booking_in_duty_hours_is_held_for_the_chief_and_the_booker_is_told(app, client, held):
    body = book(client, held)
    approval = approval_of(app, body["id"])
    assert approval.status == "pending" and body["status"] == "booked"
    assert "Waiting for your unit chief's approval" in manage_page(client, body)
    with app.app_context():
        assert db.session.get(Slot, held.slot_ids[0]).seats_taken == 1  # the seat is kept meanwhile


def test_a_booking_off_duty_or_in_a_campaign_without_the_setting_is_not_held(app, client, held):
    with app.test_request_context():
        staff = directory.add_staff(staff_number="2222", family_name="田中", given_name="亮", family_name_kana="タナカ",
                                       given_name_kana="リョウ", unit=directory.unit_by_code("A"), crew="2部")
        db.session.commit()
        code = invitations.code(staff)
    body = book(client, held, 1, "2222", code)
    assert approval_of(app, body["id"]) is None
    with app.app_context():
        db.session.get(Campaign, held.campaign_id).requires_duty_approval = False
        db.session.commit()
    body = book(client, held)
    assert approval_of(app, body["id"]) is None


def test_the_chief_approves_from_the_approvals_page_and_the_booker_sees_it(app, client, held):
    body = book(client, held)
    chief = app.test_client()
    sign_in(chief, "chief_a")
    page = chief.get("/chiefs/approvals").get_data(as_text=True)
    assert "佐藤 翔太" in page and "Approve" in page
    approval_id = approval_of(app, body["id"]).id
    response = chief.post(f"/chiefs/approvals/{approval_id}/approve", follow_redirects=True)
    assert "Approved: 佐藤 翔太 may apply during duty hours." in response.get_data(as_text=True)
    assert approval_of(app, body["id"]).status == "approved"
    assert "Your unit chief approved applying during your duty hours." in manage_page(client, body)
    again = chief.post(f"/chiefs/approvals/{approval_id}/decline", follow_redirects=True)
    assert "already been answered" in again.get_data(as_text=True)
    assert approval_of(app, body["id"]).status == "approved"


def test_declining_cancels_the_booking_and_frees_its_seat(app, client, held):
    body = book(client, held)
    chief = app.test_client()
    sign_in(chief, "chief_a")
    chief.post(f"/chiefs/approvals/{approval_of(app, body['id']).id}/decline")
    with app.app_context():
        reservation = db.session.get(Reservation, body["id"])
        assert reservation.status == "cancelled"
        assert db.session.get(Slot, held.slot_ids[0]).seats_taken == 0
    page = manage_page(client, body)
    assert "did not approve applying during your duty hours" in page and "Book again" in page


def test_a_chief_of_another_unit_can_neither_see_nor_answer(app, client, held):
    body = book(client, held)
    chief = app.test_client()
    sign_in(chief, "chief_b")
    assert "佐藤 翔太" not in chief.get("/chiefs/approvals").get_data(as_text=True)
    assert chief.post(f"/chiefs/approvals/{approval_of(app, body['id']).id}/approve").status_code == 403
    assert approval_of(app, body["id"]).status == "pending"


def test_the_chiefs_unit_page_says_how_many_bookings_wait(app, client, held):
    book(client, held)
    chief = app.test_client()
    sign_in(chief, "chief_a")
    page = chief.get("/chiefs/unit").get_data(as_text=True)
    assert "1 booking during duty hours waits for your approval" in page


def test_an_approval_is_asked_again_after_a_move_within_duty_hours(app, client, held):
    body = book(client, held)
    with app.test_request_context():
        approval = db.session.get(DutyApproval, approval_of(app, body["id"]).id)
        approval.status = "approved"
        db.session.commit()
    response = client.post(f"/api/v1/reservations/{body['manage_token']}/reschedule",
                           json={"slot_id": held.slot_ids[2]})
    assert response.status_code == 200
    assert approval_of(app, body["id"]).status == "pending"


def test_a_move_out_of_duty_hours_withdraws_the_request(app, client, held):
    body = book(client, held)
    with app.test_request_context(base_url="http://localhost"):
        from booking.services import slots

        campaign = db.session.get(Campaign, held.campaign_id)
        # The next day is 2部's: 1部 came off duty at 8:30, so an evening there is its own time.
        evening = slots.create_session(campaign, held.venue_id, held.session_day + timedelta(days=1), time(18),
                                       time(19), 10, 2)
        db.session.commit()
        evening_slot = evening.slots[0].id
    response = client.post(f"/api/v1/reservations/{body['manage_token']}/reschedule", json={"slot_id": evening_slot})
    assert response.status_code == 200
    assert approval_of(app, body["id"]).status == "withdrawn"
    assert "approval" not in manage_page(client, body)


# --- concurrency over real HTTP --------------------------------------------------------------


class FormCall:
    """A form POST whose connection is opened before the barrier (see tests/test_concurrency.py)."""

    def __init__(self, base: str, path: str, cookie: str = ""):
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        self.path, self.cookie = path, cookie

    def __call__(self) -> int:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Connection": "close"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.connection.request("POST", self.path, body=b"", headers=headers)
        response = self.connection.getresponse()
        response.read()
        self.connection.close()
        return response.status


def chief_cookie(base: str) -> str:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("POST", "/office/login", body=urlencode({"username": "chief_a", "password": PASSWORD}),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    assert response.status == 302
    return "; ".join(c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie"))


def run_together(calls: list[FormCall]) -> list[int]:
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: FormCall) -> None:
        try:
            call.connection.connect()
            barrier.wait(timeout=60)
            results[index] = call()
        except BaseException as error:  # noqa: BLE001  (re-raised below)
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    if errors:
        raise errors[0]
    return results


def many_held(app, client, world, count: int) -> list[dict]:
    with app.test_request_context():
        unit = directory.unit_by_code("A")
        people = []
        for n in range(count):
            staff = directory.add_staff(staff_number=f"5{n:03d}", family_name="田中", given_name=f"{n}",
                                           family_name_kana="タナカ", given_name_kana="タロウ", unit=unit, crew="1部")
            people.append((staff.staff_number, invitations.code(staff)))
        db.session.commit()
    return [book(client, world, n % len(world.slot_ids), number, code) for n, (number, code) in enumerate(people)]


@pytest.mark.parametrize("answer", ["decline", "approve"])
def test_a_decision_racing_the_bookers_cancel_leaves_the_seats_consistent(app, client, live_server, held, answer):
    bookings = many_held(app, client, held, 10)
    cookie = chief_cookie(live_server)
    calls = []
    for body in bookings:
        approval_id = approval_of(app, body["id"]).id
        calls.append(FormCall(live_server, f"/r/{body['manage_token']}/cancel"))
        calls.append(FormCall(live_server, f"/chiefs/approvals/{approval_id}/{answer}", cookie))
    statuses = run_together(calls)
    assert set(statuses) == {302}, statuses
    assert seats_in_step(app) == []
    with app.app_context():
        assert sum(s.seats_taken for s in db.session.scalars(select(Slot))) == 0
        for body in bookings:
            reservation = db.session.get(Reservation, body["id"])
            approval = db.session.scalar(select(DutyApproval).where(DutyApproval.reservation_id == body["id"]))
            assert reservation.status == "cancelled"
            # Whoever came first: the chief's answer stands, or the request was withdrawn by the cancel.
            assert approval.status in ({"declined", "withdrawn"} if answer == "decline"
                                       else {"approved", "withdrawn"})


def test_concurrent_approve_and_decline_of_one_request_give_one_answer(app, client, live_server, held):
    bookings = many_held(app, client, held, 6)
    cookie = chief_cookie(live_server)
    calls = []
    for body in bookings:
        approval_id = approval_of(app, body["id"]).id
        calls += [FormCall(live_server, f"/chiefs/approvals/{approval_id}/approve", cookie),
                  FormCall(live_server, f"/chiefs/approvals/{approval_id}/decline", cookie)]
    assert set(run_together(calls)) == {302}
    assert seats_in_step(app) == []
    with app.app_context():
        for body in bookings:
            approval = db.session.scalar(select(DutyApproval).where(DutyApproval.reservation_id == body["id"]))
            reservation = db.session.get(Reservation, body["id"])
            assert approval.status in ("approved", "declined")
            assert (reservation.status == "cancelled") == (approval.status == "declined")


def test_the_desk_sees_a_booking_still_waiting_for_the_chief_and_then_the_approval(app, client, held):
    body = book(client, held)
    clerk = app.test_client()
    make_user(app, "clerk_desk", "clerk")
    sign_in(clerk, "clerk_desk")
    screen = f"/desk/reservations/{body['id']}"
    page = clerk.get(screen).get_data(as_text=True)
    assert "still waiting for the chief's approval" in page
    assert "Approved by the chief" not in page
    chief = app.test_client()
    sign_in(chief, "chief_a")
    chief.post(f"/chiefs/approvals/{approval_of(app, body['id']).id}/approve")
    page = clerk.get(screen).get_data(as_text=True)
    assert "Approved by the chief for duty hours." in page
    assert "still waiting" not in page


def test_an_admin_moving_the_session_to_another_day_reviews_the_duty_approvals(app, ctx, world):
    """The chief's decision was for the old time, as when the booker moves it: the 1部 member, on duty
    on the first day, no longer needs approval on the next; the 2部 member now does."""
    from booking.models import DeskSession
    from booking.services import accounts, approvals, bookings, campaigns
    from booking.services.actor import Actor

    unit = directory.unit_by_code("A")
    duty.store_plan(unit, duty.check_plan("two_crew", time(8, 30), [
        ("1部", world.session_day), ("2部", world.session_day + timedelta(days=1))]))
    db.session.get(Campaign, world.campaign_id).requires_duty_approval = True
    admin = accounts.ensure_user("move-admin", "admin")
    first_crew = directory.staff_by_number(world.staff_number)
    second_crew = directory.add_staff(staff_number="2222", family_name="田中", given_name="亮",
                                         family_name_kana="タナカ", given_name_kana="リョウ", unit=unit, crew="2部")
    db.session.commit()
    on_duty = bookings.book(Actor("page", staff=first_crew), world.slot_ids[0], first_crew)
    off_duty = bookings.book(Actor("page", staff=second_crew), world.slot_ids[1], second_crew)
    db.session.commit()
    assert approvals.approval_for(on_duty).status == "pending" and approvals.approval_for(off_duty) is None

    session = db.session.get(DeskSession, world.session_id)
    campaigns.update_session(Actor("system", user=admin), session, venue_id=session.venue_id, day=world.session_day + timedelta(days=1),
                             start=time(15), end=time(16), slot_minutes=10, desks=2, resolution="move")
    db.session.commit()
    db.session.expire_all()
    assert approvals.approval_for(db.session.get(Reservation, on_duty.id)).status == "withdrawn"
    assert approvals.approval_for(db.session.get(Reservation, off_duty.id)).status == "pending"
