"""Personal-data fixtures: the populated database of tests/faults and an admin signed in to the pages."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "faults"))

from fault_world import populate

from booking.extensions import db
from booking.services import accounts


@pytest.fixture
def populated(app, world):
    return populate(app, world)


@pytest.fixture
def sign_in(app, client):
    def login(role: str = "admin", unit_code: str | None = None):
        username = f"{role}-pd"
        with app.app_context():
            accounts.ensure_user(username, role, unit_code=unit_code, password="pass-word-1")
            db.session.commit()
        response = client.post("/office/login", data={"username": username, "password": "pass-word-1"})
        assert response.status_code == 302
        return client

    return login
