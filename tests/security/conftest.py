"""Security fixtures: the office department (tests/office) plus a booking per station and API tokens.

``sec`` holds every id a route can need, so that tests can fill any path of app.url_map.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from booking.extensions import db
from booking.models import Staff
from booking.services import accounts, confirmations, invitations, reservations
from tests.office.conftest import ROLES, Office, sign_in  # noqa: F401  (re-exported for the tests)


@dataclass
class Secured:
    office: Office
    ids: dict = field(default_factory=dict)
    #: role -> API bearer token
    tokens: dict = field(default_factory=dict)
    manage: dict = field(default_factory=dict)
    invitation: dict = field(default_factory=dict)
    qr: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)

    def headers(self, role: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[role]}", "Accept-Language": "en"}


def build(app) -> Secured:
    office = Office(app).build()
    sec = Secured(office, ids=dict(office.ids))
    with app.test_request_context(base_url="http://localhost"):
        for key, slot_index in (("staff_a", 0), ("staff_b", 1)):
            staff = db.session.get(Staff, office.ids[key])
            dependents = [office.ids["spouse"]] if key == "staff_a" else []
            reservation = reservations.reserve(office.ids["slots"][slot_index], staff, dependent_ids=dependents)
            db.session.flush()
            sec.ids[f"reservation_{key}"] = reservation.id
            sec.manage[key] = reservations.manage_token(reservation)
            sec.qr[key] = confirmations.qr_text(reservation)
            sec.codes[key] = reservation.code
            sec.invitation[key] = (invitations.link_token(staff), invitations.code(staff), staff.staff_number)
        users = {
            "admin": accounts.ensure_user("admin", "admin"),
            "chief_a": accounts.ensure_user("chief_a", "chief", unit_code="A"),
            "chief_b": accounts.ensure_user("chief_b", "chief", unit_code="B"),
            "clerk": accounts.ensure_user("clerk", "clerk"),
        }
        for role, user in users.items():
            sec.tokens[role] = accounts.issue_api_token(user)
        # A checked-in reservation in the branch office under A (chief_a sees it, chief_b does not).
        from booking.services import checkin
        from booking.services.actor import Actor

        staff_a1 = db.session.get(Staff, office.ids["staff_a1"])
        booked = reservations.reserve(office.ids["slots"][2], staff_a1)
        db.session.flush()
        sec.ids["reservation_staff_a1"] = booked.id
        sec.ids["check_in"] = checkin.check_in(Actor("page", user=users["clerk"]), booked)[0].id
        # Someone of unit B with no booking (walk-ins).
        from booking.services import directory

        free = directory.add_staff(
            staff_number="2002", family_name="伊藤", given_name="誠", family_name_kana="イトウ",
            given_name_kana="マコト", unit=directory.unit_by_code("B"), crew="2部")
        db.session.flush()
        sec.ids["staff_free"] = free.id
        db.session.commit()
    return sec


@pytest.fixture
def sec(app) -> Secured:
    return build(app)
