"""The application photo: decoded for real, upright, bare of metadata, card-shaped, within the limits."""
from __future__ import annotations

import io
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from desk_images import encoded, photo_like
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from booking.extensions import db
from booking.models import AuditEvent, Photo


def upload(client, check_in_id, data: bytes, headers, name="photo.jpg", mimetype="image/jpeg"):
    # Encoded in memory: the test client would spool a big body to a temporary file it never closes.
    boundary, body = encode_multipart({"photo": FileStorage(io.BytesIO(data), name, content_type=mimetype)})
    return client.post(
        f"/api/v1/checkins/{check_in_id}/photo",
        data=body,
        headers=headers,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def stored(app) -> tuple[Photo, bytes]:
    with app.app_context():
        photo = db.session.scalar(select(Photo))
        data = (Path(app.config["PHOTO_DIR"]) / photo.storage_name).read_bytes()
        db.session.expunge(photo)
        return photo, data


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"  # Make
    exif[0x0112] = 6  # Orientation: the camera was turned; shown rotated 90° clockwise
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (37.0, 45.0, 30.0)
    gps[3] = "E"
    gps[4] = (140.0, 28.0, 10.0)
    return exif


def test_a_real_jpeg_is_stored_as_a_card_shaped_jpeg_within_the_limits(app, client, clerk_headers, check_in_ids, jpeg):
    response = upload(client, check_in_ids[0], jpeg(1600, 1200), clerk_headers)

    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"width": 933, "height": 1200}
    photo, data = stored(app)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.mode == "RGB"
    assert image.size == (933, 1200)
    assert abs(image.width / image.height - 3.5 / 4.5) < 0.002
    assert 480 <= min(image.size) and max(image.size) <= 6000
    assert 20 * 1024 <= len(data) <= 7 * 1024 * 1024
    assert photo.byte_size == len(data)
    # A random name that says nothing about the person, outside static/.
    assert len(photo.storage_name) == 36 and photo.storage_name.endswith(".jpg")
    assert "static" not in Path(app.config["PHOTO_DIR"]).parts


def test_a_png_with_transparency_becomes_an_rgb_jpeg(app, client, clerk_headers, check_in_ids, png):
    response = upload(client, check_in_ids[0], png(900, 1200), clerk_headers, name="me.png", mimetype="image/png")

    assert response.status_code == 201, response.get_json()
    _photo, data = stored(app)
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.mode) == ("JPEG", "RGB")
    assert image.size == (900, 1157)


def test_a_text_file_named_jpg_is_refused_as_invalid_photo(app, client, clerk_headers, check_in_ids):
    response = upload(client, check_in_ids[0], b"This is not a photo at all.\n" * 100, clerk_headers)

    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_photo"
    assert "not a photo" in body["message"]
    with app.app_context():
        assert db.session.scalar(select(Photo)) is None
    assert not any(Path(app.config["PHOTO_DIR"]).glob("*")) if Path(app.config["PHOTO_DIR"]).exists() else True


def test_a_truncated_jpeg_is_refused(client, clerk_headers, check_in_ids, jpeg):
    data = jpeg(1200, 1600)
    response = upload(client, check_in_ids[0], data[: len(data) // 2], clerk_headers)
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid_photo"


def test_a_40_by_50_image_is_refused_with_a_message_the_clerk_understands(client, clerk_headers, check_in_ids):
    response = upload(client, check_in_ids[0], encoded(photo_like(40, 50)), clerk_headers)

    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_photo"
    assert "too small" in body["message"] and "480" in body["message"]


def test_a_landscape_camera_frame_too_low_for_the_card_shape_is_refused(client, clerk_headers, check_in_ids):
    # 640x480 cut to 3.5:4.5 is 373 pixels across: below the application's 480.
    response = upload(client, check_in_ids[0], encoded(photo_like(640, 480)), clerk_headers)
    assert response.status_code == 422
    assert "373" in response.get_json()["message"]


def test_a_blank_image_is_refused(client, clerk_headers, check_in_ids):
    blank = encoded(Image.new("RGB", (1200, 1600), (200, 200, 200)))
    response = upload(client, check_in_ids[0], blank, clerk_headers)
    assert response.status_code == 422
    assert "blank" in response.get_json()["message"]


def test_gps_and_every_other_exif_tag_is_gone_and_the_orientation_is_applied(app, client, clerk_headers, check_in_ids):
    # Stored 1600 wide and 1200 high, with Orientation 6: the picture is really portrait.
    original = photo_like(1600, 1200)
    data = encoded(original, exif=gps_exif().tobytes(), icc_profile=b"\x00" * 128, comment=b"taken at HQ")
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the upload does carry GPS

    response = upload(client, check_in_ids[0], data, clerk_headers)

    assert response.status_code == 201, response.get_json()
    _photo, stored_bytes = stored(app)
    image = Image.open(io.BytesIO(stored_bytes))
    assert len(image.getexif()) == 0
    assert image.getexif().get_ifd(0x8825) == {}
    assert "exif" not in image.info and "icc_profile" not in image.info and "comment" not in image.info
    assert b"Exif" not in stored_bytes[:4096] and b"Camera maker" not in stored_bytes
    # Turned upright first (1200x1600), then cut to 3.5:4.5: full width, trimmed height.
    assert image.size == (1200, 1542)


def test_a_retake_replaces_the_photo_and_its_file(app, client, clerk_headers, check_in_ids, jpeg):
    upload(client, check_in_ids[0], jpeg(1200, 1600), clerk_headers)
    first, _ = stored(app)

    response = upload(client, check_in_ids[0], jpeg(1600, 1200), clerk_headers)

    assert response.status_code == 201
    second, _ = stored(app)
    assert second.id == first.id and second.storage_name != first.storage_name
    folder = Path(app.config["PHOTO_DIR"])
    assert sorted(p.name for p in folder.iterdir()) == [second.storage_name]
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("photo.%")).order_by(AuditEvent.id)).all()
        assert actions == ["photo.take", "photo.retake"]


def test_a_refused_retake_keeps_the_earlier_photo(app, client, clerk_headers, check_in_ids, jpeg):
    upload(client, check_in_ids[0], jpeg(), clerk_headers)
    first, first_bytes = stored(app)

    upload(client, check_in_ids[0], b"GIF89a nonsense", clerk_headers)

    again, again_bytes = stored(app)
    assert again.storage_name == first.storage_name and again_bytes == first_bytes


def test_a_body_over_the_limit_is_refused_with_413(app, client, clerk_headers, check_in_ids):
    app.config["PHOTO_MAX_UPLOAD_BYTES"] = 200_000
    response = upload(client, check_in_ids[0], b"\xff" * 300_000, clerk_headers)
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"


def test_an_oversized_body_is_refused_before_it_is_sent(app, live_server, clerk_headers, check_in_ids):
    """Only the headers are sent, announcing 50 MB: the answer comes at once, without the body."""
    host, port = urlsplit(live_server).hostname, urlsplit(live_server).port
    head = (
        f"POST /api/v1/checkins/{check_in_ids[0]}/photo HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Authorization: {clerk_headers['Authorization']}\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        "Content-Length: 50000000\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(head.encode())
        answer = sock.recv(4096).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413")


def test_a_missing_photo_field_is_invalid_photo(client, clerk_headers, check_in_ids):
    response = client.post(f"/api/v1/checkins/{check_in_ids[0]}/photo", data={"picture": "x"},
                           headers=clerk_headers, content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid_photo"


def test_an_unknown_check_in_is_not_found(client, clerk_headers, jpeg):
    response = upload(client, 999, jpeg(), clerk_headers)
    assert response.status_code == 404


@pytest.mark.parametrize("role, status", [(None, 401), ("chief", 403)])
def test_only_clerks_and_admins_may_upload_or_see_photos(client, make_token, check_in_ids, jpeg, role, status):
    headers = {}
    if role:
        headers = {"Authorization": f"Bearer {make_token(role, username='chief-y', unit_code='A')}"}
    assert upload(client, check_in_ids[0], jpeg(), headers).status_code == status
    assert client.get(f"/api/v1/checkins/{check_in_ids[0]}/photo", headers=headers).status_code == status


def test_downloading_a_photo_is_audited_and_never_cached(app, client, clerk_headers, check_in_ids, jpeg):
    upload(client, check_in_ids[0], jpeg(), clerk_headers)

    response = client.get(f"/api/v1/checkins/{check_in_ids[0]}/photo", headers=clerk_headers)

    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "photo.download"))
        assert event is not None and event.user.username == "desk-1"
        assert event.target_id == str(check_in_ids[0])


def test_the_photo_is_deleted_30_days_after_its_session_by_default(app, client, clerk_headers, check_in_ids, jpeg, world):
    from datetime import time, timedelta

    from booking.localtime import at_tokyo

    upload(client, check_in_ids[0], jpeg(), clerk_headers)
    photo, _ = stored(app)
    assert photo.delete_after == at_tokyo(world.session_day, time(16)) + timedelta(days=30)
