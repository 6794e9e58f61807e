"""Issue 16 item 2: "mark the rest as no-shows" marks only bookings whose slots have ended, plus
the grace the section sets on the campaign; the desk sees who before anything changes; the cron
keeps the same rule."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.localtime import at_tokyo
from booking.models import Campaign, DeskSession, Reservation
from booking.services import checkin
from booking.services.actor import Actor


@pytest.fixture
def night(app, world, book_for):
    """The world's session moved to 22:30–02:00 (it crosses midnight), with bookings at 22:30,
    00:20 and 00:30: the case of the issue."""
    with app.app_context():
        session = db.session.get(DeskSession, world.session_id)
        session.start_time, session.end_time = time(22, 30), time(2, 0)
        start = at_tokyo(world.session_day, time(22, 30))
        for i, slot in enumerate(session.slots):
            slot.starts_at = start + timedelta(minutes=10 * i)
            slot.ends_at = slot.starts_at + timedelta(minutes=10)
        # Enough 10-minute slots to reach 00:30 (the world's session has six).
        from booking.models import Slot
        for i in range(len(session.slots), 21):
            session.slots.append(Slot(starts_at=start + timedelta(minutes=10 * i),
                                      ends_at=start + timedelta(minutes=10 * i + 10), capacity=2))
        db.session.commit()
        world.slot_ids = [s.id for s in session.slots]
    world.add_staff(2)
    return {
        "early": book_for(slot_index=0),                              # 22:30–22:40
        "after_midnight": book_for("2000", slot_index=11),           # 00:20–00:30
        "later": book_for("2001", slot_index=12),                    # 00:30–00:40
    }


def status(booked) -> str:
    db.session.expire_all()
    return db.session.get(Reservation, booked.id).status


def at(world, hour: int, minute: int, *, next_day: bool = False):
    return at_tokyo(world.session_day + timedelta(days=1 if next_day else 0), time(hour, minute))


def test_at_23_18_only_the_booking_whose_slot_ended_with_its_grace_is_marked(ctx, world, night):
    session = db.session.get(DeskSession, world.session_id)
    now = at(world, 23, 18)
    assert [r.id for r in checkin.no_show_candidates(session, now=now)] == [night["early"].id]
    assert checkin.mark_no_shows(Actor.command_line(), session, now=now) == 1
    db.session.commit()
    assert status(night["early"]) == "no_show"
    assert status(night["after_midnight"]) == "booked"
    assert status(night["later"]) == "booked"


def test_a_slot_that_ended_within_the_grace_is_not_marked_yet(ctx, world, night):
    session = db.session.get(DeskSession, world.session_id)
    # 00:30 ended; the default grace is 30 minutes: not before 01:00.
    assert db.session.get(Campaign, world.campaign_id).no_show_grace_minutes == 30
    ids = [r.id for r in checkin.no_show_candidates(session, now=at(world, 0, 59, next_day=True))]
    assert night["after_midnight"].id not in ids
    ids = [r.id for r in checkin.no_show_candidates(session, now=at(world, 1, 0, next_day=True))]
    assert night["after_midnight"].id in ids and night["later"].id not in ids


def test_the_grace_is_the_campaigns_setting(ctx, world, night):
    session = db.session.get(DeskSession, world.session_id)
    db.session.get(Campaign, world.campaign_id).no_show_grace_minutes = 0
    ids = [r.id for r in checkin.no_show_candidates(session, now=at(world, 0, 30, next_day=True))]
    assert night["after_midnight"].id in ids and night["later"].id not in ids


def test_only_the_people_the_clerk_was_shown_are_marked(ctx, world, night):
    session = db.session.get(DeskSession, world.session_id)
    now = at(world, 2, 0, next_day=True)
    count = checkin.mark_no_shows(Actor.command_line(), session, now=now,
                                  reservation_ids=[night["early"].id, night["later"].id])
    db.session.commit()
    assert count == 2
    assert status(night["after_midnight"]) == "booked"


def test_a_party_that_continues_in_a_later_slot_waits_for_its_last_slot(app, ctx, world, book_for):
    world.add_staff(2)
    book_for("2000", slot_index=0)
    book_for("2001", slot_index=1)                      # slot 1 now full (2 seats), slot 2 empty
    family = book_for(slot_index=1)                     # staff and spouse do not fit slot 1 ...
    with app.app_context():
        seats = {p.slot_id for p in db.session.get(Reservation, family.id).people}
    session = db.session.get(DeskSession, world.session_id)
    last_end = max(s.ends_at for s in session.slots if s.id in seats)
    grace = timedelta(minutes=30)
    assert family.id not in [r.id for r in checkin.no_show_candidates(session, now=last_end + grace
                                                                       - timedelta(minutes=1))]
    assert family.id in [r.id for r in checkin.no_show_candidates(session, now=last_end + grace)]


def test_the_desk_page_lists_who_and_how_many_before_marking(app, world, night, login, monkeypatch):
    from booking.desk import views as desk_views

    clerk = login("clerk")
    monkeypatch.setattr(checkin, "utcnow", lambda: at(world, 23, 18))
    monkeypatch.setattr(desk_views, "utcnow", lambda: at(world, 23, 18))
    page = clerk.get(f"/desk/sessions/{world.session_id}/no-shows?lang=en").get_data(as_text=True)
    assert "2 people will be marked as no-shows" in page  # the booker and the spouse of the 22:30 booking
    assert page.count('name="reservation_id"') == 1
    assert f'value="{night["early"].id}"' in page
    response = clerk.post(f"/desk/sessions/{world.session_id}/no-shows",
                          data={"reservation_id": [night["early"].id, night["after_midnight"].id]})
    assert response.status_code == 302
    with app.app_context():
        assert status(night["early"]) == "no_show"
        assert status(night["after_midnight"]) == "booked"  # named in the form, but its time has not come


def test_the_cron_marks_a_night_session_only_once_its_last_slot_and_grace_are_over(app, runner, world, night,
                                                                                   monkeypatch):
    monkeypatch.setattr(checkin, "utcnow", lambda: at(world, 23, 30))
    assert "Marked 0 reservations" in runner.invoke(args=["mark-no-shows"]).output
    monkeypatch.setattr(checkin, "utcnow", lambda: at(world, 2, 10, next_day=True))
    assert "Marked 0 reservations" in runner.invoke(args=["mark-no-shows"]).output  # 02:00 + 30 min not yet
    monkeypatch.setattr(checkin, "utcnow", lambda: at(world, 2, 30, next_day=True))
    assert "Marked 3 reservations" in runner.invoke(args=["mark-no-shows"]).output
    with app.app_context():
        assert {status(b) for b in night.values()} == {"no_show"}


def test_the_grace_and_the_contact_phone_are_set_on_the_campaign_page_and_through_the_api(
        app, client, login, world, admin_headers):
    admin = login("admin")
    page = admin.get(f"/office/campaigns/{world.campaign_id}/edit").get_data(as_text=True)
    assert 'name="no_show_grace_minutes"' in page and 'name="contact_phone"' in page
    with app.app_context():
        campaign = db.session.get(Campaign, world.campaign_id)
        form = {
            "title": campaign.title, "cutoff_minutes": 60, "what_to_bring": "",
            "booking_opens_at": "2026-01-01T08:30", "booking_closes_at": "2030-01-01T17:00",
            "is_published": "y", "no_show_grace_minutes": 45, "contact_phone": "024-535-1111（内線 2150）",
        }
    response = admin.post(f"/office/campaigns/{world.campaign_id}/edit", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    shown = admin.get(f"/office/campaigns/{world.campaign_id}").get_data(as_text=True)
    assert "024-535-1111（内線 2150）" in shown and 'href="tel:0245351111"' in shown
    with app.app_context():
        campaign = db.session.get(Campaign, world.campaign_id)
        assert (campaign.no_show_grace_minutes, campaign.contact_phone) == (45, "024-535-1111（内線 2150）")
    refused = admin.post(f"/office/campaigns/{world.campaign_id}/edit",
                         data={**form, "no_show_grace_minutes": 5000, "contact_phone": "call us"})
    assert refused.status_code == 422

    body = {"title": "追加", "booking_opens_at": "2026-01-01T08:30", "booking_closes_at": "2030-01-01T17:00",
            "no_show_grace_minutes": 15, "contact_phone": "024-000-0000"}
    created = client.post("/api/v1/campaigns", json=body, headers=admin_headers)
    assert created.status_code == 201, created.get_json()
    assert (created.get_json()["no_show_grace_minutes"], created.get_json()["contact_phone"]) == (15, "024-000-0000")
    bad = client.post("/api/v1/campaigns", json={**body, "no_show_grace_minutes": -1}, headers=admin_headers)
    assert bad.status_code == 422 and "no_show_grace_minutes" in bad.get_json()["fields"]
    with app.app_context():
        assert db.session.scalar(select(Campaign.contact_phone).where(Campaign.title == "追加")) == "024-000-0000"
