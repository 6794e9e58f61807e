"""Fixtures for shift-aware planning: office users who can sign in, and the demo department."""
from __future__ import annotations

from datetime import date, time

import pytest
from werkzeug.security import generate_password_hash

from booking.extensions import db
from booking.localtime import at_tokyo
from booking.services import accounts

PASSWORD = "duty test password"
_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
#: The demo is seeded as if today were this Wednesday, so its weekdays and holidays are fixed.
DEMO_TODAY = date(2026, 7, 1)
DEMO_NOW = at_tokyo(DEMO_TODAY, time(9))


def make_user(app, username: str, role: str, unit_code: str | None = None) -> int:
    with app.app_context():
        user = accounts.ensure_user(username, role, unit_code=unit_code)
        user.password_hash = _HASH
        db.session.commit()
        return user.id


def sign_in(client, username: str) -> None:
    response = client.post("/office/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    client.set_cookie("lang", "en")


@pytest.fixture
def demo(app):
    """The Fukushima-like demo, seeded with today fixed."""
    from booking.demo import seed

    with app.test_request_context(base_url="http://localhost"):
        seed(today=DEMO_TODAY, first_run=False)  # the main campaign's plan alone
        db.session.commit()
    make_user(app, "planner", "admin")
    return app


@pytest.fixture
def admin_client(app, client):
    make_user(app, "planner", "admin")
    sign_in(client, "planner")
    return client
