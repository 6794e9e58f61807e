"""The background worker and its clock: worker, run-due-jobs."""
from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from ..localtime import naive_as_tokyo


@click.command("worker")
@click.option("--threads", default=1, show_default=True, help="Tasks run at once in this process.")
@with_appcontext
def worker_command(threads: int) -> None:
    """Send queued mail and run the scheduled jobs until SIGTERM or SIGINT (then exit 0)."""
    import logging
    import signal
    import sys

    def stop_before_start(signum: int, frame: object) -> None:
        sys.exit(0)  # nothing is under way yet; the consumer installs its own handlers when it starts

    signal.signal(signal.SIGTERM, stop_before_start)
    signal.signal(signal.SIGINT, stop_before_start)

    from .. import worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"Worker started; queue: {_safe(app.config.get('JOBS_STORAGE') or 'memory')}", err=True)
    worker.run(app, threads=threads)


@click.command("run-due-jobs")
@click.option("--now", "now_text", default=None,
              help="The clock for this run (ISO 8601; naive means Tokyo), for tests and catching up.")
@click.option("--no-mail", is_flag=True, help="Run the scheduled jobs only, send nothing.")
@with_appcontext
def run_due_jobs(now_text: str | None, no_mail: bool) -> None:
    """Run once, now, what the worker runs: the scheduled jobs due at --now, then the mail due."""
    from ..services import mail_delivery, schedule

    now = naive_as_tokyo(datetime.fromisoformat(now_text)).astimezone(UTC) if now_text else None
    for job, outcome in schedule.run_due(now).items():
        click.echo(f"{job}: {outcome}")
    if not no_mail:
        # Delivery is always on the real clock: retry pauses are real seconds.
        result = mail_delivery.deliver_due()
        click.echo(f"mail: {result.sent} sent, {result.not_sent} kept (not sent), "
                   f"{result.retried} to retry, {result.failed} failed")


def _safe(url: str) -> str:
    """The queue's URL without a password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


COMMANDS = (worker_command, run_due_jobs)
