"""Migration 0008 on a database with an upload waiting for confirmation: its rows move to
staff_import_rows and back on downgrade (SQLite rebuilds the batch table on the way, with foreign
keys on: nothing may cascade away)."""
from __future__ import annotations

import json

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from booking import create_app
from booking.extensions import db
from tests.conftest import _config

ROWS = [[2, {"staff_number": "3001", "family_name": "山田"}]]


def test_a_pending_upload_keeps_its_rows_through_upgrade_and_downgrade(tmp_path):
    app = create_app(_config(f"sqlite:///{tmp_path / 'migrate.sqlite3'}", str(tmp_path / "photos")))
    with app.app_context():
        upgrade(revision="0007")
        db.session.execute(text(
            "INSERT INTO users (id, username, display_name, role, is_active, created_at) "
            "VALUES (1, 'admin', '', 'admin', 1, '2026-01-01 00:00:00')"))
        db.session.execute(text(
            "INSERT INTO staff_import_batches (id, user_id, filename, content_digest, \"rows\", plan_digest, "
            "created_at) VALUES ('b1', 1, 'staff.csv', 'd', :rows, 'p', '2026-01-01 00:00:00')"),
            {"rows": json.dumps(ROWS, ensure_ascii=False)})
        db.session.commit()
        upgrade(revision="0008")
        assert db.session.execute(text("SELECT state, applied FROM staff_import_batches")).one() == ("pending", 0)
        moved = db.session.execute(text("SELECT batch_id, \"rows\" FROM staff_import_rows")).one()
        assert (moved[0], json.loads(moved[1])) == ("b1", ROWS)
        downgrade(revision="0007")
        back = db.session.execute(text("SELECT \"rows\" FROM staff_import_batches WHERE id = 'b1'")).scalar()
        assert json.loads(back) == ROWS
        tables = {row[0] for row in db.session.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
        assert "staff_import_rows" not in tables and "_staff_import_rows_copy" not in tables
        db.session.remove()
        db.engine.dispose()
