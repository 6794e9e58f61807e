"""The desk (roles clerk or admin): check-in by QR or code, the application photo (API.md, Desk)."""
from __future__ import annotations

from flask import abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..extensions import db
from ..models import Application, CheckIn, Photo, Reservation
from ..services import applications, checkin, photos
from ..services.applications import Assessment
from ..services.errors import DomainError
from ..web import request_actor
from . import bp, serialize
from .common import body, office
from .schemas import ApplicationIn, CheckInIn

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
    try:
        photo = photos.attach_photo(request_actor(), record, upload.stream)
    finally:
        upload.close()  # a large upload is spooled to a temporary file: close it now, not at collection
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


def application_out(record: CheckIn, application: Application | None, assessment: Assessment) -> dict:
    holder = applications.applicant_of(record).holder
    representative = None
    if application is not None and (application.representative_name or application.representative_relation
                                    or application.representative_documents):
        representative = {"name": application.representative_name,
                          "relation": application.representative_relation,
                          "identity_documents": application.representative_documents}
    submitted = application is not None and application.is_submitted
    return {
        "id": application.id if application is not None else None,
        "check_in_id": record.id,
        "application_id": application.application_id if application is not None else None,
        "identity_documents": application.identity_documents if application is not None else [],
        "pin_form": bool(application and application.pin_form),
        "pin_entered": bool(application and application.pin_entered),
        "surrendered": application.surrendered if application is not None else [],
        "address_change_planned": bool(application and application.address_change_planned),
        "adult_ward": bool(application and application.adult_ward),
        "age_group": assessment.age_group,
        "legal_representative": representative,
        "submitted": submitted,
        "submitted_at": serialize.instant(application.submitted_at)
        if application is not None and application.submitted_at is not None else None,
        "application_submitted": record.is_application_submitted,
        # Once handed in, the delivery decided then (kept up to date by corrections).
        "delivery": application.delivery if submitted and application and application.delivery else assessment.delivery,
        "delivery_reasons": assessment.reasons,
        "missing": assessment.missing,
        "card_status": holder.card_status,
        "card_status_on": holder.card_status_on.isoformat() if holder.card_status_on else None,
    }


@bp.get("/identity-documents")
@office(*DESK)
def identity_documents() -> ResponseReturnValue:
    return jsonify([{"code": d.code, "name": d.name, "group": d.group} for d in applications.identity_documents()])


@bp.get("/checkins/<int:check_in_id>/application")
@office(*DESK)
def show_check_in_application(check_in_id: int) -> ResponseReturnValue:
    record = _check_in_or_404(check_in_id)
    application = applications.record_of(record)
    assessment = applications.assess(applications.applicant_of(record), application,
                                     has_photo=applications.has_photo(record))
    return jsonify(application_out(record, application, assessment))


@bp.post("/checkins/<int:check_in_id>/application")
@office(*DESK)
def check_in_application(check_in_id: int) -> ResponseReturnValue:
    record = _check_in_or_404(check_in_id)
    data = body(ApplicationIn)
    changes = data.model_dump(exclude_unset=True, exclude={"submitted"})
    application, assessment = applications.record_application(
        request_actor(), record, changes, submit=bool(data.submitted))
    return jsonify(application_out(record, application, assessment))
