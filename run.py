"""Serve Outreach Desk with gunicorn (a production WSGI server) and one background worker.

    python run.py            # upgrade the database, then serve on 127.0.0.1:5000
    python run.py --demo     # the same, seeding the Fukushima-like demo into an empty database
    python run.py --no-worker  # the web server alone (workers run elsewhere: flask --app booking worker)

The worker (``flask --app booking worker``: mail and the scheduled jobs) runs as a child process
and stops with the server.

Settings come from environment variables (see README); gunicorn.conf.py sets
workers and timeouts.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

from flask_migrate import upgrade
from gunicorn.app.base import Application
from sqlalchemy import select

from booking import create_app
from booking.extensions import db


class Server(Application):
    """gunicorn serving the app object built here, with gunicorn.conf.py and our options."""

    def __init__(self, app, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def init(self, parser, opts, args):
        return None

    def load_config(self):
        config_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gunicorn.conf.py")
        if os.path.exists(config_file):
            self.load_config_from_file(config_file)
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def base_url_for(bind: str, configured: str) -> str:
    """The address to print and to put in links: the configured PUBLIC_BASE_URL when someone set
    one, else where --bind serves (a wildcard address becomes this machine's loopback, which a
    browser here can open)."""
    if ("PUBLIC_BASE_URL" in os.environ or configured.rstrip("/") != DEFAULT_BASE_URL
            or bind.startswith(("unix:", "fd://"))):
        return configured.rstrip("/")
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        return configured.rstrip("/")
    if host in ("0.0.0.0", "*"):
        host = "127.0.0.1"
    elif host in ("[::]", "::"):
        host = "[::1]"
    return f"http://{host}:{port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", action="store_true", help="seed demo data into an empty database")
    parser.add_argument("--bind", default=os.environ.get("BIND", "127.0.0.1:5000"))
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--no-worker", action="store_true",
                        help="do not start the background worker (mail, reminders, nightly jobs) beside the server")
    args = parser.parse_args(argv)

    app = create_app()
    # Links the demo prints (and those made outside a request) name the port actually served.
    app.config["PUBLIC_BASE_URL"] = base_url_for(args.bind, app.config["PUBLIC_BASE_URL"])
    with app.app_context():
        upgrade()
        if args.demo:
            from booking.demo import seed
            from booking.models import Unit

            if db.session.scalar(select(Unit.id).limit(1)) is None:
                with app.test_request_context(base_url=app.config["PUBLIC_BASE_URL"]):
                    summary = seed()
                    db.session.commit()
                print(summary, flush=True)
            else:
                print("The database already holds data; the demo was not seeded again.", flush=True)
                print("Delete instance/outreach-desk.sqlite3 to start over.", flush=True)
        # gunicorn forks the workers from this process: connections opened here for the
        # migrations must not be inherited (two workers on one PostgreSQL socket).
        db.engine.dispose()
    options = {"bind": args.bind}
    if args.workers:
        options["workers"] = args.workers
    worker = None if args.no_worker else start_worker()
    print(f"Serving on {args.bind}: open {app.config['PUBLIC_BASE_URL']}/ (Ctrl+C to stop)", flush=True)
    try:
        Server(app, options).run()
    finally:
        if worker is not None:
            stop_worker(worker)
    return 0


def start_worker() -> subprocess.Popen:
    """``flask --app booking worker`` as a child with this process's environment; on Linux it is
    told to stop if this process dies without stopping it (PR_SET_PDEATHSIG)."""
    def die_with_parent() -> None:
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    here = os.path.dirname(os.path.abspath(__file__))
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "booking", "worker"], cwd=here,
                            # No thread runs in this process yet (gunicorn has not started).
                            preexec_fn=die_with_parent if sys.platform.startswith("linux") else None)  # noqa: PLW1509


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


if __name__ == "__main__":
    sys.exit(main())
