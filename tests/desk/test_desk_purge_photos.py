"""Rule 7: photos are deleted after the retention period by `flask --app booking purge-photos`."""
from __future__ import annotations

import io
import os
import time as clock
from datetime import UTC, datetime, timedelta
from pathlib import Path

from desk_images import encoded, photo_like
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from booking.extensions import db
from booking.models import Campaign, Photo


def take_photo(client, check_in_id: int, headers) -> None:
    boundary, body = encode_multipart({"photo": FileStorage(io.BytesIO(encoded(photo_like(700, 900))), "p.jpg")})
    response = client.post(f"/api/v1/checkins/{check_in_id}/photo", data=body, headers=headers,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 201, response.get_json()


def age_photos(app, days: int) -> None:
    """Move every photo's deadline as if the session were ``days`` further in the past."""
    with app.app_context():
        for photo in db.session.scalars(select(Photo)):
            photo.delete_after -= timedelta(days=days)
        db.session.commit()


def photo_files(app) -> list[str]:
    return sorted(p.name for p in Path(app.config["PHOTO_DIR"]).iterdir())


def test_purge_deletes_photos_past_retention_and_reports_how_many(app, client, runner, clerk_headers, check_in_ids):
    for check_in_id in check_in_ids:
        take_photo(client, check_in_id, clerk_headers)
    assert len(photo_files(app)) == 2

    kept = runner.invoke(args=["purge-photos"])
    assert kept.exit_code == 0, kept.output
    assert "Deleted 0 photos" in kept.output and len(photo_files(app)) == 2

    age_photos(app, 60)
    purged = runner.invoke(args=["purge-photos"])

    assert purged.exit_code == 0, purged.output
    assert "Deleted 2 photos" in purged.output
    assert photo_files(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Photo)) == 0


def test_purge_is_idempotent(app, client, runner, clerk_headers, check_in_ids):
    take_photo(client, check_in_ids[0], clerk_headers)
    age_photos(app, 60)
    assert "Deleted 1 photos" in runner.invoke(args=["purge-photos"]).output
    again = runner.invoke(args=["purge-photos"])
    assert again.exit_code == 0 and "Deleted 0 photos" in again.output


def test_a_row_whose_file_is_already_gone_is_still_purged(app, client, runner, clerk_headers, check_in_ids):
    take_photo(client, check_in_ids[0], clerk_headers)
    for name in photo_files(app):
        (Path(app.config["PHOTO_DIR"]) / name).unlink()
    age_photos(app, 60)
    result = runner.invoke(args=["purge-photos"])
    assert result.exit_code == 0 and "Deleted 1 photos" in result.output


def test_stray_files_older_than_a_few_hours_are_removed_and_fresh_ones_left(app, client, runner, clerk_headers, check_in_ids):
    take_photo(client, check_in_ids[0], clerk_headers)
    folder = Path(app.config["PHOTO_DIR"])
    old_stray, new_stray = folder / "stray-old.jpg", folder / "stray-new.jpg"
    old_stray.write_bytes(b"x")
    new_stray.write_bytes(b"x")
    day_ago = clock.time() - 24 * 3600
    os.utime(old_stray, (day_ago, day_ago))

    result = runner.invoke(args=["purge-photos"])

    assert "Removed 1 stray photo files" in result.output
    assert not old_stray.exists() and new_stray.exists()
    assert len(photo_files(app)) == 2  # the real photo and the fresh stray


def test_the_admin_changes_retention_and_existing_deadlines_follow(app, login, client, clerk_headers, check_in_ids, world):
    take_photo(client, check_in_ids[0], clerk_headers)
    with app.app_context():
        before = db.session.scalar(select(Photo.delete_after))

    admin = login("admin")
    response = admin.post("/desk/photo-retention",
                          data={"campaign_id": world.campaign_id, "photo_retention_days": "7"})

    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Campaign, world.campaign_id).photo_retention_days == 7
        assert db.session.scalar(select(Photo.delete_after)) == before - timedelta(days=23)


def test_retention_out_of_range_is_refused(app, login, world):
    admin = login("admin")
    response = admin.post("/desk/photo-retention", data={"campaign_id": world.campaign_id, "photo_retention_days": "0"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Campaign, world.campaign_id).photo_retention_days == 30


def test_a_clerk_cannot_change_retention(login, world):
    clerk = login("clerk")
    response = clerk.post("/desk/photo-retention", data={"campaign_id": world.campaign_id, "photo_retention_days": "1"})
    assert response.status_code == 403


def test_new_photos_use_the_campaign_retention(app, client, clerk_headers, check_in_ids, world):
    from datetime import time

    from booking.localtime import at_tokyo

    with app.app_context():
        db.session.get(Campaign, world.campaign_id).photo_retention_days = 3
        db.session.commit()
    take_photo(client, check_in_ids[0], clerk_headers)
    with app.app_context():
        deadline = db.session.scalar(select(Photo.delete_after))
    assert deadline == at_tokyo(world.session_day, time(16)) + timedelta(days=3)
    assert deadline > datetime.now(UTC)
