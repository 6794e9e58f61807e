"""A real SMTP server (aiosmtpd) for the mail tests, a port per test, and helpers to run the real
worker process against the test's database."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from booking import worker
from booking.extensions import db

ROOT = Path(__file__).resolve().parents[2]


class Inbox:
    """Every message the server accepted, parsed; ``refuse`` makes it answer 550 to an address."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope: Envelope, address: str, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope: Envelope):
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted"

    def wait_for(self, count: int, timeout: float = 60.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


FAST = {
    "MAIL_RETRY_FIRST_SECONDS": 0.5,
    "MAIL_RETRY_FACTOR": 1.5,
    "MAIL_RETRY_MAX_SECONDS": 2.0,
    "MAIL_GIVE_UP_SECONDS": 600.0,
    "WORKER_POLL_SECONDS": 0.2,
}


@pytest.fixture
def mail_app(app, smtp, tmp_path):
    """The test app sending to the test's SMTP server, with a queue the worker processes share."""
    app.config.update(SMTP_URL=smtp.url, MAIL_FROM="Outreach Desk <desk@example.jp>",
                      JOBS_STORAGE=f"sqlite:///{tmp_path / 'jobs.sqlite3'}", **FAST)
    worker.init_app(app)
    return app


class Workers:
    """Real ``flask --app booking worker`` processes on the test's database."""

    def __init__(self, app, log_dir: Path) -> None:
        self.app = app
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def env(self) -> dict[str, str]:
        config = self.app.config
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "SMTP_URL"))}
        env.update({
            "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": config["SECRET_KEY"],
            "PUBLIC_BASE_URL": config["PUBLIC_BASE_URL"],
            "PHOTO_DIR": config["PHOTO_DIR"],
            "SMTP_URL": config.get("SMTP_URL", ""),
            "MAIL_FROM": config.get("MAIL_FROM", ""),
            "JOBS_STORAGE": config["JOBS_STORAGE"],
            **{k: str(v) for k, v in FAST.items()},
        })
        return env

    def start(self, count: int = 1) -> None:
        with self.app.app_context():
            db.session.remove()
        for _ in range(count):
            log = self.log_dir / f"worker-{len(self.logs)}.log"
            self.logs.append(log)
            with log.open("wb") as out:
                self.processes.append(subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "booking", "worker"], cwd=ROOT, env=self.env(),
                    stdout=out, stderr=subprocess.STDOUT))

    def stop(self) -> list[int]:
        codes = []
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                codes.append(process.wait(timeout=20))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(process.wait())
        self.processes = []
        return codes

    def wait_started(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all("consumer started" in log.read_text(errors="replace") for log in self.logs):
                return
            time.sleep(0.1)
        raise AssertionError(self.output())

    def output(self) -> str:
        return "".join(log.read_text(errors="replace") for log in self.logs)


@pytest.fixture
def workers(mail_app, tmp_path):
    running = Workers(mail_app, tmp_path)
    yield running
    running.stop()
