"""Configuration from environment variables, with an optional instance/config.py on top."""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

# Registers the "desk-sqlite" rate-limit storage scheme before Flask-Limiter reads the URI
# (absolute: create_app's from_pyfile("config.py") also executes this file outside its package).
from booking import ratelimit_storage


def _instance_secret(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated into instance/ on first run.

    Several hosts must share one key (set SECRET_KEY): invitation links, manage
    links and QR codes are derived from it.
    """
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def from_environment(instance_path: Path) -> dict:
    default_db = f"sqlite:///{instance_path / 'outreach-desk.sqlite3'}"
    database_url = os.environ.get("DATABASE_URL", default_db)
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://"):]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    return {
        "SECRET_KEY": _instance_secret(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        # Used for links made outside a request (CLI, demo) and for calendar UIDs.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        # Photos are personal data: kept outside static/ and never served as files.
        "PHOTO_DIR": os.environ.get("PHOTO_DIR", str(instance_path / "photos")),
        **rate_limit_storage(os.environ.get("REDIS_URL", ""), rate_limit_file(database_url, instance_path)),
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "") == "1",
        # Number of proxies in front of the app whose X-Forwarded-* headers to trust.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        # Admins must set up two-step sign-in (TOTP) before they can use any office page.
        "REQUIRE_TOTP_FOR_ADMINS": os.environ.get("REQUIRE_TOTP_FOR_ADMINS", "") == "1",
        # Renewal opens about three months before a card expires (reference/desk-process.md); the
        # rule may widen, so "expires within N months" in the reports defaults to this.
        "CARD_EXPIRY_WINDOW_MONTHS": int(os.environ.get("CARD_EXPIRY_WINDOW_MONTHS", "3")),
        **import_job_settings(os.environ),
        **mail_settings(os.environ, database_url, instance_path),
    }


def mail_settings(environ: Mapping[str, str], database_url: str, instance_path: Path) -> dict:
    """Mail (API.md "Notifications by e-mail") and the worker's queue (booking/worker.py).

    Without SMTP_URL nothing is sent: messages are kept as not sent, for admins to read. The
    retry pauses and the worker's polling are settings so that tests can shorten them.
    """
    settings: dict[str, object] = {
        "SMTP_URL": environ.get("SMTP_URL", ""),
        "MAIL_FROM": environ.get("MAIL_FROM", ""),
        "JOBS_STORAGE": jobs_storage(environ, database_url, instance_path),
    }
    for name in ("MAIL_RETRY_FIRST_SECONDS", "MAIL_RETRY_FACTOR", "MAIL_RETRY_MAX_SECONDS",
                 "MAIL_GIVE_UP_SECONDS", "MAIL_LEASE_SECONDS", "MAIL_SMTP_TIMEOUT", "WORKER_POLL_SECONDS",
                 "WAKE_COALESCE_SECONDS"):
        if environ.get(name):
            settings[name] = float(environ[name])
    return settings


def jobs_storage(environ: Mapping[str, str], database_url: str, instance_path: Path) -> str:
    """Where the worker's queue lives: Redis when REDIS_URL is set, else the PostgreSQL database
    itself, else a SQLite file beside the database (``…jobs.sqlite3``); JOBS_STORAGE overrides."""
    if environ.get("JOBS_STORAGE"):
        return environ["JOBS_STORAGE"]
    if environ.get("REDIS_URL"):
        return environ["REDIS_URL"]
    if database_url.startswith("postgresql"):
        return database_url
    counts = Path(rate_limit_file(database_url, instance_path))
    return "sqlite:///" + str(counts.with_name(counts.name.replace("rate-limits", "jobs")))


def import_job_settings(environ: Mapping[str, str]) -> dict[str, int | float]:
    """Staff imports (services/import_jobs.py): lines per transaction, and the seconds without
    progress after which a running import counts as dead and the progress page resumes it."""
    settings: dict[str, int | float] = {}
    if environ.get("STAFF_IMPORT_CHUNK_LINES"):
        settings["STAFF_IMPORT_CHUNK_LINES"] = int(environ["STAFF_IMPORT_CHUNK_LINES"])
    if environ.get("STAFF_IMPORT_STALE_SECONDS"):
        settings["STAFF_IMPORT_STALE_SECONDS"] = float(environ["STAFF_IMPORT_STALE_SECONDS"])
    # The offline desk: how long a tablet keeps the roster and queue (docs/operations.md).
    if environ.get("DESK_OFFLINE_KEEP_MINUTES"):
        settings["DESK_OFFLINE_KEEP_MINUTES"] = int(environ["DESK_OFFLINE_KEEP_MINUTES"])
    return settings


def rate_limit_file(database_url: str, instance_path: Path) -> str:
    """Where the workers of this host share their rate-limit counts without Redis: beside the
    SQLite database (``outreach-desk.rate-limits.sqlite3``), or in instance/ on PostgreSQL."""
    prefix = "sqlite:///"
    database = database_url[len(prefix):].split("?")[0] if database_url.startswith(prefix) else ""
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        return str(path.with_name(f"{path.name.removesuffix('.sqlite3')}.rate-limits.sqlite3"))
    return str(instance_path / "rate-limits.sqlite3")


def rate_limit_storage(redis_url: str, counts_file: str | None = None) -> dict:
    """Where Flask-Limiter counts (wrong invitation codes, sign-ins, unknown links…).

    With REDIS_URL every worker and host shares one count in Redis. Without it the workers of
    this host share one count in a small SQLite file (booking/ratelimit_storage.py), so that a
    guesser cannot multiply the allowance by the number of workers either way. If the storage
    stops answering, each worker falls back to counting in memory rather than failing the
    request, and goes back to the shared count once it answers again.
    """
    if not redis_url:
        if counts_file is None:
            return {"RATELIMIT_STORAGE_URI": "memory://"}
        return {
            "RATELIMIT_STORAGE_URI": ratelimit_storage.uri_for(counts_file),
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            # A wrong code counted after the answer on a full or read-only disk: log it, never
            # turn the answer into a 500 (the check before the view falls back to memory).
            "RATELIMIT_SWALLOW_ERRORS": True,
        }
    return {
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "outreach-desk"),
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    }


def engine_options(database_url: str) -> dict:
    if database_url.startswith("sqlite"):
        from .sqlite_gate import GatedConnection

        # timeout: how long a writer waits for the lock (the busy timeout);
        # factory: writers that call begin_write queue at a gate instead of
        # sleeping in SQLite's busy handler (see booking/sqlite_gate.py).
        return {"connect_args": {"timeout": 15, "factory": GatedConnection}}
    # PostgreSQL: each gunicorn worker has its own pool. A worker runs WEB_THREADS
    # requests at once (4), so 5 connections plus 5 in a burst are plenty, and
    # 4 workers on each of several hosts stay well under max_connections (100).
    # pre_ping replaces connections the server or a proxy closed (a restart,
    # a failover) before a request uses them; recycle renews them every 30 min.
    return {
        "pool_pre_ping": True,
        "pool_size": int(os.environ.get("DB_POOL_SIZE", "5")),
        "max_overflow": int(os.environ.get("DB_MAX_OVERFLOW", "5")),
        "pool_timeout": 10,
        "pool_recycle": 1800,
    }


DEFAULTS = {
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    # Bodies above this are refused with 413 before they are read whole.
    "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
    "API_MAX_JSON_BYTES": 64 * 1024,
    "BABEL_DEFAULT_LOCALE": "ja",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Tokyo",
    "LANGUAGES": ("ja", "en"),
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # No X-RateLimit-* headers on every answer: each costs Flask-Limiter two more storage
    # reads (two Redis round trips per booking when scaled out); a refusal still says
    # when to try again, in Retry-After and in its message.
    "RATELIMIT_HEADERS_ENABLED": False,
    # Wrong invitation codes allowed per staff number before that number's code attempts are
    # refused with too_many_attempts (its invitation link keeps working).
    "INVITATION_ATTEMPTS_LIMIT": "10 per 15 minutes",
    # Wrong invitation codes allowed per address, whatever the numbers: a station behind one
    # NAT address is held up for two minutes at most by one person's typing, while a guesser
    # trying many numbers from one address gets 60 an hour.
    "INVITATION_ADDRESS_LIMIT": "10 per 2 minutes; 60 per hour",
    "WTF_CSRF_TIME_LIMIT": None,
    "REQUIRE_TOTP_FOR_ADMINS": False,
    # Wrong second-step codes allowed per account before its code step pauses.
    "OFFICE_CODE_LIMIT": "5 per 15 minutes",
    # Mail delivery (services/mail_delivery.py): first retry after 20 s, each pause 3 times the
    # last, at most 4 hours apart, given up 26 hours after the message was queued.
    "MAIL_RETRY_FIRST_SECONDS": 20.0,
    "MAIL_RETRY_FACTOR": 3.0,
    "MAIL_RETRY_MAX_SECONDS": 4 * 3600.0,
    "MAIL_GIVE_UP_SECONDS": 26 * 3600.0,
    "MAIL_LEASE_SECONDS": 300.0,
    "MAIL_SMTP_TIMEOUT": 20.0,
    "WORKER_POLL_SECONDS": 1.0,
    # A web process wakes the worker at most once in this window; a commit inside it gets one
    # wake-up at its end (worker.Waker). 0: a wake-up after every commit that wrote messages.
    "WAKE_COALESCE_SECONDS": 0.5,
    # The offline desk (issue 20): a device wipes the roster and queue it keeps this long after
    # it last fetched the roster, or at the end of the session's day if that comes first.
    "DESK_OFFLINE_KEEP_MINUTES": 12 * 60,
    # How often the offline desk tries to send its queue while it has one (seconds).
    "DESK_OFFLINE_RETRY_SECONDS": 20,
}
