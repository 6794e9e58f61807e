"""Fixtures shared by every test: a fresh database per test, on SQLite or PostgreSQL.

Set TEST_DATABASE_URL to a PostgreSQL URL (``.ci/run`` does) to run the whole
suite there; otherwise each test gets its own SQLite file in a temporary folder.
"""
from __future__ import annotations

import os
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from booking import create_app
from booking.extensions import db
from booking.localtime import TOKYO
from booking.services import accounts, campaigns, directory, invitations
from booking.services.actor import Actor

# --a11y-report: the accessibility run writes docs/accessibility.md (tests/accessibility/report.py).
from tests.accessibility.report import pytest_addoption, pytest_configure, pytest_sessionfinish  # noqa: F401


def _database_of_this_worker() -> None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own, <name>_<worker>,
    made here before any test module reads TEST_DATABASE_URL (tests drop and rebuild its schema)."""
    url, worker = os.environ.get("TEST_DATABASE_URL", ""), os.environ.get("PYTEST_XDIST_WORKER", "")
    # Once per worker: this file is also imported as tests.conftest by tests that reuse its helpers.
    if not url.startswith("postgresql") or not worker or os.environ.get("TEST_DATABASE_WORKER") == worker:
        return
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
    os.environ["TEST_DATABASE_URL"] = parsed.set(database=name).render_as_string(hide_password=False)
    os.environ["TEST_DATABASE_WORKER"] = worker


_database_of_this_worker()
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
requires_postgres = pytest.mark.skipif(
    not PG_URL.startswith("postgresql"),
    reason="set TEST_DATABASE_URL=postgresql://… (as .ci/run does) to run PostgreSQL tests",
)


def _database_url(tmp_path) -> str:
    if PG_URL:
        return PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def _postgres_schema():
    """On PostgreSQL the schema is built once, by the migrations; tests then truncate."""
    if not PG_URL:
        yield None
        return
    from flask_migrate import downgrade, upgrade

    app = create_app(_config(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), "/nonexistent"))
    with app.app_context():
        db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
        upgrade()
        db.engine.dispose()
    yield
    with app.app_context():
        downgrade(revision="base")
        db.engine.dispose()


def _config(url: str, photo_dir: str) -> dict:
    from booking.config import engine_options

    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url),
        "PUBLIC_BASE_URL": "http://localhost",
        "PHOTO_DIR": photo_dir,
        "RATELIMIT_STORAGE_URI": "memory://",
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
    }


@pytest.fixture
def app(tmp_path, _postgres_schema):
    app = create_app(_config(_database_url(tmp_path), str(tmp_path / "photos")))
    with app.app_context():
        if PG_URL:
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
        else:
            db.create_all()
    from booking.extensions import limiter

    limiter.reset()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An application and request context, for calling services directly."""
    with app.test_request_context(base_url="http://localhost"):
        yield
        db.session.rollback()


@pytest.fixture
def live_server(app):
    """The app served over real HTTP by a threaded server, for concurrency tests."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def playwright_driver():
    """The one sync Playwright of the test process: a second one started in the same
    thread while another is open fails ("Sync API inside the asyncio loop"), so every
    browser fixture (tests/browser, tests/accessibility) launches from this one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


# --- factories ----------------------------------------------------------------


def tokyo(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TOKYO)


@pytest.fixture
def make_token(app):
    def make(role: str = "admin", username: str | None = None, unit_code: str | None = None) -> str:
        with app.app_context():
            user = accounts.ensure_user(username or f"{role}-user", role, unit_code=unit_code)
            token = accounts.issue_api_token(user)
            db.session.commit()
            return token

    return make


@pytest.fixture
def admin_headers(make_token):
    return {"Authorization": f"Bearer {make_token('admin')}"}


class World:
    """A small published campaign: two units, a venue, one session of 10-minute slots."""

    def __init__(self, app):
        self.app = app
        today = datetime.now(UTC).astimezone(TOKYO).date()
        self.session_day = today + timedelta(days=7)
        with app.test_request_context(base_url="http://localhost"):
            hq = directory.create_unit(Actor.system(), code="HQ", name="消防本部")
            station = directory.create_unit(Actor.system(), code="A", name="中央消防署", parent_code="HQ")
            venue = directory.create_venue(Actor.system(), name="中央消防署 会議室", address="福島市天神町11-28", unit_code="A")
            campaign = campaigns.create_campaign(
                Actor.system(),
                title="出張申請",
                booking_opens_at=datetime.now(UTC) - timedelta(days=1),
                booking_closes_at=tokyo(self.session_day, 23),
                published=True,
                what_to_bring="本人確認書類",
            )
            session = campaigns.create_session(Actor.system(), campaign, venue_id=venue.id, day=self.session_day, start=time(15), end=time(16), slot_minutes=10, desks=2)
            staff = directory.add_staff(
                staff_number="1001", family_name="佐藤", given_name="翔太", family_name_kana="サトウ",
                given_name_kana="ショウタ", unit=station, crew="1部",
            )
            spouse = directory.add_dependent(Actor.system(),
                staff, family_name="佐藤", given_name="陽子", family_name_kana="サトウ",
                given_name_kana="ヨウコ", relation="妻",
            )
            db.session.commit()
            self.unit_ids = {"HQ": hq.id, "A": station.id}
            self.venue_id = venue.id
            self.campaign_id = campaign.id
            self.session_id = session.id
            self.slot_ids = [s.id for s in session.slots]
            self.staff_number = staff.staff_number
            self.staff_id = staff.id
            self.dependent_id = spouse.id
            self.invitation_code = invitations.code(staff)
            self.invitation_token = invitations.link_token(staff)

    def add_staff(self, count: int, *, unit: str = "A", start: int = 2000) -> list[tuple[str, str]]:
        """More staff; returns (staff_number, invitation_code) pairs."""
        pairs = []
        with self.app.test_request_context(base_url="http://localhost"):
            unit_obj = directory.unit_by_code(unit)
            for n in range(start, start + count):
                staff = directory.add_staff(
                    staff_number=str(n), family_name="田中", given_name=f"{n}", family_name_kana="タナカ",
                    given_name_kana="タロウ", unit=unit_obj, crew="2部",
                )
                pairs.append((staff.staff_number, invitations.code(staff)))
            db.session.commit()
        return pairs


@pytest.fixture
def world(app) -> World:
    return World(app)
