"""Request-level wiring shared by every blueprint: locale, filters, headers, health."""
from __future__ import annotations

from datetime import date, datetime

from flask import (
    Flask,
    current_app,
    has_request_context,
    jsonify,
    render_template,
    request,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import format_date, format_time, get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, HTTPException

from .extensions import db
from .localtime import TOKYO
from .navigation import office_nav
from .services import tokens

LANG_COOKIE = "lang"

#: HTTP status of each domain refusal, for pages and the JSON API alike.
DOMAIN_STATUS = {
    "invalid": 422,
    "invalid_import": 422,
    "individual_number_refused": 422,
    "booking_closed": 422,
    "invalid_photo": 422,
    "not_found": 404,
    "duplicate": 409,
    "slot_full": 409,
    "already_reserved": 409,
    "already_checked_in": 409,
    "cancelled": 409,
    "not_cancellable": 409,
    "not_movable": 409,
    "not_started": 409,
    "changed_meanwhile": 409,
    "invalid_qr": 400,
    "invalid_invitation": 403,
    "not_targeted": 403,
    "forbidden": 403,
    "unauthorized": 401,
    "too_many_attempts": 429,
    "too_large": 413,
    # Office pages (issue 3)
    "last_admin": 409,
    "session_conflict": 409,
    "session_started": 409,
    "no_room": 409,
    "import_changed": 409,
    "import_started": 409,
    # The photo folder's disk is full (issue 7): the server cannot take it now.
    "photo_storage_full": 503,
    "in_use": 409,
    "session_over": 409,
    # Shift-aware planning (issue 8)
    "already_decided": 409,
}


def status_for(code: str) -> int:
    return DOMAIN_STATUS.get(code, 400)


def select_locale() -> str:
    """Pages: the visitor's choice, else Japanese. The JSON API follows Accept-Language."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # Command line (flask create-user…) and background work: no visitor to ask.
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/"):
        # By path, not blueprint: a 404 under /api/ matches no view but still answers
        # the caller's language; the pages' cookie must not override Accept-Language.
        return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return "Asia/Tokyo"


def _as_local(value: datetime | date) -> datetime | date:
    return value.astimezone(TOKYO) if isinstance(value, datetime) else value


def day_label(value: datetime | date, year: bool = False) -> str:
    """7月10日(木) in Japanese, Thu 10 July in English; with ``year``, 2026年7月10日(金) and
    Fri 10 July 2026 (documents that are kept, such as a personal-data disclosure)."""
    value = _as_local(value)
    day = value.date() if isinstance(value, datetime) else value
    if str(get_locale()) == "ja":
        return format_date(day, "y年M月d日(E)" if year else "M月d日(E)")
    return format_date(day, "EEE d MMMM y" if year else "EEE d MMMM")


def clock(value: datetime) -> str:
    return format_time(_as_local(value).timetz().replace(tzinfo=None), "HH:mm")


def when(value: datetime, year: bool = False) -> str:
    """7月10日(木) 15:00 (2026年7月10日(金) 15:00 with ``year``)"""
    return f"{day_label(value, year)} {clock(value)}"


class _SchemeAwareSessions(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (directly, or through a
    trusted proxy's X-Forwarded-Proto), even when SESSION_COOKIE_SECURE was not set."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or (has_request_context() and request.is_secure))


class UnstorableInput(BadRequest):
    """A request value that no database here can keep; its description is written for people
    and shown on the error page (other 400s, such as an expired CSRF token, are not)."""


def configure(app: Flask) -> None:
    app.session_interface = _SchemeAwareSessions()
    app.jinja_env.filters.update(day_label=day_label, clock=clock, when=when, code=tokens.format_code)
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.globals["office_nav"] = office_nav

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.after_request
    def remember_language(response):
        chosen = request.args.get("lang")
        if chosen in app.config["LANGUAGES"] and request.blueprint != "api":
            response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                                secure=request.is_secure)
        return response

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    @app.before_request
    def refuse_nul_characters():
        """A NUL in a query or form value: PostgreSQL cannot store or even compare it (a 500
        there, silently kept on SQLite), and nobody types one. JSON bodies: api.common.body."""
        values = list(request.args.values())
        if not request.path.startswith("/api/") and request.method == "POST":
            values += list(request.form.values())
        if any("\x00" in value for value in values):
            raise UnstorableInput(_("A field holds a NUL character, which cannot be stored. "
                                    "Remove it and send the form again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        """Pages get a page that says what to do; anything under /api/ gets JSON."""
        if request.path.startswith("/api/"):
            from .api.errors import http_error as api_http_error

            return api_http_error(error)
        db.session.rollback()
        explanation = error.description if isinstance(error, UnstorableInput) else None
        return render_template("errors/error.html", error=error, explanation=explanation), error.code

    configure_outage(app)


#: Seconds a client is asked to wait after a database outage (Retry-After).
OUTAGE_RETRY_SECONDS = 30


def configure_outage(app: Flask) -> None:
    """Issue 7: a database that is down, read-only or full answers 503, never a stack trace.

    OperationalError covers a PostgreSQL restart (connection refused or cut),
    SQLite's "attempt to write a readonly database" and "database or disk is
    full"; the pool's pre-ping replaces dead connections, so the app recovers
    by itself once the database is back. IntegrityError and other programming
    errors are not outages and stay 500s.
    """
    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

    def database_unavailable(error: Exception):
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001  (the connection may be gone; the pool discards it)
            pass
        current_app.logger.warning("database unavailable: %s", error.__class__.__name__, exc_info=error)
        message = _("The service cannot reach its database at the moment. Nothing was saved. "
                    "Please try again in a minute.")
        if request.path.startswith("/api/"):
            response = jsonify(error="unavailable", message=message)
        else:
            response = app.make_response(render_template("errors/unavailable.html", message=message))
        response.status_code = 503
        response.headers["Retry-After"] = str(OUTAGE_RETRY_SECONDS)
        response.headers["Cache-Control"] = "no-store"
        return response

    import sqlite3

    # sqlite3's own error too: begin_write (services/database.py) calls the driver directly.
    for exception in (OperationalError, InterfaceError, DisconnectionError, sqlite3.OperationalError):
        app.register_error_handler(exception, database_unavailable)
