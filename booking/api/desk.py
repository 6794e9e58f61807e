"""The desk (roles clerk or admin): check-in by QR or code, the application photo (API.md, Desk)."""
from __future__ import annotations

from flask import abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..extensions import db
from ..models import CheckIn, Photo, Reservation
from ..services import checkin, photos
from ..services.errors import DomainError
from ..web import request_actor
from . import bp, serialize
from .common import body, office
from .schemas import CheckInIn

DESK = ("clerk", "admin")


def check_in_out(record: CheckIn, photo: Photo | None = None) -> dict:
    person = record.person
    return {
        "id": record.id,
        "person": {"id": person.id, "kind": person.kind, "name": person.name},
        "checked_in_at": serialize.instant(record.checked_in_at),
        "clerk": checkin.clerk_label(record.clerk),
        "application_submitted": record.is_application_submitted,
        "photo": {"width": photo.width, "height": photo.height} if photo is not None else None,
    }


def _reservation_out(reservation: Reservation) -> dict:
    db.session.expire(reservation, ["status"])
    return serialize.reservation(reservation)


@bp.post("/checkins")
@office(*DESK)
def create_check_in() -> ResponseReturnValue:
    data = body(CheckInIn)
    reservation = checkin.find_reservation(qr=data.qr, code=data.code)
    # A first check-in or, once the reservation is checked in, late arrivals: the same answer.
    rows = checkin.check_in(request_actor(), reservation, present=data.people)
    first = rows[0]
    return jsonify(
        id=first.id,
        reservation=_reservation_out(reservation),
        checked_in_at=serialize.instant(first.checked_in_at),
        check_ins=[check_in_out(r) for r in rows],
    ), 201


def _check_in_or_404(check_in_id: int) -> CheckIn:
    record = db.session.get(CheckIn, check_in_id)
    if record is None:
        raise DomainError("not_found", _("No check-in has this id."))
    return record


@bp.post("/checkins/<int:check_in_id>/photo")
@office(*DESK)
def upload_check_in_photo(check_in_id: int) -> ResponseReturnValue:
    # 413 from the Content-Length alone: the body is never read when it is too big.
    limit = int(current_app.config.get("PHOTO_MAX_UPLOAD_BYTES", current_app.config["MAX_CONTENT_LENGTH"]))
    if (request.content_length or 0) > limit:
        abort(413)
    record = _check_in_or_404(check_in_id)
    upload = request.files.get("photo")
    if upload is None:
        raise DomainError(
            "invalid_photo",
            _("Send the photo as the multipart/form-data field 'photo'."),
            fields={"photo": _("Missing.")},
        )
    photo = photos.attach_photo(request_actor(), record, upload.stream)
    return jsonify(width=photo.width, height=photo.height), 201


@bp.get("/checkins/<int:check_in_id>/photo")
@office(*DESK)
def download_check_in_photo(check_in_id: int) -> ResponseReturnValue:
    _check_in_or_404(check_in_id)
    _photo, data = photos.read_photo(request_actor(), check_in_id, download=True)
    return current_app.response_class(
        data, mimetype="image/jpeg",
        headers={"Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="photo-{check_in_id}.jpg"'},
    )


@bp.post("/checkins/<int:check_in_id>/application")
@office(*DESK)
def check_in_application(check_in_id: int) -> ResponseReturnValue:
    record = _check_in_or_404(check_in_id)
    checkin.mark_application_submitted(request_actor(), record)
    person = record.person
    holder = person.dependent if person.dependent is not None else person.reservation.staff
    return jsonify(
        id=record.id, application_submitted=True, card_status=holder.card_status,
        card_status_on=holder.card_status_on.isoformat() if holder.card_status_on else None,
    )
