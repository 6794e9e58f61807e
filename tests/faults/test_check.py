"""`flask --app booking check`: every invariant over the whole database, each kind caught when broken."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from booking.extensions import db


def run_sql(app, *statements: str) -> None:
    """Damage the data behind the app's back (raw SQL, as a bug or a crash would)."""
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name == "sqlite":
            # The CHECK (seats_taken <= capacity) would stop the over-capacity damage.
            connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
        else:
            connection.exec_driver_sql("SET session_replication_role = replica")  # no triggers, no FK checks
        for statement in statements:
            connection.execute(text(statement))
        db.session.commit()


def check(runner):
    return runner.invoke(args=["check"])


def test_a_populated_clean_database_passes(runner, populated):
    result = check(runner)
    assert result.exit_code == 0, result.output
    assert "OK: no violations" in result.output
    assert "4 reservations" in result.output and "1 photos" in result.output


def test_an_empty_database_passes(runner, app):
    result = check(runner)
    assert result.exit_code == 0, result.output


def test_seats_taken_that_differ_from_the_reservations_are_caught(app, runner, world, populated):
    run_sql(app, f"UPDATE slots SET seats_taken = seats_taken - 1 WHERE id = {world.slot_ids[1]}")
    result = check(runner)
    assert result.exit_code == 1
    assert f"slot_seats_mismatch: slot {world.slot_ids[1]} " in result.output
    assert "has seats_taken 1 but its reservations hold 2 seats" in result.output


def test_a_half_written_reservation_without_its_seats_is_caught(app, runner, world, populated):
    # What a crash between the reservation insert and the seat update would leave.
    run_sql(app, f"UPDATE slots SET seats_taken = 0 WHERE id = {world.slot_ids[0]}")
    result = check(runner)
    assert result.exit_code == 1 and "slot_seats_mismatch" in result.output


def test_a_slot_over_capacity_is_caught(app, runner, world, populated):
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL enforces CHECK (seats_taken <= capacity) even for raw SQL; SQLite can be told not to")
    run_sql(app, f"UPDATE slots SET capacity = 1 WHERE id = {world.slot_ids[1]}")
    result = check(runner)
    assert result.exit_code == 1
    assert "slot_over_capacity" in result.output and "2 seats taken of capacity 1" in result.output


def test_two_active_reservations_of_one_person_in_a_campaign_are_caught(app, runner, world, populated):
    # The partial unique index forbids this; drop it as a broken migration would.
    run_sql(app, "DROP INDEX uq_reservations_active_staff_campaign",
            f"UPDATE reservations SET status = 'booked' WHERE id = {populated.cancelled_id}",
            f"UPDATE reservations SET staff_id = (SELECT staff_id FROM reservations WHERE id = "
            f"{populated.booked_ids[0]}) WHERE id = {populated.cancelled_id}",
            f"UPDATE slots SET seats_taken = seats_taken + 1 WHERE id = {world.slot_ids[2]}")
    try:
        result = check(runner)
    finally:
        # Put the index back (PostgreSQL's schema is shared by the whole test session).
        run_sql(app, f"UPDATE reservations SET status = 'cancelled' WHERE id = {populated.cancelled_id}",
                "CREATE UNIQUE INDEX uq_reservations_active_staff_campaign ON reservations (staff_id, campaign_id) "
                "WHERE status IN ('booked', 'checked_in')")
    assert result.exit_code == 1
    assert "duplicate_active_reservation" in result.output
    assert "holds 2 active reservations in campaign" in result.output


def test_a_reservation_whose_seats_differ_from_its_people_is_caught(app, runner, populated):
    run_sql(app, f"DELETE FROM reservation_people WHERE reservation_id = {populated.booked_ids[0]}")
    result = check(runner)
    assert result.exit_code == 1
    assert f"reservation_seats_mismatch: reservation {populated.booked_ids[0]} " in result.output
    assert "has seats 1 but 0 people" in result.output


def test_a_check_in_on_a_reservation_that_is_not_checked_in_is_caught(app, runner, world, populated):
    run_sql(app, f"UPDATE reservations SET status = 'booked' WHERE id = {populated.checked_in_id}")
    result = check(runner)
    assert result.exit_code == 1
    assert "check_in_not_checked_in" in result.output and "which is booked" in result.output


def test_a_photo_row_whose_file_is_missing_is_caught(app, runner, populated):
    (Path(app.config["PHOTO_DIR"]) / populated.photo_name).unlink()
    result = check(runner)
    assert result.exit_code == 1
    assert "photo_file_missing" in result.output and populated.photo_name in result.output


def test_a_stray_photo_file_is_caught_once_it_is_older_than_an_upload(app, runner, populated):
    stray = Path(app.config["PHOTO_DIR"]) / "0123456789abcdef.jpg"
    stray.write_bytes(b"\xff\xd8 not ours")
    assert check(runner).exit_code == 0  # written a moment ago: may be an upload in flight
    old = time.time() - 3600
    os.utime(stray, (old, old))
    result = check(runner)
    assert result.exit_code == 1
    assert "photo_file_stray" in result.output and stray.name in result.output


def test_every_violation_is_listed_not_just_the_first(app, runner, world, populated):
    run_sql(app, f"UPDATE slots SET seats_taken = 0 WHERE id = {world.slot_ids[1]}",
            f"UPDATE reservations SET status = 'no_show' WHERE id = {populated.checked_in_id}")
    (Path(app.config["PHOTO_DIR"]) / populated.photo_name).unlink()
    result = check(runner)
    assert result.exit_code == 1
    for kind in ("slot_seats_mismatch", "check_in_not_checked_in", "photo_file_missing"):
        assert kind in result.output
    assert "violation(s) found" in result.output


@pytest.mark.parametrize("status", ["no_show"])
def test_no_shows_keep_their_seats_and_pass(app, runner, world, populated, status):
    # mark-no-shows leaves the seats taken (the time has passed): not a violation.
    run_sql(app, f"UPDATE reservations SET status = '{status}' WHERE id = {populated.booked_ids[0]}")
    assert check(runner).exit_code == 0
