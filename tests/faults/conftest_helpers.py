"""What the fault tests import from tests/conftest.py by a unique module name."""
from __future__ import annotations

import os

import pytest

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
requires_postgres = pytest.mark.skipif(
    not PG_URL.startswith("postgresql"), reason="set TEST_DATABASE_URL=postgresql://… to run PostgreSQL tests")


def app_config(url: str, photo_dir: str) -> dict:
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


def pragma_switch(app, pragma: str):
    """switch(True) runs ``pragma`` on every new SQLite connection of the app's engine (read-only,
    capped size…), switch(False) stops; existing connections are dropped either way. A generator
    for fixtures: it switches off at the end."""
    from sqlalchemy import event

    from booking.extensions import db

    def on_connect(dbapi_connection, record):
        dbapi_connection.execute(pragma)

    with app.app_context():
        engine = db.engine
    state = {"on": False}

    def switch(on: bool) -> None:
        with app.app_context():
            db.session.remove()
            if on and not state["on"]:
                event.listen(engine, "connect", on_connect)
            if not on and state["on"]:
                event.remove(engine, "connect", on_connect)
            state["on"] = on
            engine.dispose()

    yield switch
    switch(False)
