"""Issue 16 item 9: the demo prints links with the address --bind serves, and seeds a session
running now and one tomorrow (the HQ's first run, already booked) so the desk can be tried."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.localtime import TOKYO, at_tokyo
from booking.models import Campaign, DeskSession, Reservation
from booking.services import checkin
from booking.services.slots import session_bounds
from run import base_url_for

DEFAULT = "http://127.0.0.1:5000"


@pytest.mark.parametrize("bind, expected", [
    ("127.0.0.1:5000", "http://127.0.0.1:5000"),
    ("127.0.0.1:8123", "http://127.0.0.1:8123"),
    ("0.0.0.0:8080", "http://127.0.0.1:8080"),
    ("localhost:9000", "http://localhost:9000"),
    ("[::]:8081", "http://[::1]:8081"),
    ("unix:/run/desk.sock", DEFAULT),
])
def test_the_printed_address_follows_the_bind(monkeypatch, bind, expected):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    assert base_url_for(bind, DEFAULT) == expected


def test_a_configured_public_address_wins(monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    assert base_url_for("0.0.0.0:8080", "https://desk.example.jp/") == "https://desk.example.jp"
    monkeypatch.setenv("PUBLIC_BASE_URL", DEFAULT)
    assert base_url_for("127.0.0.1:8080", DEFAULT) == DEFAULT


def test_the_demo_prints_links_on_the_served_port(app):
    from booking.demo import seed

    with app.test_request_context(base_url="http://127.0.0.1:8123"):
        printed = seed(now=datetime(2026, 12, 7, 23, 18, tzinfo=TOKYO))
        db.session.commit()
    links = re.findall(r"https?://\S+", printed)
    assert links and all(link.startswith("http://127.0.0.1:8123/") for link in links), printed
    assert ":5000" not in printed


@pytest.mark.parametrize("clock", [time(10, 5), time(23, 18), time(0, 40)])
def test_the_demo_has_a_session_running_now_with_bookings_and_one_tomorrow(app, clock):
    from booking.demo import seed

    now = at_tokyo(datetime(2026, 12, 7).date(), clock)
    with app.test_request_context(base_url="http://localhost"):
        seed(now=now)
        db.session.commit()
        sessions = db.session.scalars(select(DeskSession).join(Campaign).where(Campaign.contact_phone != "")
                                      .order_by(DeskSession.date, DeskSession.start_time)).all()
        assert len(sessions) == 2
        running, tomorrow = sessions
        start, end = session_bounds(running.date, running.start_time, running.end_time)
        assert start <= now < end
        assert tomorrow.date == now.date() + timedelta(days=1)
        # People to check in, people due now or later, and none of them a no-show yet.
        booked = db.session.scalars(select(Reservation).join(Reservation.slot)
                                    .where(Reservation.status == "booked")).all()
        assert len([r for r in booked if r.slot.desk_session_id == running.id]) >= 8
        assert any(r.slot.starts_at > now for r in booked)
        assert checkin.sessions_for_desk(now).today[0].id == running.id
        # The main campaign is as it was: seven sessions from two weeks on.
        main = db.session.scalar(select(Campaign).order_by(Campaign.id))
        assert len(main.sessions) == 7 and main.sessions[0].date == now.date() + timedelta(days=14)


def test_the_demo_is_the_same_whatever_the_hour_when_today_is_given(app):
    from booking.demo import seed

    with app.test_request_context(base_url="http://localhost"):
        seed(today=datetime(2026, 7, 1).date())
        db.session.commit()
        running = db.session.scalars(select(DeskSession).join(Campaign).where(Campaign.contact_phone != "")
                                     .order_by(DeskSession.date)).first()
        assert (running.date.isoformat(), running.start_time) == ("2026-07-01", time(11))
