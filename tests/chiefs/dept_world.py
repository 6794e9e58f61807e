"""A small department on top of the shared ``world``: a branch office, a second station, bookings.

    HQ 消防本部
    ├── A 中央消防署 (venue: 中央消防署 会議室) ── A1 東出張所
    └── B 北消防署 (venue: 北消防署 講堂)

Bookings in the world's session (10-minute slots from 15:00, 2 desks):
15:00 佐藤翔太 (A) + spouse, 15:10 山田 (A1), 15:10 鈴木 (B), 15:20 高橋 (A).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import update

from booking.extensions import db
from booking.models import Dependent, Staff
from booking.services import accounts, directory, reservations
from booking.services.actor import Actor

#: When the department's staff joined: before any day a test counts as of.
LONG_AGO = date(2010, 4, 1)


@dataclass
class Dept:
    world: object
    staff_ids: dict[str, int] = field(default_factory=dict)
    unit_ids: dict[str, int] = field(default_factory=dict)
    reservation_ids: dict[str, int] = field(default_factory=dict)
    venue_b_id: int = 0


def build_dept(app, world) -> Dept:
    dept = Dept(world)
    with app.test_request_context(base_url="http://localhost"):
        a1 = directory.create_unit(Actor.system(), code="A1", name="東出張所", parent_code="A")
        b = directory.create_unit(Actor.system(), code="B", name="北消防署", parent_code="HQ")
        venue_b = directory.create_venue(Actor.system(), name="北消防署 講堂", address="福島市本内字北原3-1", unit_code="B")
        units = {"A": directory.unit_by_code("A"), "A1": a1, "B": b}
        people = {
            "1001": None,
            "2001": ("高橋", "大輔", "タカハシ", "ダイスケ", "A", "1部"),
            "3001": ("山田", "花子", "ヤマダ", "ハナコ", "A1", "2部"),
            "4001": ("鈴木", "一郎", "スズキ", "イチロウ", "B", "1部"),
        }
        for number, spec in people.items():
            if spec is None:
                staff = directory.staff_by_number(number)
            else:
                family, given, family_kana, given_kana, unit, crew = spec
                staff = directory.add_staff(
                    staff_number=number, family_name=family, given_name=given, family_name_kana=family_kana,
                    given_name_kana=given_kana, unit=units[unit], crew=crew)
            dept.staff_ids[number] = staff.id
        db.session.flush()
        slots = world.slot_ids
        plan = [("1001", 0, [world.dependent_id]), ("3001", 1, []), ("4001", 1, []), ("2001", 2, [])]
        for number, slot_index, dependents in plan:
            staff = directory.staff_by_number(number)
            reservation = reservations.reserve(slots[slot_index], staff, dependent_ids=dependents)
            dept.reservation_ids[number] = reservation.id
        # Long-serving staff: counts as of past days include them (services.membership).
        db.session.execute(update(Staff).values(joined_on=LONG_AGO))
        db.session.execute(update(Dependent).values(joined_on=LONG_AGO))
        db.session.commit()
        dept.unit_ids = {"HQ": world.unit_ids["HQ"], "A": world.unit_ids["A"], "A1": a1.id, "B": b.id}
        dept.venue_b_id = venue_b.id
    return dept


@pytest.fixture
def dept(app, world) -> Dept:
    return build_dept(app, world)


@pytest.fixture
def login(app, client):
    """Sign the test client in as an office user with the role (and unit) given."""

    def sign_in(role: str = "admin", unit_code: str | None = None, username: str | None = None):
        username = username or f"{role}-{unit_code or 'all'}"
        with app.app_context():
            accounts.ensure_user(username, role, unit_code=unit_code, password="correct horse battery")
            db.session.commit()
        response = client.post("/office/login", data={"username": username, "password": "correct horse battery"})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return sign_in


@pytest.fixture
def bearer(make_token):
    def headers(role: str = "admin", unit_code: str | None = None) -> dict:
        token = make_token(role, username=f"api-{role}-{unit_code or 'all'}", unit_code=unit_code)
        return {"Authorization": f"Bearer {token}"}

    return headers
