"""`flask backup PATH` / `flask restore PATH`: a consistent online copy of SQLite, photos and key, and back."""
from __future__ import annotations

import json
import sqlite3
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest_helpers import PG_URL, app_config

from booking import create_app
from booking.extensions import db

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="the SQLite backup; PostgreSQL has its own test below")


def rows_of(path: Path) -> dict[str, list[tuple]]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {t: sorted(connection.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        connection.close()


@pytest.fixture
def secret_file(app, tmp_path):
    path = tmp_path / "instance" / "secret_key"
    path.parent.mkdir()
    path.write_text("k" * 64)
    app.config["SECRET_KEY_FILE"] = str(path)
    return path


@pytest.fixture
def fresh(tmp_path):
    """A second installation with nothing in it yet (its own database file, photo folder and key file)."""
    root = tmp_path / "restored"
    root.mkdir()
    other = create_app(app_config(f"sqlite:///{root / 'db.sqlite3'}", str(root / "photos")))
    other.config["SECRET_KEY_FILE"] = str(root / "secret_key")
    yield other, root
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def database_path(app) -> Path:
    return Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))


@pytest.mark.parametrize("name", ["backup", "backup.tar.gz"])
def test_a_populated_database_round_trips_through_backup_and_restore(app, runner, populated, secret_file, fresh,
                                                                      tmp_path, name):
    target = tmp_path / name
    made = runner.invoke(args=["backup", str(target)])
    assert made.exit_code == 0, made.output
    assert "4 reservations, 1 photos, secret key included" in made.output

    other, root = fresh
    restored = other.test_cli_runner().invoke(args=["restore", str(target)])
    assert restored.exit_code == 0, restored.output
    assert rows_of(root / "db.sqlite3") == rows_of(database_path(app))
    photo = Path(app.config["PHOTO_DIR"]) / populated.photo_name
    assert (root / "photos" / populated.photo_name).read_bytes() == photo.read_bytes()
    assert (root / "secret_key").read_text() == secret_file.read_text()
    checked = other.test_cli_runner().invoke(args=["check"])
    assert checked.exit_code == 0, checked.output


def test_the_backup_folder_has_a_manifest_with_checksums(runner, populated, secret_file, tmp_path):
    assert runner.invoke(args=["backup", str(tmp_path / "b")]).exit_code == 0
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["counts"]["reservations"] == 4 and manifest["photos"] == 1
    assert set(manifest["files"]) == {"database.sqlite3", "secret_key", f"photos/{populated.photo_name}"}


def test_restore_refuses_to_overwrite_a_database_that_holds_data(runner, populated, secret_file, tmp_path):
    assert runner.invoke(args=["backup", str(tmp_path / "b")]).exit_code == 0
    refused = runner.invoke(args=["restore", str(tmp_path / "b")])
    assert refused.exit_code != 0
    # The message is in the operator's language (Japanese by default); it names the way out.
    assert "--force" in refused.output and "test.sqlite3" in refused.output
    forced = runner.invoke(args=["restore", "--force", str(tmp_path / "b")])
    assert forced.exit_code == 0, forced.output


def test_a_damaged_backup_is_refused(runner, populated, secret_file, tmp_path, fresh):
    assert runner.invoke(args=["backup", str(tmp_path / "b")]).exit_code == 0
    (tmp_path / "b" / "photos" / populated.photo_name).write_bytes(b"changed")
    other, _root = fresh
    result = other.test_cli_runner().invoke(args=["restore", str(tmp_path / "b")])
    # The message follows the operator's language; it names the damaged file either way.
    assert result.exit_code != 0 and populated.photo_name in result.output


def test_backup_refuses_a_folder_that_is_not_empty(runner, populated, tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("x")
    result = runner.invoke(args=["backup", str(tmp_path / "b")])
    assert result.exit_code != 0 and str(tmp_path / "b") in result.output


def test_a_backup_taken_while_bookings_are_being_written_is_consistent(app, runner, world, live_server, tmp_path,
                                                                        admin_headers):
    """Online: bookings keep committing during the copy, and the copy passes `flask check`."""
    pairs = world.add_staff(60, start=5000)
    stop = threading.Event()

    def rush():
        for number, _code in pairs:
            if stop.is_set():
                return
            slot = world.slot_ids[int(number) % len(world.slot_ids)]
            request = urllib.request.Request(
                f"{live_server}/api/v1/reservations", method="POST",
                data=json.dumps({"slot_id": slot, "staff_number": number}).encode(),
                headers={**admin_headers, "Content-Type": "application/json"})
            try:
                urllib.request.urlopen(request, timeout=10).close()
            except urllib.error.HTTPError:
                pass  # slot full: fine, the rush goes on

    threads = [threading.Thread(target=rush) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        made = runner.invoke(args=["backup", str(tmp_path / "online")])
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert made.exit_code == 0, made.output
    copy = create_app(app_config(f"sqlite:///{tmp_path / 'online' / 'database.sqlite3'}", str(tmp_path / "online" / "photos")))
    checked = copy.test_cli_runner().invoke(args=["check"])
    assert checked.exit_code == 0, checked.output
    with copy.app_context():
        db.engine.dispose()

