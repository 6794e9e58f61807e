"""GET /readyz tells a load balancer whether this host can serve; GET /healthz only that the process
answers (issue 17, item 9; API.md)."""
from __future__ import annotations

import os

import pytest

from booking import create_app
from booking.extensions import db
from tests.conftest import _config


def test_a_healthy_host_is_ready(client):
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ready", "failed": [], "checks": {"database": "ok"}}
    assert answer.headers["Cache-Control"] == "no-store"


def test_without_redis_url_redis_is_not_checked(client):
    assert "redis" not in client.get("/readyz").get_json()["checks"]


@pytest.fixture
def app_on(tmp_path):
    made = []

    def build(**overrides):
        config = {**_config(f"sqlite:///{tmp_path / 'ready.sqlite3'}", str(tmp_path / "photos")), **overrides}
        app = create_app(config)
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_database_that_cannot_be_opened_is_503_naming_the_database_while_healthz_stays_200(app_on, tmp_path):
    app = app_on(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'gone' / 'ready.sqlite3'}")
    client = app.test_client()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["status"] == "unavailable" and body["failed"] == ["database"]
    assert body["checks"]["database"].startswith("failed: ")
    assert client.get("/healthz").status_code == 200


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="a read-only file is an SQLite matter")
def test_a_read_only_sqlite_file_is_not_ready(client, monkeypatch):
    import booking.web

    monkeypatch.setattr(booking.web.os, "access", lambda path, mode: False)
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["checks"] == {"database": "failed: read-only"}


def test_redis_that_does_not_answer_is_503_naming_redis(app_on):
    app = app_on(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",
                 RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
                 RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True)
    with app.app_context():
        db.create_all()
    answer = app.test_client().get("/readyz")  # (every app the tests build sets the limiter anew)
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["failed"] == ["redis"] and body["checks"]["database"] == "ok"
