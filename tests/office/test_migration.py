"""Migration 0002 on a database that already holds staff: the kana search key is filled in."""
from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from booking import create_app
from booking.extensions import db
from tests.conftest import _config


def test_upgrading_fills_the_search_key_of_existing_staff_and_downgrading_removes_it(tmp_path):
    app = create_app(_config(f"sqlite:///{tmp_path / 'migrate.sqlite3'}", str(tmp_path / "photos")))
    with app.app_context():
        upgrade(revision="0001")
        db.session.execute(text("INSERT INTO units (id, code, name) VALUES (1, 'A', '中央消防署')"))
        db.session.execute(text(
            "INSERT INTO staff (staff_number, family_name, given_name, family_name_kana, given_name_kana, unit_id, "
            "crew, email, phone, card_status, invitation_nonce, invitation_link_hash, created_at) VALUES "
            "('1001', '佐藤', '翔太', 'さとう', 'ｼｮｳﾀ', 1, '', '', '', 'none', 'n', 'h', '2026-01-01 00:00:00')"))
        db.session.commit()
        upgrade(revision="0002")
        assert db.session.execute(text("SELECT search_kana FROM staff")).scalar() == "サトウショウタ"
        downgrade(revision="0001")
        columns = [row[1] for row in db.session.execute(text("PRAGMA table_info(staff)"))]
        assert "search_kana" not in columns
        db.session.remove()
        db.engine.dispose()
