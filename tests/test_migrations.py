"""`flask --app booking db upgrade` builds, from the migration scripts alone, the schema the
models describe, on an empty SQLite file and an empty PostgreSQL database; downgrade undoes it."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from booking.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
requires_postgres = pytest.mark.skipif(not PG_URL.startswith("postgresql"),
                                       reason="set TEST_DATABASE_URL=postgresql://… to run PostgreSQL tests")

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "booking"]


def flask(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "migration-test"}
    result = subprocess.run([*FLASK, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


#: The job queue's storage on PostgreSQL without Redis (booking/worker.py): huey creates and owns
#: these tables itself, as the app starts, so they are no part of the migrations.
QUEUE_TABLES = "jobs_huey"


def _ours(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "table" and name and name.startswith(QUEUE_TABLES))


def differences(url: str) -> list:
    import booking.models  # noqa: F401  (every model on the metadata)

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                    "compare_server_default": False,
                                                                    "include_object": _ours})
            return compare_metadata(context, db.metadata)
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {name for name in inspect(engine).get_table_names() if not name.startswith(QUEUE_TABLES)}
    finally:
        engine.dispose()


def in_process(url: str, *args: str) -> None:
    """The same flask command, run in this process (no interpreter start-up)."""
    from booking import create_app
    from booking.config import engine_options

    app = create_app({"SECRET_KEY": "migration-test", "SQLALCHEMY_DATABASE_URI": url,
                      "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url), "TESTING": True,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    result = app.test_cli_runner().invoke(args=list(args))
    with app.app_context():
        db.engine.dispose()
    assert result.exit_code == 0, (result.output, result.exception)


def _upgrade_compare_downgrade(url: str) -> None:
    flask(url, "db", "upgrade")  # the real command line, as an operator types it
    assert {t.name for t in db.metadata.sorted_tables} <= tables(url)
    assert differences(url) == []
    in_process(url, "db", "downgrade", "base")
    assert tables(url) <= {"alembic_version"}
    # And up again: the downgrade left nothing behind that blocks a new upgrade.
    in_process(url, "db", "upgrade")
    assert differences(url) == []


def test_sqlite_upgrade_matches_the_models_and_downgrades_to_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    _upgrade_compare_downgrade(url)


@requires_postgres
def test_postgresql_upgrade_matches_the_models_and_downgrades_to_nothing():
    admin_url = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{admin_url.database}_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _upgrade_compare_downgrade(admin_url.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_migration_chain_has_one_head_and_no_gaps():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    scripts = ScriptDirectory.from_config(config)
    assert len(scripts.get_heads()) == 1
    assert len(scripts.get_bases()) == 1
