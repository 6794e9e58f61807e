"""The background worker: huey's consumer runs the mail delivery and the scheduled jobs.

Where huey keeps its queue (``JOBS_STORAGE``, set by config.jobs_storage):
- ``redis://…`` when ``REDIS_URL`` is set (several hosts share it);
- ``postgresql://…``: on PostgreSQL without Redis, huey's own PostgreSQL storage (its tables
  ``jobs_huey_*`` in the application's database, LISTEN/NOTIFY to wake the consumers), so that
  every host still shares one queue;
- ``sqlite:///…``: the embedded default, a file beside the database.

The queue only carries "look at the outbox now" (after a commit that wrote messages, and when
a retry falls due) and the scheduler's minute tick. What must happen lives in the database: the
outbox rows (services/outbox.py, claimed by services/mail_delivery.py) and the claimed runs of
the scheduled jobs (services/schedule.py). A lost queue entry only delays a message to the next
minute's tick, and a task that runs twice finds nothing left to do.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from huey import Huey, MemoryHuey, PostgresHuey, RedisHuey, SqliteHuey, crontab

from .localtime import utcnow

log = logging.getLogger(__name__)


def make_huey(app: Flask) -> Huey:
    """The app's queue with its two tasks (``deliver`` and the ``tick`` every minute)."""
    storage = app.config.get("JOBS_STORAGE") or ""
    name = app.config.get("JOBS_QUEUE_NAME") or "outreach-desk"
    huey: Huey
    if storage.startswith(("redis://", "rediss://", "unix://")):
        huey = RedisHuey(name, url=storage, utc=True)
    elif storage.startswith("postgresql"):
        huey = _postgres_huey(name, storage.replace("postgresql+psycopg://", "postgresql://", 1))
    elif storage.startswith("sqlite:///"):
        huey = SqliteHuey(name, filename=storage[len("sqlite:///"):], utc=True, timeout=15)
    else:
        huey = MemoryHuey(name, utc=True)
    scheduled: dict[str, datetime | None] = {"at": None}
    lock = threading.Lock()

    @huey.task(name="deliver")
    def deliver() -> None:
        from .services import mail_delivery

        with app.app_context():
            mail_delivery.deliver_due()
            follow_up(mail_delivery.next_due())

    def follow_up(due: datetime | None) -> None:
        """A look at the outbox when the next retry falls due before the next tick (at most one
        pending per process, however many wake-ups came)."""
        if due is None:
            return
        now = utcnow()
        if due > now + timedelta(seconds=60):
            return  # the minute tick sees it
        with lock:
            pending = scheduled["at"]
            if pending is not None and now < pending <= due:
                return
            scheduled["at"] = due
        deliver.schedule(delay=max((due - now).total_seconds(), 0.05))

    @huey.periodic_task(crontab(minute="*"), name="tick")
    def tick() -> None:
        from .services import mail_delivery, schedule

        with app.app_context():
            schedule.run_due()
            mail_delivery.deliver_due()
            follow_up(mail_delivery.next_due())

    app.extensions["huey"] = huey
    app.extensions["huey.deliver"] = deliver
    return huey


def _postgres_huey(name: str, dsn: str) -> Huey:
    """huey's PostgreSQL queue. It creates its tables (IF NOT EXISTS) as it starts, and when two
    processes start together (gunicorn's workers) PostgreSQL refuses the slower one's with a unique
    violation on the table's type: the tables exist by then, so it tries again. Left unhandled, the
    worker failed to boot and gunicorn's master shut the whole server down."""
    import psycopg

    for attempt in range(1, 6):
        try:
            return PostgresHuey(name, dsn=dsn, table_prefix="jobs_huey", utc=True)
        except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable, psycopg.errors.DuplicateObject):
            if attempt == 5:
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def wake(app: Flask) -> None:
    """Tell the workers to look at the outbox (after a commit that wrote messages)."""
    deliver: Any = app.extensions.get("huey.deliver")
    if deliver is not None:
        deliver()


class Waker:
    """Wake-ups of one process, at most one per ``window`` seconds.

    In a rush every booking commits a confirmation, and one look at the outbox sends all that is
    due: a queue write per booking (on PostgreSQL without Redis, a transaction in huey's table)
    is work for nothing. A commit inside the window is not dropped: one wake-up goes at the
    window's end, so no message waits for the minute tick."""

    def __init__(self, send: Callable[[], None], window: float) -> None:
        self.send = send
        self.window = window
        self.lock = threading.Lock()
        self.last = float("-inf")
        self.trailing: threading.Timer | None = None

    def __call__(self) -> None:
        now = time.monotonic()
        with self.lock:
            if self.trailing is not None:
                return  # the wake-up at the window's end will see this commit's messages too
            if now - self.last >= self.window:
                self.last = now
            else:
                self.trailing = threading.Timer(self.last + self.window - now, self._at_window_end)
                self.trailing.daemon = True
                self.trailing.start()
                return
        self.send()

    def _at_window_end(self) -> None:
        with self.lock:
            self.trailing = None
            self.last = time.monotonic()
        try:
            self.send()
        except Exception:  # the minute tick still sends the messages
            log.warning("could not wake the mail worker", exc_info=True)


def init_app(app: Flask) -> None:
    """Queue a look at the outbox after commits that wrote messages, when a queue is set."""
    if not app.config.get("JOBS_STORAGE"):
        return
    make_huey(app)
    window = float(app.config.get("WAKE_COALESCE_SECONDS", 0.5))
    app.extensions["outbox.wake"] = Waker(lambda: wake(app), window) if window > 0 else (lambda: wake(app))


def run(app: Flask, *, threads: int = 1) -> int:
    """``flask --app booking worker``: consume until SIGTERM or SIGINT, then return 0."""
    huey = app.extensions.get("huey") or make_huey(app)
    consumer = huey.create_consumer(
        workers=threads, periodic=True,
        # Without Redis or PostgreSQL's blocking reads the consumer polls its queue: at most this
        # often when idle (huey backs off from 0.1 s).
        max_delay=float(app.config.get("WORKER_POLL_SECONDS", 1.0)),
        scheduler_interval=1, check_worker_health=True, graceful_signal="TERM",
    )
    # SIGINT (Ctrl+C) stops as gently as SIGTERM: the task under way finishes, then exit 0.
    consumer._signal_actions[signal.SIGINT] = (False, True)
    # Messages queued while no worker ran go out now rather than at the first tick.
    wake(app)
    consumer.run()
    return 0
