"""A full disk under the photo folder (ENOSPC while the file is written): the desk is told plainly, with
nothing left behind, and photos are taken again once there is room."""
from __future__ import annotations

import errno
import io
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from desk_images import encoded, photo_like
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from booking.extensions import db
from booking.models import AuditEvent, CheckIn, Photo
from booking.services import photos


class _FullDisk(io.FileIO):
    """The photo file as a full disk has it: opened (the name exists), but no byte fits."""

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def disk_full(monkeypatch):
    """Writes of photo files fail with ENOSPC; everything else about ``os`` is the real thing."""
    calls = []

    def fdopen(fd, mode="r", *args, **kwargs):
        calls.append(mode)
        return _FullDisk(fd, "wb", closefd=True)

    fake_os = SimpleNamespace(**{name: getattr(os, name) for name in dir(os) if not name.startswith("__")})
    fake_os.fdopen = fdopen
    monkeypatch.setattr(photos, "os", fake_os)
    return calls


def files_in(app) -> list[str]:
    folder = Path(app.config["PHOTO_DIR"])
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def photo_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Photo))


def api_upload(client, check_in_id, headers):
    boundary, body = encode_multipart({"photo": FileStorage(io.BytesIO(encoded(photo_like(720, 960))), "p.jpg",
                                                            content_type="image/jpeg")})
    return client.post(f"/api/v1/checkins/{check_in_id}/photo", data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


def test_a_full_photo_disk_is_a_503_json_under_the_api_with_nothing_left(app, client, clerk_headers, check_in_ids,
                                                                           disk_full, monkeypatch):
    response = api_upload(client, check_in_ids[0], clerk_headers)
    assert disk_full == ["wb"]  # the file was really being written
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == "photo_storage_full"
    assert "storage for photos is full" in body["message"] and "check-in itself is kept" in body["message"]
    assert photo_rows(app) == 0 and files_in(app) == []  # no row, no file, no .part left over
    with app.app_context():
        assert db.session.get(CheckIn, check_in_ids[0]) is not None
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "photo.take")) is None

    monkeypatch.undo()  # room again
    response = api_upload(client, check_in_ids[0], clerk_headers)
    assert response.status_code == 201, response.get_json()
    assert photo_rows(app) == 1 and len(files_in(app)) == 1


def test_the_desk_page_says_the_photo_disk_is_full_instead_of_a_500(app, login, booked, disk_full):
    clerk = login("clerk")
    clerk.set_cookie("lang", "en")
    clerk.post(f"/desk/reservations/{booked.id}/check-in", data={"people": booked.person_ids})
    with app.app_context():
        check_in_id = db.session.scalars(select(CheckIn.id).order_by(CheckIn.id)).first()
    photo = {"photo": (io.BytesIO(encoded(photo_like(720, 960))), "p.jpg", "image/jpeg")}

    # The page's script asks for JSON.
    response = clerk.post(f"/desk/check-ins/{check_in_id}/photo", data=dict(photo),
                          headers={"Accept": "application/json"}, content_type="multipart/form-data")
    assert response.status_code == 503
    assert response.get_json()["error"] == "photo_storage_full"

    # Without the script: back to the check-in screen with the message.
    photo = {"photo": (io.BytesIO(encoded(photo_like(720, 960))), "p.jpg", "image/jpeg")}
    response = clerk.post(f"/desk/check-ins/{check_in_id}/photo", data=photo, content_type="multipart/form-data",
                          follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "storage for photos is full" in page and "Traceback" not in page
    assert photo_rows(app) == 0 and files_in(app) == []


def test_other_write_errors_of_the_photo_folder_are_not_hidden(app, client, clerk_headers, check_in_ids, monkeypatch):
    """Only a full or read-only disk is the desk's 'tell the administrator'; a bug stays a bug."""
    def broken(fd, *args, **kwargs):
        os.close(fd)
        raise OSError(errno.EBADF, "bad file descriptor")

    fake_os = SimpleNamespace(**{name: getattr(os, name) for name in dir(os) if not name.startswith("__")})
    fake_os.fdopen = broken
    monkeypatch.setattr(photos, "os", fake_os)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(OSError):
        api_upload(client, check_in_ids[0], clerk_headers)
    assert files_in(app) == []
