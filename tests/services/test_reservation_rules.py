"""The booking rules at the service layer, with the clock passed in (DESIGN.md rules 1-4)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from booking.extensions import db
from booking.localtime import TOKYO
from booking.models import Campaign, Reservation, Slot, Staff
from booking.services import directory, reservations, tokens
from booking.services.actor import Actor
from booking.services.errors import DomainError
from booking.services.slots import plan_slots


def tokyo(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TOKYO)


# --- plan_slots (pure) ---------------------------------------------------------------------


def test_a_four_hour_session_of_ten_minute_slots_has_twenty_four():
    planned = plan_slots(date(2030, 7, 10), time(15), time(19), 10, 2)
    assert len(planned) == 24
    assert planned[0].starts_at == tokyo(date(2030, 7, 10), 15)
    assert planned[-1].ends_at == tokyo(date(2030, 7, 10), 19)
    assert {p.capacity for p in planned} == {2}


def test_a_remainder_shorter_than_a_slot_is_dropped():
    planned = plan_slots(date(2030, 7, 10), time(18), time(18, 55), 10, 1)
    assert len(planned) == 5
    assert planned[-1].ends_at == tokyo(date(2030, 7, 10), 18, 50)


def test_a_session_past_midnight_ends_the_next_day():
    planned = plan_slots(date(2030, 7, 10), time(23), time(1), 60, 1)
    assert [p.starts_at for p in planned] == [tokyo(date(2030, 7, 10), 23), tokyo(date(2030, 7, 11), 0)]


@pytest.mark.parametrize(("minutes", "desks"), [(0, 2), (10, 0), (-5, 1)])
def test_no_slots_without_length_or_desks(minutes, desks):
    assert plan_slots(date(2030, 7, 10), time(15), time(19), minutes, desks) == []


# --- the booking window, with the clock passed in --------------------------------------------


@pytest.fixture
def staff(ctx, world) -> Staff:
    return db.session.get(Staff, world.staff_id)


@pytest.fixture
def campaign(ctx, world) -> Campaign:
    return db.session.get(Campaign, world.campaign_id)


def test_booking_opens_exactly_at_the_opening_instant(staff, campaign, world):
    assert reservations.reserve(world.slot_ids[0], staff, now=campaign.booking_opens_at).status == "booked"


def test_a_second_before_opening_is_closed(staff, campaign, world):
    with pytest.raises(DomainError) as caught:
        reservations.reserve(world.slot_ids[0], staff, now=campaign.booking_opens_at - timedelta(seconds=1))
    assert caught.value.code == "booking_closed"


def test_the_cut_off_is_the_last_bookable_instant(staff, campaign, world):
    slot = db.session.get(Slot, world.slot_ids[0])
    deadline = slot.starts_at - timedelta(minutes=campaign.cutoff_minutes)
    assert reservations.booking_deadline(slot, campaign) == deadline
    with pytest.raises(DomainError) as caught:
        reservations.reserve(slot.id, staff, now=deadline + timedelta(seconds=1))
    assert caught.value.code == "booking_closed"
    assert reservations.reserve(slot.id, staff, now=deadline).status == "booked"


def test_the_campaign_close_wins_over_a_later_cut_off(staff, campaign, world):
    slot = db.session.get(Slot, world.slot_ids[0])
    campaign.booking_closes_at = slot.starts_at - timedelta(days=2)
    db.session.flush()
    assert reservations.booking_deadline(slot, campaign) == campaign.booking_closes_at
    with pytest.raises(DomainError) as caught:
        reservations.reserve(slot.id, staff, now=campaign.booking_closes_at + timedelta(seconds=1))
    assert caught.value.code == "booking_closed"


def test_a_cancelled_session_cannot_be_booked(staff, campaign, world):
    slot = db.session.get(Slot, world.slot_ids[0])
    slot.desk_session.is_cancelled = True
    db.session.flush()
    with pytest.raises(DomainError) as caught:
        reservations.reserve(slot.id, staff, now=campaign.booking_opens_at + timedelta(hours=1))
    assert caught.value.code == "booking_closed"


def test_a_refused_booking_takes_no_seat(staff, campaign, world):
    with pytest.raises(DomainError):
        reservations.reserve(world.slot_ids[0], staff, dependent_ids=[999], now=campaign.booking_opens_at)
    db.session.rollback()
    assert db.session.get(Slot, world.slot_ids[0]).seats_taken == 0


# --- moves and cancels ---------------------------------------------------------------------------


def test_a_move_takes_the_new_seats_before_freeing_the_old(staff, campaign, world):
    now = campaign.booking_opens_at
    reservation = reservations.reserve(world.slot_ids[0], staff, dependent_ids=[world.dependent_id], now=now)
    moved = reservations.reschedule(reservation, world.slot_ids[1], now=now)
    assert moved.slot_id == world.slot_ids[1]
    assert moved.sequence == 1
    db.session.expire_all()
    assert [db.session.get(Slot, s).seats_taken for s in world.slot_ids[:2]] == [0, 2]


def test_a_checked_in_reservation_cannot_be_cancelled_or_moved(staff, campaign, world):
    now = campaign.booking_opens_at
    reservation = reservations.reserve(world.slot_ids[0], staff, now=now)
    reservation.status = "checked_in"
    db.session.flush()
    for action in (lambda: reservations.cancel(reservation, now=now),
                   lambda: reservations.reschedule(reservation, world.slot_ids[1], now=now)):
        with pytest.raises(DomainError) as caught:
            action()
        assert caught.value.code in {"not_cancellable", "not_movable"}


def test_cancel_marks_the_time_and_raises_the_sequence(staff, campaign, world):
    now = campaign.booking_opens_at
    reservation = reservations.reserve(world.slot_ids[0], staff, now=now)
    later = now + timedelta(hours=2)
    cancelled = reservations.cancel(reservation, now=later)
    assert (cancelled.status, cancelled.cancelled_at, cancelled.sequence) == ("cancelled", later, 1)


# --- what the database itself enforces --------------------------------------------------------------


def _raw_reservation(world, slot_id: int, status: str = "booked") -> dict:
    nonce = tokens.new_nonce()
    return {"code": tokens.random_code(6), "slot_id": slot_id, "staff_id": world.staff_id,
            "campaign_id": world.campaign_id, "seats": 1, "channel": "web", "status": status,
            "token_nonce": nonce, "manage_token_hash": tokens.digest(nonce), "sequence": 0,
            "created_at": datetime.now(TOKYO), "updated_at": datetime.now(TOKYO)}


def test_the_database_refuses_a_second_active_reservation_in_a_campaign(ctx, world):
    db.session.execute(insert(Reservation), [_raw_reservation(world, world.slot_ids[0])])
    with pytest.raises(IntegrityError):
        db.session.execute(insert(Reservation), [_raw_reservation(world, world.slot_ids[1])])
    db.session.rollback()


def test_the_database_allows_cancelled_ones_beside_the_active_one(ctx, world):
    db.session.execute(insert(Reservation), [
        _raw_reservation(world, world.slot_ids[0], "cancelled"),
        _raw_reservation(world, world.slot_ids[1], "cancelled"),
        _raw_reservation(world, world.slot_ids[2], "booked"),
    ])
    db.session.flush()


def test_the_database_refuses_more_seats_than_capacity(ctx, world):
    with pytest.raises(IntegrityError):
        db.session.execute(update(Slot).where(Slot.id == world.slot_ids[0]).values(seats_taken=3))
    db.session.rollback()


def test_the_database_refuses_negative_seats(ctx, world):
    with pytest.raises(IntegrityError):
        db.session.execute(update(Slot).where(Slot.id == world.slot_ids[0]).values(seats_taken=-1))
    db.session.rollback()


def test_a_unit_code_is_unique_in_the_database(ctx, world):
    with pytest.raises(DomainError) as caught:
        directory.create_unit(Actor.system(), code="A", name="again")
    assert caught.value.code == "duplicate"
