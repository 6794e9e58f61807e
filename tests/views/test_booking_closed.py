"""Issue 16 item 3: once booking has closed (the campaign's window, or every slot past its cut-off),
the booker's pages say so and what to do (call the section, with the campaign's number) instead of
offering a change of time, saying no session has room, or promising a rebooking."""
from __future__ import annotations

from datetime import time, timedelta

import pytest

from booking.extensions import db
from booking.localtime import at_tokyo, utcnow
from booking.models import Campaign, Reservation
from booking.public import views as public_views
from tests.views.test_public_pages import book, manage_path, text

PHONE = "024-535-1111（内線 2150）"


@pytest.fixture
def booked_path(app, client, world):
    response = book(client, world, 2)
    assert response.status_code == 302
    with app.app_context():
        db.session.get(Campaign, world.campaign_id).contact_phone = PHONE
        db.session.commit()
    return manage_path(response)


def close_window(app, world):
    with app.app_context():
        db.session.get(Campaign, world.campaign_id).booking_closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()


def pages(client, path: str) -> dict[str, str]:
    client.set_cookie("lang", "en")
    return {name: text(client.get(path + suffix, follow_redirects=True))
            for name, suffix in (("manage", ""), ("move", "/move"), ("cancel", "/cancel"))}


def test_while_booking_is_open_the_time_can_be_changed(client, booked_path):
    shown = pages(client, booked_path)
    assert f'href="{booked_path}/move"' in shown["manage"]
    assert "data-booking-closed" not in "".join(shown.values())
    assert "You can book again from your invitation" in shown["cancel"]


@pytest.mark.parametrize("how", ["window", "cutoff"])
def test_after_booking_closes_the_pages_say_so_and_whom_to_call(app, client, world, booked_path, monkeypatch, how):
    if how == "window":
        close_window(app, world)
    else:
        # Inside the last slot's cut-off (60 minutes): the window is still open, but no slot can be booked.
        monkeypatch.setattr(public_views, "utcnow", lambda: at_tokyo(world.session_day, time(15, 10)))
    shown = pages(client, booked_path)
    manage, move, cancel = shown["manage"], shown["move"], shown["cancel"]

    assert f'href="{booked_path}/move"' not in manage and "Change the time</a>" not in manage
    assert "Booking for this campaign has closed" in manage and PHONE in manage
    assert 'href="tel:0245351111"' in manage
    assert f'href="{booked_path}/cancel"' in manage  # cancelling is still possible

    assert "No other session has room" not in move
    assert "Booking for this campaign has closed" in move and PHONE in move

    assert "You can book again" not in cancel
    assert "you cannot book another time here afterwards" in cancel and PHONE in cancel


def test_the_move_to_a_session_page_leads_back_to_the_explanation(app, client, world, booked_path):
    close_window(app, world)
    response = client.get(f"{booked_path}/move/{world.session_id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{booked_path}/move")


def test_without_a_number_the_booker_is_told_to_contact_the_section(app, client, world, booked_path):
    close_window(app, world)
    with app.app_context():
        db.session.get(Campaign, world.campaign_id).contact_phone = ""
        db.session.commit()
    manage = pages(client, booked_path)["manage"]
    assert "contact the My Number section" in manage and "tel:" not in manage


def test_a_cancelled_booking_is_not_offered_a_new_one_after_booking_closed(app, client, world, booked_path):
    client.set_cookie("lang", "en")
    with app.app_context():
        reservation = db.session.scalar(db.select(Reservation))
        reservation.status = "cancelled"
        db.session.commit()
    assert "Book again" in text(client.get(booked_path))
    close_window(app, world)
    manage = text(client.get(booked_path))
    assert "Book again" not in manage and PHONE in manage
