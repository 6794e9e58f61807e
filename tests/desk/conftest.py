"""Desk fixtures: clerks, a booked reservation with its QR text, and images made with Pillow."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from desk_images import encoded, photo_like

from booking.extensions import db
from booking.services import accounts, confirmations, reservations


@dataclass
class Booked:
    id: int
    code: str
    qr: str
    person_ids: list[int]
    session_id: int


@pytest.fixture
def book_for(app, world):
    """Book a slot for a staff member (the world's booker and spouse by default) and return its handles."""

    def make(staff_number: str | None = None, *, slot_index: int = 0, with_spouse: bool = True) -> Booked:
        from booking.services import directory

        with app.test_request_context(base_url="http://localhost"):
            staff = directory.staff_by_number(staff_number or world.staff_number)
            dependents = [world.dependent_id] if with_spouse and staff.id == world.staff_id else []
            reservation = reservations.reserve(world.slot_ids[slot_index], staff, dependent_ids=dependents)
            db.session.commit()
            return Booked(
                id=reservation.id,
                code=reservation.code,
                qr=confirmations.qr_text(reservation),
                person_ids=[p.id for p in reservation.people],
                session_id=world.session_id,
            )

    return make


@pytest.fixture
def booked(book_for) -> Booked:
    return book_for()


@pytest.fixture
def clerk_headers(make_token):
    return {"Authorization": f"Bearer {make_token('clerk', username='desk-1')}", "Accept-Language": "en"}


@pytest.fixture
def login(app, client):
    """Sign the test client in as an office user with the role (a page session, not a token)."""

    def sign_in(role: str = "clerk", username: str | None = None, unit_code: str | None = None):
        username = username or f"{role}-page"
        with app.app_context():
            user = accounts.ensure_user(username, role, unit_code=unit_code, password="pass-word-1")
            user.display_name = {"clerk": "受付 花子"}.get(role, "")
            db.session.commit()
        response = client.post("/office/login", data={"username": username, "password": "pass-word-1"})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return sign_in


@pytest.fixture
def jpeg():
    def make(width: int = 1200, height: int = 1600, **options) -> bytes:
        return encoded(photo_like(width, height), "JPEG", quality=90, **options)

    return make


@pytest.fixture
def png():
    def make(width: int = 900, height: int = 1200) -> bytes:
        return encoded(photo_like(width, height).convert("RGBA"), "PNG")

    return make


@pytest.fixture
def check_in_ids(client, clerk_headers, booked):
    """Check the booked reservation in through the API; returns the check-in ids, staff first."""
    response = client.post("/api/v1/checkins", json={"code": booked.code}, headers=clerk_headers)
    assert response.status_code == 201, response.get_json()
    return [row["id"] for row in response.get_json()["check_ins"]]
