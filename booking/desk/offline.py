"""The desk that keeps working offline: its page, the roster the device keeps, the queue's
endpoint, and the service worker and manifest that make the desk an installable web app.

Everything here is served by the app itself (the CSP stays 'self'); the page is a shell with
no personal data in it, which static/js/desk-offline.js fills from the roster it keeps.
"""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from flask import abort, current_app, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf

from ..auth import role_required
from ..converters import bounded_int
from ..localtime import TOKYO, utcnow
from ..models import DeskSession
from ..services import applications, offline
from ..services.errors import DomainError
from ..services.slots import session_bounds
from ..web import request_actor
from . import bp
from .forms import ApplicationForm
from .views import DESK_ROLES, _error_json, _session_or_404, max_upload_bytes

#: What the service worker keeps for offline use besides the page itself.
STATIC_FILES = ("css/app.css", "css/print.css", "css/desk.css", "img/favicon.svg", "js/office-nav.js",
                "js/vendor/jsQR.js", "js/desk-offline.js", "img/desk-192.png", "img/desk-512.png")


@bp.get("/sessions/<int:session_id>/offline")
@role_required(*DESK_ROLES)
def offline_desk(session_id: int) -> ResponseReturnValue:
    desk_session = _session_or_404(session_id)
    return render_template("desk/offline.html", desk_session=desk_session, max_upload=max_upload_bytes())


@bp.get("/sessions/<int:session_id>/roster.json")
@role_required(*DESK_ROLES)
def offline_roster(session_id: int) -> ResponseReturnValue:
    """The session's roster for the device, and a fresh CSRF token for sending its queue."""
    desk_session = _session_or_404(session_id)
    now = utcnow()
    response = jsonify(
        session_id=desk_session.id,
        date=desk_session.date.isoformat(),
        generated_at=now.isoformat(),
        wipe_at=_wipe_at(desk_session, now).isoformat(),
        csrf_token=generate_csrf(),
        allows_single_photo_id_with_pin=desk_session.campaign.allows_single_photo_id_with_pin,
        documents=[{"code": d.code, "name": str(d.name), "group": d.group} for d in applications.identity_documents()],
        reservations=offline.roster(desk_session),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _wipe_at(desk_session: DeskSession, now: datetime) -> datetime:
    """When the device wipes what it keeps: at the end of the session's day (or of the session,
    when it runs past midnight), or the campaign's ``desk_offline_keep_minutes`` (when the section
    left it empty, the DESK_OFFLINE_KEEP_MINUTES setting) after it fetched the roster, whichever
    comes first."""
    _start, end = session_bounds(desk_session.date, desk_session.start_time, desk_session.end_time)
    day_end = datetime.combine(desk_session.date + timedelta(days=1), time(0), tzinfo=TOKYO)
    minutes = desk_session.campaign.desk_offline_keep_minutes
    if minutes is None:
        minutes = int(current_app.config.get("DESK_OFFLINE_KEEP_MINUTES", 12 * 60))
    keep = timedelta(minutes=minutes)
    return min(max(day_end, end), now + keep)


def _made_at(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@bp.post("/sessions/<int:session_id>/actions")
@role_required(*DESK_ROLES)
def offline_action(session_id: int) -> ResponseReturnValue:
    """One queued action (multipart form): applied once per ``action_id``; the answer says
    ``applied``, ``note`` or ``conflict``. A malformed action is a 400 with the reasons."""
    if (request.content_length or 0) > max_upload_bytes():
        abort(413)
    desk_session = _session_or_404(session_id)
    form = request.form
    action = offline.Action(
        action_id=form.get("action_id", ""), device_id=form.get("device_id", ""), kind=form.get("kind", ""),
        made_at=_made_at(form.get("made_at")),
        reservation_id=form.get("reservation_id", type=bounded_int),
        slot_id=form.get("slot_id", type=bounded_int),
        people=[p for p in form.getlist("people", type=bounded_int) if p],
        person_id=form.get("person_id", type=bounded_int),
    )
    upload = request.files.get("photo")
    if action.kind == "application":
        application_form = ApplicationForm(meta={"csrf": False})
        if not application_form.validate():
            return jsonify(error="invalid", fields={k: " ".join(map(str, v))
                                                    for k, v in application_form.errors.items()}), 422
        # Only what the tablet's panel shows: the rest of the record stays as it is (as in the API).
        shown = set(form.getlist("fields"))
        action.changes = {k: v for k, v in application_form.changes().items() if k in shown}
        action.submit = application_form.action.data == "submit"
    try:
        if upload is not None and upload.filename:
            action.photo = upload.stream
        record = offline.apply(request_actor(), desk_session, action)
    except DomainError as error:
        return _error_json(error)
    finally:
        if upload is not None:
            upload.close()
    return jsonify(record.answer)


# --- the installable web app ------------------------------------------------------------------


def _static_version() -> str:
    """A digest of the files the worker keeps: a deploy that changes one changes the worker, so
    that tablets drop the old files at their next visit online."""
    digest = hashlib.sha256()
    folder = Path(current_app.static_folder or "static")
    for name in STATIC_FILES:
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()[:16]


@bp.get("/sw.js")
def service_worker() -> ResponseReturnValue:
    """The service worker, from /desk/ so that its scope is the desk; never cached by HTTP so
    that a new version is found at the next visit online."""
    body = render_template("desk/sw.js", files=[url_for("static", filename=f) for f in STATIC_FILES],
                           version=_static_version())
    return current_app.response_class(body, mimetype="text/javascript",
                                      headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/desk/"})


@bp.get("/manifest.webmanifest")
def manifest() -> ResponseReturnValue:
    body = jsonify(
        name="Outreach Desk", short_name="Desk", start_url=url_for("desk.index"), scope=url_for("desk.index"),
        display="standalone", background_color="#ffffff", theme_color="#1d4f91", lang="ja",
        icons=[{"src": url_for("static", filename="img/desk-192.png"), "sizes": "192x192", "type": "image/png"},
               {"src": url_for("static", filename="img/desk-512.png"), "sizes": "512x512", "type": "image/png"}],
    )
    body.mimetype = "application/manifest+json"
    return body

