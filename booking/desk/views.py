"""Desk views: load or 404, check the role, validate, call one service, redirect or render."""
from __future__ import annotations

from datetime import date

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from .. import navigation
from ..auth import role_required, visible_unit_ids
from ..converters import bounded_int
from ..extensions import db
from ..formatting import clock
from ..localtime import utcnow
from ..models import Campaign, CheckIn, DeskSession, Photo, Reservation, Slot, Staff
from ..office.common import refused
from ..services import applicants, applications, approvals, checkin, messages, photos
from ..services.errors import DomainError, status_for
from ..services.reservations import CHANNEL_LABELS
from ..web import request_actor
from . import bp
from .board import STATUS_LABELS, board
from .forms import (
    ApplicationForm,
    ButtonForm,
    CheckInForm,
    FindForm,
    PhotoForm,
    RetentionForm,
    WalkInForm,
    WalkInSearchForm,
)

DESK_ROLES = ("clerk", "admin")

navigation.register("desk.index", _l("Desk"), DESK_ROLES, order=30, section="bookings")
navigation.register("desk.no_shows", _l("No-shows"), ("admin", "chief", "clerk"), order=35, section="bookings")
navigation.register("desk.photo_retention", _l("Photo retention"), ("admin",), order=80, section="admin")


def max_upload_bytes() -> int:
    """Largest photo upload taken; bigger bodies get 413 before they are read."""
    return int(current_app.config.get("PHOTO_MAX_UPLOAD_BYTES", current_app.config["MAX_CONTENT_LENGTH"]))


def _session_or_404(session_id: int) -> DeskSession:
    desk_session = db.get_or_404(DeskSession, session_id)
    if desk_session.is_cancelled:
        abort(404)
    return desk_session


def _desk_session_arg(reservation: Reservation) -> DeskSession:
    """The session the desk is running: ?session=, else the reservation's own."""
    session_id = request.args.get("session", type=bounded_int)
    if session_id:
        found = db.session.get(DeskSession, session_id)
        if found is not None:
            return found
    return reservation.slot.desk_session


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json"


def _error_json(error: DomainError) -> Response:
    response = jsonify(error=error.code, message=str(error.message),
                       fields={k: str(v) for k, v in error.fields.items()} or None)
    response.status_code = status_for(error.code)
    return response


# --- choosing a session and the board ------------------------------------------------


@bp.get("/")
@role_required(*DESK_ROLES)
def index() -> ResponseReturnValue:
    sessions = checkin.sessions_for_desk(utcnow())
    groups = [(_("Today"), sessions.today), (_("Coming"), sessions.coming), (_("Past"), sessions.past)]
    return render_template("desk/index.html", groups=groups)


@bp.get("/sessions/<int:session_id>")
@role_required(*DESK_ROLES)
def session_board(session_id: int) -> ResponseReturnValue:
    desk_session = _session_or_404(session_id)
    return render_template(
        "desk/session_board.html", desk_session=desk_session, board=board(desk_session, utcnow()),
        find_form=FindForm(), no_show_form=ButtonForm(),
    )


@bp.get("/sessions/<int:session_id>/board.json")
@role_required(*DESK_ROLES)
def board_json(session_id: int) -> ResponseReturnValue:
    desk_session = _session_or_404(session_id)
    response = jsonify(board(desk_session, utcnow()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/sessions/<int:session_id>/scan")
@role_required(*DESK_ROLES)
def scan(session_id: int) -> ResponseReturnValue:
    desk_session = _session_or_404(session_id)
    return render_template("desk/scan.html", desk_session=desk_session, form=FindForm(),
                           board=board(desk_session, utcnow()))


@bp.post("/sessions/<int:session_id>/find")
@role_required(*DESK_ROLES)
def find(session_id: int) -> ResponseReturnValue:
    desk_session = _session_or_404(session_id)
    form = FindForm()
    if form.validate_on_submit():
        try:
            reservation = checkin.find_reservation(qr=form.qr.data or None, code=form.code.data or None)
        except DomainError as error:
            flash(str(error.message), "error")
            return render_template("desk/scan.html", desk_session=desk_session, form=form,
                                   board=board(desk_session, utcnow())), status_for(error.code)
        return redirect(url_for(".check_in_screen", reservation_id=reservation.id, session=desk_session.id))
    return render_template("desk/scan.html", desk_session=desk_session, form=form,
                           board=board(desk_session, utcnow())), 422


@bp.route("/sessions/<int:session_id>/no-shows", methods=["GET", "POST"])
@role_required(*DESK_ROLES)
def mark_no_shows(session_id: int) -> ResponseReturnValue:
    """GET: who would become a no-show now (their slots ended, the campaign's grace included),
    how many, and a button; POST: mark those the clerk was shown (``reservation_id``, repeated;
    none given means every one due now)."""
    desk_session = _session_or_404(session_id)
    if request.method == "GET":
        now = utcnow()
        return render_template(
            "desk/no_shows_confirm.html", desk_session=desk_session, form=ButtonForm(),
            candidates=checkin.no_show_candidates(desk_session, now=now), board=board(desk_session, now),
            grace=desk_session.campaign.no_show_grace_minutes)
    if not ButtonForm().validate_on_submit():
        abort(400)
    shown = request.form.getlist("reservation_id", type=bounded_int)
    try:
        count = checkin.mark_no_shows(request_actor(), desk_session,
                                      reservation_ids=shown if "reservation_id" in request.form else None)
    except DomainError as error:
        refused(error)
        return redirect(url_for(".session_board", session_id=desk_session.id))
    flash(_("%(n)s reservations still waiting were marked as no-shows.", n=count), "success")
    return redirect(url_for(".session_board", session_id=desk_session.id))


# --- the check-in screen ---------------------------------------------------------------


def _person_rows(reservation: Reservation, done: dict[int, CheckIn], day: date) -> list[dict]:
    """Each person with what the clerk needs: relation, card, check-in and photo, and what their
    age on ``day`` means at the desk (applicants.notices)."""
    photos_by_check_in: dict[int, Photo] = {}
    if done:
        photos_by_check_in = {
            p.check_in_id: p
            for p in db.session.scalars(select(Photo).where(Photo.check_in_id.in_([c.id for c in done.values()])))
        }
    rows = []
    draft = session.pop("application_draft", None)
    for person in reservation.people:
        holder = person.dependent if person.dependent is not None else reservation.staff
        record = done.get(person.id)
        rows.append({
            "panel": _panel(record, draft) if record is not None else None,
            "person": person,
            "relation": person.dependent.relation if person.dependent is not None else _("Staff member"),
            "card_status": holder.card_status,
            "check_in": record,
            "photo": photos_by_check_in.get(record.id) if record else None,
            "notices": applicants.notices(person.dependent, day),
        })
    return rows


def _panel(record: CheckIn, draft: dict | None) -> dict:
    """The application panel of one checked-in person: the values shown (the draft of a refused
    post, else what is recorded), the field errors, and mail or counter as things stand."""
    application = applications.record_of(record)
    applicant = applications.applicant_of(record)
    if draft is not None and draft.get("check_in_id") == record.id:
        form: dict[str, list[str]] = draft["form"]

        def first(name: str) -> str:
            return (form.get(name) or [""])[0]

        values = {
            "application_id": first("application_id"),
            "identity_documents": set(form.get("identity_documents", [])),
            "surrendered": set(form.get("surrendered", [])),
            "representative_documents": set(form.get("representative_documents", [])),
            "representative_name": first("representative_name"),
            "representative_relation": first("representative_relation"),
            "age_group": first("age_group"),
            **{flag: first(flag) in ("y", "on", "1", "true")
               for flag in ("pin_entered", "pin_form", "address_change_planned", "adult_ward")},
        }
        errors = draft.get("fields", {})
    else:
        values = {
            "application_id": _grouped(application.application_id) if application and application.application_id else "",
            "identity_documents": set(application.identity_documents) if application else set(),
            "surrendered": set(application.surrendered) if application else set(),
            "representative_documents": set(application.representative_documents) if application else set(),
            "representative_name": application.representative_name if application else "",
            "representative_relation": application.representative_relation if application else "",
            "age_group": (application.age_group if application else None) or "",
            **{flag: bool(application and getattr(application, flag))
               for flag in ("pin_entered", "pin_form", "address_change_planned", "adult_ward")},
        }
        errors = {}
    assessment = applications.assess(applicant, application, has_photo=applications.has_photo(record))
    return {
        "application": application,
        "shown": values,
        "errors": errors,
        "assessment": assessment,
        "reasons": [applications.REASON_TEXTS[code] for code in assessment.reasons],
        "asks_age_group": applicant.dependent is not None and applicant.birth_date is None,
        "is_renewal": assessment.is_renewal,
    }


def _grouped(application_id: str) -> str:
    """A 申請書ID as printed on the form: groups of four digits, easier to compare by eye."""
    return " ".join(application_id[i:i + 4] for i in range(0, len(application_id), 4))


def _span(reservation: Reservation) -> tuple[Slot, Slot]:
    """The first and the last slot the reservation's people sit in (one slot unless a party spans)."""
    slots = sorted({p.slot for p in reservation.people} or {reservation.slot}, key=lambda s: s.starts_at)
    return slots[0], slots[-1]


@bp.get("/reservations/<int:reservation_id>")
@role_required(*DESK_ROLES)
def check_in_screen(reservation_id: int) -> ResponseReturnValue:
    try:
        reservation = checkin.reservation_by_id(reservation_id)
    except DomainError:
        abort(404)
    desk_session = _desk_session_arg(reservation)
    done = checkin.check_ins_of(reservation)
    first, last = _span(reservation)
    return render_template(
        "desk/check_in.html",
        reservation=reservation,
        desk_session=desk_session,
        own_session=reservation.slot.desk_session,
        # The notices are for the day of the session the desk is running: the day they apply.
        people=_person_rows(reservation, done, desk_session.date),
        first_slot=first,
        last_slot=last,
        done=done,
        first_check_in=next(iter(done.values()), None),
        form=CheckInForm(),
        button_form=ButtonForm(),
        photo_form=PhotoForm(),
        status_label=STATUS_LABELS.get(reservation.status, reservation.status),
        mail_messages=messages.of_reservation(request_actor(), reservation),
        channel_label=CHANNEL_LABELS.get(reservation.channel, reservation.channel),
        duty_approval=approvals.booker_status(reservation),
        max_upload=max_upload_bytes(),
        documents=applications.identity_documents(),
        campaign=reservation.campaign,
    )


@bp.post("/reservations/<int:reservation_id>/check-in")
@role_required(*DESK_ROLES)
def check_in(reservation_id: int) -> ResponseReturnValue:
    try:
        reservation = checkin.reservation_by_id(reservation_id)
    except DomainError:
        abort(404)
    desk_session = _desk_session_arg(reservation)
    form = CheckInForm()
    form.people.choices = [(p.id, p.name) for p in reservation.people]
    back = url_for(".check_in_screen", reservation_id=reservation.id, session=desk_session.id)
    if not form.validate_on_submit():
        abort(400)
    try:
        # First check-in or a late arrival: the service tells them apart.
        rows = checkin.check_in(request_actor(), reservation, present=form.people.data or [])
    except DomainError as error:
        refused(error)
        return redirect(back)
    flash(_("Checked in: %(names)s.", names=", ".join(r.person.name for r in rows)), "success")
    return redirect(back)


@bp.post("/check-ins/<int:check_in_id>/application")
@role_required(*DESK_ROLES)
def application(check_in_id: int) -> ResponseReturnValue:
    """Record the application panel of one person; "hand in" submits it as well."""
    record = db.get_or_404(CheckIn, check_in_id)
    reservation = record.person.reservation
    back = url_for(".check_in_screen", reservation_id=reservation.id,
                   session=request.args.get("session", type=bounded_int) or reservation.slot.desk_session_id,
                   _anchor=f"application-{record.id}")
    form = ApplicationForm()
    if not form.validate_on_submit():
        abort(400)
    submit = form.action.data == "submit"
    try:
        _application, assessment = applications.record_application(
            request_actor(), record, form.changes(), submit=submit)
    except DomainError as error:
        if _wants_json():  # desk.js saving the other panels of a family before a page reload
            db.session.rollback()
            return _error_json(error)
        refused(error)
        # Keep what was typed: the panel shows it again with the refusal.
        draft = request.form.to_dict(flat=False)
        draft.pop("csrf_token", None)
        session["application_draft"] = {"check_in_id": record.id, "form": draft, "fields": {
            name: str(message) for name, message in error.fields.items()}}
        return redirect(back)
    if _wants_json():
        return jsonify(delivery=assessment.delivery, sentence=applications.delivery_sentence(assessment))
    if submit:
        flash(_("Application handed in: %(name)s. %(delivery)s",
                name=record.person.name, delivery=applications.delivery_sentence(assessment)), "success")
    else:
        flash(_("Saved: %(name)s.", name=record.person.name), "success")
    return redirect(back)


@bp.post("/check-ins/<int:check_in_id>/application/assess")
@role_required(*DESK_ROLES)
def application_assess(check_in_id: int) -> ResponseReturnValue:
    """Mail or counter for what the panel shows now, while the clerk ticks; nothing is written."""
    record = db.get_or_404(CheckIn, check_in_id)
    form = ApplicationForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        assessment = applications.preview(record, form.changes())
    except DomainError as error:
        db.session.rollback()
        return _error_json(error)
    db.session.rollback()  # a preview: nothing of it may be kept
    return jsonify(
        delivery=assessment.delivery,
        sentence=applications.delivery_sentence(assessment),
        reasons=[{"code": code, "text": str(applications.REASON_TEXTS[code])} for code in assessment.reasons],
        missing=assessment.missing,
        needs_representative=assessment.needs_representative,
    )


@bp.post("/check-ins/<int:check_in_id>/photo")
@role_required(*DESK_ROLES)
def upload_photo(check_in_id: int) -> ResponseReturnValue:
    # Refuse an oversized body from its Content-Length, before any of it is read.
    if (request.content_length or 0) > max_upload_bytes():
        abort(413)
    record = db.get_or_404(CheckIn, check_in_id)
    reservation = record.person.reservation
    back = url_for(".check_in_screen", reservation_id=reservation.id,
                   session=request.args.get("session", type=bounded_int) or reservation.slot.desk_session_id)
    if not PhotoForm().validate_on_submit():
        abort(400)
    upload = request.files.get("photo")
    try:
        if upload is None or not upload.filename:
            raise DomainError("invalid_photo", _l("Take a photo or choose a photo file first."))
        try:
            photo = photos.attach_photo(request_actor(), record, upload.stream)
        finally:
            upload.close()  # a large upload is spooled to a temporary file: close it now
    except DomainError as error:
        if _wants_json():
            return _error_json(error)
        refused(error)
        return redirect(back)
    if _wants_json():
        return jsonify(
            width=photo.width, height=photo.height, bytes=photo.byte_size,
            url=url_for(".show_photo", check_in_id=record.id, v=photo.storage_name[:8]),
            message=_("Photo saved (%(w)s \u00d7 %(h)s).", w=photo.width, h=photo.height),
        ), 201
    flash(_("Photo saved (%(w)s \u00d7 %(h)s).", w=photo.width, h=photo.height), "success")
    return redirect(back)


@bp.get("/check-ins/<int:check_in_id>/photo.jpg")
@role_required(*DESK_ROLES)
def show_photo(check_in_id: int) -> ResponseReturnValue:
    download = request.args.get("download") == "1"
    try:
        _photo, data = photos.read_photo(request_actor(), check_in_id, download=download)
    except DomainError as error:
        abort(status_for(error.code))
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="photo-{check_in_id}.jpg"'
    return current_app.response_class(data, mimetype="image/jpeg", headers=headers)


# --- walk-ins ------------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/walk-in", methods=["GET", "POST"])
@role_required(*DESK_ROLES)
def walk_in(session_id: int) -> ResponseReturnValue:
    desk_session = _session_or_404(session_id)
    search = WalkInSearchForm(request.args)
    form = WalkInForm()
    status, existing_id = 200, None
    staff_id = form.staff_id.data if request.method == "POST" else request.args.get("staff_id", type=bounded_int)
    chosen = db.session.get(Staff, staff_id) if staff_id else None
    if staff_id and chosen is None:
        abort(404)
    if chosen is not None:
        form.staff_id.data = chosen.id
        form.dependent_ids.choices = [(d.id, d.name) for d in chosen.dependents]
    if request.method == "POST":
        if form.validate_on_submit():
            assert chosen is not None, "staff_id is required, and one that names nobody was a 404 above"
            try:
                result = checkin.walk_in(
                    request_actor(), desk_session, chosen, dependent_ids=form.dependent_ids.data or [],
                    override_reason=form.override_reason.data if form.over_capacity.data else None,
                )
            except DomainError as error:
                status = refused(error, form)
                existing_id = error.extra.get("reservation_id")
                chosen = db.session.get(Staff, staff_id)
            else:
                first, last = _span(result.reservation)
                if first is last:
                    flash(_("Seated at %(time)s and checked in. Take the photo now.",
                            time=clock(first.starts_at)), "success")
                else:
                    flash(_("Seated from %(time)s, the last of them at %(last)s, and checked in. "
                            "Take the photos now.", time=clock(first.starts_at), last=clock(last.starts_at)),
                          "success")
                return redirect(url_for(".check_in_screen", reservation_id=result.reservation.id,
                                        session=desk_session.id))
        else:
            status = 422
    results = checkin.find_staff(search.q.data) if search.q.data and chosen is None else []
    booked = checkin.active_reservations_of(
        [s.id for s in results] + ([chosen.id] if chosen else []), desk_session.campaign_id)
    if chosen is not None and existing_id is None and chosen.id in booked:
        existing_id = booked[chosen.id].id
    notices = {d.id: applicants.notices(d, desk_session.date) for d in chosen.dependents} if chosen else {}
    return render_template("desk/walk_in.html", desk_session=desk_session, search=search, form=form,
                           results=results, chosen=chosen, existing_id=existing_id, booked=booked,
                           notices=notices, board=board(desk_session, utcnow())), status


# --- no-shows per unit --------------------------------------------------------------------


@bp.get("/no-shows")
@role_required("admin", "chief", "clerk")
def no_shows() -> ResponseReturnValue:
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.booking_opens_at.desc())).all()
    campaign_id = request.args.get("campaign", type=bounded_int)
    if campaign_id is None and campaigns:
        campaign_id = checkin.recent_campaign_id() or campaigns[0].id
    groups = checkin.no_shows_by_unit(campaign_id=campaign_id, unit_ids=visible_unit_ids(current_user))
    return render_template("desk/no_shows.html", campaigns=campaigns, campaign_id=campaign_id, groups=groups)


# --- photo retention (admin) ---------------------------------------------------------------


@bp.route("/photo-retention", methods=["GET", "POST"])
@role_required("admin")
def photo_retention() -> ResponseReturnValue:
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.booking_opens_at.desc())).all()
    status = 200
    if request.method == "POST":
        campaign = db.get_or_404(Campaign, request.form.get("campaign_id", type=bounded_int) or 0)
        form = RetentionForm()
        if form.validate_on_submit():
            from ..web import request_actor

            try:
                moved = photos.set_retention(request_actor(), campaign, form.photo_retention_days.data)
            except DomainError as error:
                db.session.rollback()
                flash(str(error.message), "error")
                status = status_for(error.code)
            else:
                flash(_("%(title)s: photos are kept %(days)s days after their session (%(n)s photos updated).",
                        title=campaign.title, days=campaign.photo_retention_days, n=moved), "success")
                return redirect(url_for(".photo_retention"))
        else:
            flash(_("Enter a number of days from 1 to 3650."), "error")
            status = 422
    forms = {c.id: RetentionForm(formdata=None, photo_retention_days=c.photo_retention_days) for c in campaigns}
    return render_template("desk/photo_retention.html", campaigns=campaigns, forms=forms), status

