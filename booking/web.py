"""Request-level wiring shared by every blueprint: locale, filters, headers, health."""
from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit, urlunsplit

from flask import (
    Flask,
    current_app,
    flash,
    g,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue, RouteCallable
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    HTTPException,
    NotFound,
    default_exceptions,
)
from werkzeug.urls import iri_to_uri

from .extensions import db
from .formatting import clock, day_label, day_range, when, when_range
from .localtime import utcnow
from .navigation import office_nav
from .services import tokens
from .services.actor import Actor, Channel
from .services.errors import DomainError, status_for
from .services.reservations import party_span

if TYPE_CHECKING:
    import sqlite3

    from flask import Response
    from sqlalchemy.engine import Dialect, ExceptionContext
    from sqlalchemy.pool import ConnectionPoolEntry

    from .models import Staff

LANG_COOKIE = "lang"


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
    if chosen is not None and chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return "Asia/Tokyo"


class _SchemeAwareSessions(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (directly, or through a
    trusted proxy's X-Forwarded-Proto), even when SESSION_COOKIE_SECURE was not set."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or (has_request_context() and request.is_secure))


class UnstorableInput(BadRequest):
    """A request value that no database here can keep; its description is written for people
    and shown on the error page (other 400s, such as an expired CSRF token, are not)."""


#: How deep a JSON body may nest. The API's bodies are two or three levels deep; Python's parser
#: recurses once per level and a body nested thousands deep ended in a RecursionError (a 500).
MAX_JSON_DEPTH = 32

# A JSON string (escapes included) or one bracket: brackets inside strings do not nest.
_JSON_NESTING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def json_nesting_depth(text: str | bytes) -> int:
    """How deep a JSON text nests, found without recursing (and without parsing it)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    depth = deepest = 0
    for match in _JSON_NESTING.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing a text nested deeper than MAX_JSON_DEPTH before parsing it, as
    the invalid JSON it is for this app: ``request.get_json(silent=True)`` then gives None (the
    rate limits read bodies too, before any view) and without ``silent`` it is a 400."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if json_nesting_depth(s) > MAX_JSON_DEPTH:
            raise ValueError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
        return super().loads(s, **kwargs)


def configure(app: Flask) -> None:
    app.json = BoundedJSONProvider(app)
    app.session_interface = _SchemeAwareSessions()
    app.jinja_env.filters.update(day_label=day_label, clock=clock, when=when, code=tokens.format_code)
    app.jinja_env.globals.update(day_range=day_range, when_range=when_range)
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.globals["office_nav"] = office_nav
    app.jinja_env.globals["party_span"] = party_span

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> ResponseReturnValue:
        """Whether this host can serve: 200, or 503 naming the checks that failed (API.md)."""
        checks = {name: _run_check(check) for name, check in readiness_checks(app)}
        failed = [name for name, outcome in checks.items() if outcome != "ok"]
        response = jsonify(status="unavailable" if failed else "ready", failed=failed, checks=checks)
        response.status_code = 503 if failed else 200
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.after_request
    def remember_language(response: Response) -> Response:
        chosen = request.args.get("lang")
        if chosen is not None and chosen in app.config["LANGUAGES"] and request.blueprint != "api":
            response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                                secure=request.is_secure)
        return response

    @app.after_request
    def retry_after_on_pages(response: Response) -> Response:
        """A rate limit's page says when to try again in words; say it in Retry-After too, as the
        API does (api.errors), so that a 429 page and a 429 JSON answer carry the same time."""
        if response.status_code == 429 and "Retry-After" not in response.headers:
            from .ratelimits import retry_at

            until = retry_at()
            if until is not None:
                response.headers["Retry-After"] = str(max(1, math.ceil((until - datetime.now(UTC)).total_seconds())))
        return response

    @app.after_request
    def security_headers(response: Response) -> Response:
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
    def refuse_nul_characters() -> None:
        """A NUL in a query or form value: PostgreSQL cannot store or even compare it (a 500
        there, silently kept on SQLite), and nobody types one. JSON bodies: api.common.body.
        In the path (a staff number, a token, an import's id) it names nothing that could have
        been stored: 404, before a lookup that PostgreSQL would fail with DataError."""
        if "\x00" in request.path:
            raise NotFound()
        values = list(request.args.values())
        if not request.path.startswith("/api/") and request.method == "POST":
            values += list(request.form.values())
        if any("\x00" in value for value in values):
            raise UnstorableInput(_("A field holds a NUL character, which cannot be stored. "
                                    "Remove it and send the form again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        """Pages get a page that says what to do; anything under /api/ gets JSON."""
        if request.path.startswith("/api/"):
            from .api.errors import http_error as api_http_error

            return api_http_error(error)
        db.session.rollback()
        explanation = error.description if isinstance(error, UnstorableInput) else None
        assert error.code is not None, "Flask hands an HTTPException without a code back unhandled"
        return render_template("errors/error.html", error=error, explanation=explanation), error.code

    configure_outage(app)
    app.register_error_handler(DomainError, domain_refusal)


# --- readiness (/readyz) ----------------------------------------------------------------------


def readiness_checks(app: Flask) -> list[tuple[str, Callable[[], str | None]]]:
    """What a host needs in order to serve, as (name, check) pairs; a check raises or returns a
    reason when it fails. The database always; Redis when REDIS_URL is set; the mail queue when a
    worker queue is configured: "mail_queue" fails when a queued message is overdue by more than
    MAIL_READY_OVERDUE_SECONDS (no worker is sending)."""
    checks: list[tuple[str, Callable[[], str | None]]] = [("database", _database_ready)]
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith(("redis", "rediss")):
        checks.append(("redis", _redis_ready))
    if app.config.get("JOBS_STORAGE"):
        checks.append(("mail_queue", _mail_queue_ready))
    checks.extend(app.extensions.get("readiness_checks", []))  # more seams: app.extensions[...]
    return checks


def _run_check(check: Callable[[], str | None]) -> str:
    try:
        reason = check()
    except Exception as error:  # any failure is "not ready", named, never a 500
        current_app.logger.warning("readiness check failed", exc_info=error)
        return f"failed: {error.__class__.__name__}"
    return f"failed: {reason}" if reason else "ok"


def _database_ready() -> str | None:
    """A fresh round trip on a pooled connection, apart from the request's session; for SQLite
    also whether the file may be written (a read-only file answers SELECT but refuses bookings)."""
    from sqlalchemy import text

    sqlite = db.engine.dialect.name == "sqlite"
    with db.engine.connect() as connection:
        # SQLite: read the schema, so that the file itself is opened and read, not just the driver.
        connection.execute(text("SELECT count(*) FROM sqlite_master" if sqlite else "SELECT 1")).scalar()
    database = db.engine.url.database if sqlite else None
    writable = not database or database == ":memory:" or database.startswith("file:") or os.access(database, os.W_OK)
    return None if writable else "read-only"


def _mail_queue_ready() -> str | None:
    from datetime import timedelta

    from .services import mail_delivery

    due = mail_delivery.next_due()
    overdue = timedelta(seconds=float(current_app.config.get("MAIL_READY_OVERDUE_SECONDS", 900)))
    if due is not None and utcnow() - due > overdue:
        return "messages waiting; is a worker running?"
    return None


def _redis_ready() -> str | None:
    """The rate-limit storage answers a ping (limits' own health check, 1 s socket timeout)."""
    from .extensions import limiter

    return None if limiter.storage.check() else "no answer"


def request_actor(*, staff: Staff | None = None) -> Actor:
    """Who acts in this request: the booker given, else the API token's or the signed-in user."""
    channel: Channel = "api" if request.blueprint == "api" else "page"
    if staff is not None:
        return Actor(channel, staff=staff, address=request.remote_addr or "")
    if channel == "api":
        user = g.get("api_user")
    else:
        user = current_user._get_current_object() if current_user.is_authenticated else None
    return Actor(channel, user=user, address=request.remote_addr or "")


# --- one transaction per request ------------------------------------------------------------


def commit_per_request(app: Flask) -> None:
    """Every view runs in one transaction, committed here and nowhere else (DESIGN rule 12).

    A view that answers below 400 is committed; a refusal (4xx), an error page or an
    exception is rolled back, so a refused act leaves nothing behind. The commit runs inside
    the view's call, so a database that fails at commit still meets the 503 handlers.
    Events that must outlive a refusal are written by ``audit.record_apart``.
    """
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = _one_transaction(view)


def after_commit(callback: Callable[[], object]) -> None:
    """Run ``callback`` once this request's transaction has committed (never if it rolls back):
    for work another connection or process must see committed, such as starting a job."""
    g.setdefault("after_commit", []).append(callback)


def _one_transaction(route: RouteCallable) -> Callable[..., Response]:
    # Every view here is synchronous (no async def): Flask would otherwise wrap it in ensure_sync.
    view = cast(Callable[..., ResponseReturnValue], route)

    @wraps(view)
    def run(*args: Any, **kwargs: Any) -> Response:
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            g.pop("after_commit", None)
            _end_transaction(commit=False)
            raise
        callbacks = g.pop("after_commit", [])
        committed = response.status_code < 400
        _end_transaction(commit=committed)
        if committed:
            for callback in callbacks:
                callback()
        return response

    return run


def _end_transaction(*, commit: bool) -> None:
    if not db.session.registry.has():
        return  # the view never touched the database (the health check, static pages)
    if commit:
        db.session.commit()
    else:
        db.session.rollback()


def domain_refusal(error: DomainError) -> ResponseReturnValue:
    """A refusal no view presented itself: JSON under /api/, else a page that says what to do.

    Out of reach is 403 and missing is 404; a refused form post goes back where it came from
    with the message; anything else is an error page with the message and a way on.
    """
    db.session.rollback()
    if request.path.startswith("/api/"):
        from .api.errors import error_response

        return error_response(error.code, error.message, fields=error.fields, **error.extra)
    if error.code == "forbidden":
        return render_template("errors/error.html", error=Forbidden(description=str(error.message))), 403
    if error.code == "not_found":
        return render_template("errors/error.html", error=NotFound(description=str(error.message))), 404
    status = status_for(error.code)
    back = same_site_url(request.referrer)
    if request.method == "POST" and request.blueprint == "office":
        back = back or url_for("office.overview")
    if request.method == "POST" and back:
        flash(str(error.message), "error")
        return redirect(back)
    exception = default_exceptions.get(status, HTTPException)(description=str(error.message))
    return render_template("errors/error.html", error=exception, explanation=str(error.message)), status


def same_site_url(url: str | None) -> str | None:
    """The page of this site an absolute address (a referrer to go back to) names, as a path with
    its query, else None: another host or scheme, or a path ``local_path`` refuses."""
    if not url or len(url) > MAX_LOCAL_PATH:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced [ in the host
        return None
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    return local_path(urlunsplit(("", "", parts.path, parts.query, parts.fragment)))


#: Longer ``next`` or ``back`` values are refused rather than parsed (a page's own address with
#: its query is far shorter).
MAX_LOCAL_PATH = 2000

#: Unicode categories never found in an address of this site: controls (tab, CR, LF, NUL…), format
#: characters (zero-width ones), line and paragraph separators, and every kind of space.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})


def local_path(value: str | None) -> str | None:
    """A page of this site to send or link a visitor to (``next``, ``back``), as an absolute
    path with its query, else None: anything that could lead a browser elsewhere is refused.

    Parsed, not prefix-checked (issue 17: ``/%09/evil.example/`` started with one slash, and
    browsers drop the tab and go to ``//evil.example/``). Refused: control, format and space
    characters anywhere (browsers remove some of them from URLs, and CR/LF end a header), any
    backslash (browsers read it as a slash), a scheme or host, a path that does not start with
    one slash or that starts with two once its dot segments (``.``, ``..``, ``%2e``) are
    resolved. What is left is given back ASCII-only (non-ASCII percent-encoded).
    """
    if not value or len(value) > MAX_LOCAL_PATH or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value:
        return None
    if any(unicodedata.category(character) in _REFUSED_CATEGORIES for character in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    path = _without_dot_segments(parts.path)
    if path.startswith("//"):
        return None
    return iri_to_uri(urlunsplit(("", "", path, parts.query, parts.fragment)))


def _without_dot_segments(path: str) -> str:
    """RFC 3986's remove_dot_segments, with ``%2e`` read as a dot as browsers do."""
    output: list[str] = []
    segments = path.split("/")[1:]
    for index, segment in enumerate(segments):
        dots = segment.lower().replace("%2e", ".")
        last = index == len(segments) - 1
        if dots == ".":
            if last:
                output.append("")
        elif dots == "..":
            if output:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)


#: Seconds a client is asked to wait after a database outage (Retry-After).
OUTAGE_RETRY_SECONDS = 30


def configure_outage(app: Flask) -> None:
    """A database that is down, read-only or full answers 503, never a stack trace.

    OperationalError covers a PostgreSQL restart (connection refused or cut),
    SQLite's "attempt to write a readonly database" and "database or disk is
    full"; the pool's pre-ping replaces dead connections, so the app recovers
    by itself once the database is back. IntegrityError and other programming
    errors are not outages and stay 500s.

    Issue 17: SQLite opens a file it may not write *read-only* and keeps it so for the life of
    the connection, even after the file is writable again; pooled, such connections failed
    every write until the workers were restarted. A connection that met the database
    read-only (or could not open it) is therefore treated as a dead one: SQLAlchemy drops it
    and every connection pooled before it (``handle_error`` below), and a failure the driver
    raised outside SQLAlchemy (``begin_write``) drops them in the 503 handler. The next request
    opens fresh connections and is served as soon as the file can be written again.
    """
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "handle_error")
        def read_only_is_a_dead_connection(context: ExceptionContext) -> None:
            if _sqlite_cannot_write(context.original_exception):
                context.is_disconnect = True  # invalidates this connection and the pool's older ones

        @event.listens_for(engine, "do_connect")
        def writable_companions(dialect: Dialect, conn_rec: ConnectionPoolEntry, cargs: list[Any],
                                cparams: dict[str, Any]) -> None:
            _match_companion_modes(cargs[0] if cargs else cparams.get("database"))

    def database_unavailable(error: Exception) -> Response:
        try:
            db.session.rollback()
        except Exception:
            current_app.logger.debug("rollback after a database failure failed", exc_info=True)
        if _sqlite_error(error) is not None and not _sqlite_busy(error):
            # Read-only, full, or the write gate's lock file unusable: the connections may have
            # been opened read-only meanwhile; a busy database is no reason to drop them.
            _drop_connections()
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

    # sqlite3's own error too: begin_write (services/database.py) calls the driver directly.
    for exception in (OperationalError, InterfaceError, DisconnectionError, sqlite3.OperationalError):
        app.register_error_handler(exception, database_unavailable)


#: SQLite result codes after which a connection cannot write until it is reopened.
_SQLITE_CANNOT_WRITE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR")


def _sqlite_error(error: BaseException | None) -> sqlite3.Error | None:
    import sqlite3

    original = getattr(error, "orig", None) or error
    return original if isinstance(original, sqlite3.Error) else None


def _sqlite_cannot_write(error: BaseException | None) -> bool:
    """The SQLite driver said the database is read-only, cannot be opened or failed at I/O."""
    original = _sqlite_error(error)
    if original is None:
        return False
    name = getattr(original, "sqlite_errorname", "") or ""
    return name.startswith(_SQLITE_CANNOT_WRITE) or "readonly database" in str(original)


def _sqlite_busy(error: BaseException | None) -> bool:
    """Another writer holds the lock: the connection itself is fine and stays pooled."""
    original = _sqlite_error(error)
    name = getattr(original, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in str(original)


def _match_companion_modes(database: str | None) -> None:
    """Give the -wal and -shm files the database file's mode again before a connection opens it.

    SQLite creates these files with the database file's mode, and gives an empty -wal that
    mode whenever it opens one; a connection opened while the file was read-only leaves them
    read-only (0444), and the next connection after ``chmod 644`` then opens read-only
    through them, failing one more write per worker. This does what SQLite would do on that
    open, a step earlier; a file this process does not own is left alone.
    """
    import stat

    if not isinstance(database, str) or not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        mode = stat.S_IMODE(os.stat(database).st_mode)
    except OSError:
        return
    if not mode & stat.S_IWUSR:
        return  # still read-only: nothing to match yet
    for suffix in ("-wal", "-shm"):
        try:
            if stat.S_IMODE(os.stat(database + suffix).st_mode) != mode:
                os.chmod(database + suffix, mode)
        except OSError:
            pass


def _drop_connections() -> None:
    """Close this request's connection and every pooled one: the next checkout opens anew."""
    try:
        db.session.close()
        db.engine.dispose()
    except Exception:  # closing a broken connection may fail too; it is gone either way
        current_app.logger.warning("could not close the database connections", exc_info=True)
