"""Migration 0014 (issue 16 item 7): the users.role check accepts ``hq`` after the upgrade and not
before; a downgrade keeps an hq account (audit events name it) but disables it, without tokens."""
from __future__ import annotations

import uuid

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from booking import create_app
from booking.extensions import db
from tests.conftest import _config
from tests.test_migrations import PG_URL, requires_postgres

INSERT = ("INSERT INTO users (username, display_name, role, is_active, created_at, session_version) "
          "VALUES (:name, '', :role, true, '2026-12-01 00:00:00', 0)")


def _walk(url: str, photos: str) -> None:
    app = create_app(_config(url, photos))
    with app.app_context():
        upgrade(revision="0013")
        with pytest.raises(IntegrityError):
            db.session.execute(text(INSERT), {"name": "soumu", "role": "hq"})
            db.session.flush()
        db.session.rollback()
        upgrade(revision="0014")
        db.session.execute(text(INSERT), {"name": "soumu", "role": "hq"})
        user_id = db.session.execute(text("SELECT id FROM users WHERE username = 'soumu'")).scalar()
        db.session.execute(text("INSERT INTO api_tokens (user_id, token_hash, created_at) "
                                "VALUES (:u, 'h', '2026-12-01 00:00:00')"), {"u": user_id})
        db.session.commit()
        with pytest.raises(IntegrityError):
            db.session.execute(text(INSERT), {"name": "nobody", "role": "boss"})
            db.session.flush()
        db.session.rollback()
        downgrade(revision="0013")
        role, active = db.session.execute(text("SELECT role, is_active FROM users WHERE username = 'soumu'")).one()
        assert (role, bool(active)) == ("clerk", False)
        assert db.session.execute(text("SELECT count(*) FROM api_tokens")).scalar() == 0
        db.session.remove()
        db.engine.dispose()


def test_the_hq_role_is_allowed_by_0014_and_undone_safely_on_sqlite(tmp_path):
    _walk(f"sqlite:///{tmp_path / 'hq.sqlite3'}", str(tmp_path / "photos"))


@requires_postgres
def test_the_hq_role_is_allowed_by_0014_and_undone_safely_on_postgresql(tmp_path):
    admin_url = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{admin_url.database}_hq_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _walk(admin_url.set(database=name).render_as_string(hide_password=False), str(tmp_path / "photos"))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
