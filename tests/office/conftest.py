"""Office fixtures: a department with two stations, one user per role, and a signed-in client."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import pytest
from werkzeug.security import generate_password_hash

from booking.extensions import db
from booking.localtime import TOKYO
from booking.services import accounts, campaigns, directory
from booking.services.actor import Actor

PASSWORD = "correct horse battery"


@lru_cache(maxsize=1)
def password_hash() -> str:
    """Hashed once per run: scrypt takes a third of a second, and every test needs four users."""
    return generate_password_hash(PASSWORD)
ROLES = ("admin", "chief_a", "chief_b", "clerk", "hq")


@dataclass
class Office:
    """HQ with station A (and its branch A1) and station B; a published campaign with one session."""

    app: object
    today: date = field(default_factory=lambda: datetime.now(UTC).astimezone(TOKYO).date())
    ids: dict = field(default_factory=dict)

    def build(self) -> Office:
        self.session_day = self.today + timedelta(days=7)
        with self.app.test_request_context(base_url="http://localhost"):
            hq = directory.create_unit(Actor.system(), code="HQ", name="消防本部")
            a = directory.create_unit(Actor.system(), code="A", name="中央消防署", parent_code="HQ")
            a1 = directory.create_unit(Actor.system(), code="A1", name="中央消防署 東出張所", parent_code="A")
            b = directory.create_unit(Actor.system(), code="B", name="北消防署", parent_code="HQ")
            venue = directory.create_venue(Actor.system(), name="中央消防署 会議室", address="福島市天神町11-28", unit_code="A")
            venue_b = directory.create_venue(Actor.system(), name="北消防署 講堂", address="福島市本内", unit_code="B")
            campaign = campaigns.create_campaign(
                Actor.system(), title="出張申請", booking_opens_at=datetime.now(UTC) - timedelta(days=1),
                booking_closes_at=datetime.combine(self.session_day + timedelta(days=30), time(23), tzinfo=TOKYO),
                published=True, what_to_bring="本人確認書類")
            session = campaigns.create_session(Actor.system(), campaign, venue_id=venue.id, day=self.session_day, start=time(15), end=time(16), slot_minutes=10, desks=2)
            staff_a = directory.add_staff(
                staff_number="1001", family_name="佐藤", given_name="翔太", family_name_kana="サトウ",
                given_name_kana="ショウタ", unit=a, crew="1部", phone="090-1111-2222")
            spouse = directory.add_dependent(Actor.system(),
                staff_a, family_name="佐藤", given_name="陽子", family_name_kana="サトウ",
                given_name_kana="ヨウコ", relation="妻")
            staff_a1 = directory.add_staff(
                staff_number="1002", family_name="鈴木", given_name="大輔", family_name_kana="スズキ",
                given_name_kana="ダイスケ", unit=a1, crew="2部")
            staff_b = directory.add_staff(
                staff_number="2001", family_name="高橋", given_name="健一", family_name_kana="タカハシ",
                given_name_kana="ケンイチ", unit=b, crew="1部", card_status="applied")
            users = {
                "admin": accounts.ensure_user("admin", "admin"),
                "chief_a": accounts.ensure_user("chief_a", "chief", unit_code="A"),
                "chief_b": accounts.ensure_user("chief_b", "chief", unit_code="B"),
                "clerk": accounts.ensure_user("clerk", "clerk"),
                "hq": accounts.ensure_user("hq", "hq"),
            }
            for user in users.values():
                user.password_hash = password_hash()
            db.session.commit()
            self.ids = {
                "HQ": hq.id, "A": a.id, "A1": a1.id, "B": b.id, "venue": venue.id, "venue_b": venue_b.id,
                "campaign": campaign.id, "session": session.id, "slots": [s.id for s in session.slots],
                "staff_a": staff_a.id, "staff_a1": staff_a1.id, "staff_b": staff_b.id, "spouse": spouse.id,
                **{f"user_{k}": u.id for k, u in users.items()},
            }
        return self


@pytest.fixture
def office(app) -> Office:
    return Office(app).build()


def sign_in(client, username: str, password: str = PASSWORD):
    return client.post("/office/login", data={"username": username, "password": password})


@pytest.fixture
def login(client, office):
    """Sign the test client in as one of the office roles (admin, chief_a, chief_b, clerk, hq)."""

    def as_(role: str):
        response = sign_in(client, role)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return as_


@pytest.fixture(autouse=True)
def english(request):
    """Office tests read English messages; one test checks that Japanese is the default."""
    if "client" in request.fixturenames:
        request.getfixturevalue("client").set_cookie("lang", "en")
