"""Sending the outbox: claim due rows, render each from its facts, hand it to the SMTP server,
and record what happened (services/outbox.py writes the rows).

Claiming: a worker takes due rows in a short transaction that marks them as its own for a lease
(``claimed_until``) — ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that several workers on
several hosts take different rows; on SQLite the write lock (BEGIN IMMEDIATE) serialises the
claims. The result is written in a second transaction. A worker that dies between the two leaves
its rows claimed until the lease ends; then another worker sends them (possibly a second time:
the server may have accepted the message just before the death, which no protocol can tell).

Retries: a temporary failure (no connection, 4xx) is tried again after a growing pause
(``MAIL_RETRY_FIRST_SECONDS``, times ``MAIL_RETRY_FACTOR`` each time, at most
``MAIL_RETRY_MAX_SECONDS``) until ``MAIL_GIVE_UP_SECONDS`` after the message was queued (by
default 20 s, then 1 min, 3 min … up to 4 h between tries, for 26 hours); then it is failed with
the server's last answer. A permanent refusal (5xx) fails it at once and marks the staff member's
address as failing.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app, render_template, url_for
from flask_babel import force_locale
from sqlalchemy import select, update

from ..extensions import db
from ..localtime import utcnow
from ..models import OutboxMessage, Reservation, Staff
from . import confirmations, invitations, tokens, waitlist
from .database import begin_write

log = logging.getLogger(__name__)

#: Messages that carry the booking's calendar file; the cancellation's says STATUS:CANCELLED.
WITH_CALENDAR = ("confirmation", "changed", "cancelled", "approval")
LOCALES = ("ja", "en")


@dataclass
class Outcome:
    sent: int = 0
    not_sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.not_sent + self.retried + self.failed


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


# --- claiming ---------------------------------------------------------------------------


def claim(now: datetime, limit: int = 50) -> list[int]:
    """Take up to ``limit`` due messages for this worker (committed), oldest first."""
    lease = timedelta(seconds=current_app.config.get("MAIL_LEASE_SECONDS", 300))
    begin_write()
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now)
        .where((OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until <= now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(claimed_until=now + lease)
            .execution_options(synchronize_session=False))
    db.session.commit()
    return ids


def deliver_due(now: datetime | None = None, *, limit: int = 50, rounds: int = 1000) -> Outcome:
    """Send everything due now, in batches of ``limit``, over one SMTP connection per batch."""
    outcome = Outcome()
    for _round in range(rounds):
        current = now or utcnow()
        ids = claim(current, limit)
        if not ids:
            break
        _deliver_batch(ids, current, outcome)
    return outcome


def _deliver_batch(ids: list[int], now: datetime, outcome: Outcome) -> None:
    smtp_url = current_app.config.get("SMTP_URL") or ""
    connection: smtplib.SMTP | None = None
    connect_error: str | None = None
    try:
        for message_id in ids:
            message = db.session.get(OutboxMessage, message_id)
            if message is None:
                continue
            email = render(message)
            if not smtp_url or not message.to_address:
                message.status = "not_sent"
                message.last_error = "" if not smtp_url else "no address"
                message.claimed_until = None
                outcome.not_sent += 1
                db.session.commit()
                continue
            message.attempts += 1
            try:
                if connection is None and connect_error is None:
                    try:
                        connection = _connect(smtp_url)
                    except (OSError, smtplib.SMTPException) as error:
                        connect_error = _describe(error)
                if connection is None:
                    raise TemporaryFailure(connect_error)
                _send(connection, email, message.to_address)
            except TemporaryFailure as error:
                _retry_or_fail(message, str(error), now, outcome)
                if connection is not None and not _alive(connection):
                    connection, connect_error = None, None
            except PermanentFailure as error:
                message.status = "failed"
                message.last_error = str(error)[:2000]
                message.claimed_until = None
                if message.staff_id is not None:
                    db.session.execute(
                        update(Staff).where(Staff.id == message.staff_id,
                                            Staff.email == message.to_address)
                        .values(email_failure=str(error)[:500]).execution_options(synchronize_session=False))
                outcome.failed += 1
            else:
                message.status = "sent"
                message.sent_at = utcnow()
                message.last_error = ""
                message.claimed_until = None
                outcome.sent += 1
            db.session.commit()
    finally:
        db.session.rollback()
        if connection is not None:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                pass


def _retry_or_fail(message: OutboxMessage, error: str, now: datetime, outcome: Outcome) -> None:
    config = current_app.config
    first = float(config.get("MAIL_RETRY_FIRST_SECONDS", 20))
    factor = float(config.get("MAIL_RETRY_FACTOR", 3))
    longest = float(config.get("MAIL_RETRY_MAX_SECONDS", 4 * 3600))
    give_up = timedelta(seconds=float(config.get("MAIL_GIVE_UP_SECONDS", 26 * 3600)))
    message.last_error = error[:2000]
    message.claimed_until = None
    if now - message.created_at >= give_up:
        message.status = "failed"
        outcome.failed += 1
        return
    pause = min(first * factor ** max(message.attempts - 1, 0), longest)
    message.next_attempt_at = now + timedelta(seconds=pause)
    outcome.retried += 1


def next_due(now: datetime | None = None) -> datetime | None:
    """When the next queued message is due (the worker schedules a look then)."""
    return db.session.scalar(
        select(OutboxMessage.next_attempt_at).where(OutboxMessage.status == "queued")
        .order_by(OutboxMessage.next_attempt_at).limit(1))


# --- SMTP ---------------------------------------------------------------------------------


def _connect(url: str) -> smtplib.SMTP:
    parts = urlsplit(url)
    timeout = float(current_app.config.get("MAIL_SMTP_TIMEOUT", 20))
    host = parts.hostname or "localhost"
    connection: smtplib.SMTP
    if parts.scheme == "smtps":
        connection = smtplib.SMTP_SSL(host, parts.port or 465, timeout=timeout,
                                      context=ssl.create_default_context())
    else:
        connection = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
        connection.ehlo()
        if connection.has_extn("starttls"):
            connection.starttls(context=ssl.create_default_context())
            connection.ehlo()
    if parts.username:
        connection.login(unquote(parts.username), unquote(parts.password or ""))
    return connection


def _send(connection: smtplib.SMTP, email: EmailMessage, to: str) -> None:
    try:
        refused = connection.send_message(email, to_addrs=[to])
    except smtplib.SMTPRecipientsRefused as error:
        code, answer = next(iter(error.recipients.values()))
        raise _failure(code, answer) from None
    except smtplib.SMTPResponseException as error:
        raise _failure(error.smtp_code, error.smtp_error) from None
    except (OSError, smtplib.SMTPException) as error:
        raise TemporaryFailure(_describe(error)) from None
    if refused:
        code, answer = next(iter(refused.values()))
        raise _failure(code, answer)


def _failure(code: int, answer: bytes | str) -> Exception:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
    described = f"{code} {text}".strip()
    return PermanentFailure(described) if 500 <= code < 600 else TemporaryFailure(described)


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"{error.smtp_code} {text}"
    return f"{type(error).__name__}: {error}"


def _alive(connection: smtplib.SMTP) -> bool:
    try:
        return connection.noop()[0] == 250
    except (OSError, smtplib.SMTPException):
        return False


# --- rendering ------------------------------------------------------------------------------


def render(message: OutboxMessage) -> EmailMessage:
    """The message as it goes out, from its facts and the booking as it is now; its subject and
    text are kept on the row (what the office reads)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    locale = message.locale if message.locale in LOCALES else "ja"
    with app.test_request_context(base_url=app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"), \
            force_locale(locale):
        context = _context(message)
        text = render_template(f"mail/{locale}/{message.kind}.txt", **context)
        calendar = None
        reservation = message.reservation
        if reservation is not None and message.kind in WITH_CALENDAR:
            cancelled = message.kind == "cancelled" or reservation.status == "cancelled"
            calendar = confirmations.calendar_file(
                reservation, method="CANCEL" if cancelled else "REQUEST",
                organizer=_address_only(app.config.get("MAIL_FROM") or ""), attendee=message.to_address or None)
        qr = confirmations.qr_png(reservation) if reservation is not None and message.kind == "confirmation" \
            and reservation.status != "cancelled" else None
    subject, _sep, body = text.partition("\n")
    subject = subject.removeprefix("Subject:").strip()
    body = body.lstrip("\n")
    message.subject, message.body = subject, body
    return _mime(app, message, subject, body, calendar, qr)


def _context(message: OutboxMessage) -> dict[str, Any]:
    reservation = message.reservation
    context: dict[str, Any] = {"message": message, "facts": message.facts or {}, "reason": message.reason}
    if message.kind == "digest" and message.user is not None:
        from . import digests

        context.update(user=message.user, approvals_url=url_for("chiefs.duty_approvals", _external=True),
                       lines=digests.still_waiting(message.user, (message.facts or {}).get("approval_ids", [])))
    if reservation is not None:
        start, end = confirmations.party_span(reservation)
        slot = reservation.slot
        context.update(
            reservation=reservation,
            staff=reservation.staff,
            code=tokens.format_code(reservation.code),
            campaign=reservation.campaign,
            venue=slot.desk_session.venue,
            starts_at=start,
            ends_at=end,
            people=confirmations.people_with_times(reservation),
            manage_url=confirmations.manage_url(reservation),
            book_url=invitations.link_url(reservation.staff),
            previous_start=_instant(message.facts.get("previous_start")),
        )
        if message.kind == "address":
            nonce = (message.facts or {}).get("nonce", "")
            context["confirm_url"] = url_for(
                "public.confirm_email", token=confirmations.manage_token(reservation),
                code=tokens.url_token("email-confirm", reservation.staff_id, nonce), _external=True)
    if message.kind == "waitlist_offer":
        context.update(waitlist.offer_mail_context(int((message.facts or {}).get("entry_id", 0))))
    return context


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _address_only(value: str) -> str | None:
    from email.utils import parseaddr

    return parseaddr(value)[1] or None


def _mime(app: Flask, message: OutboxMessage, subject: str, body: str, calendar: bytes | None,
          qr: bytes | None) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = app.config.get("MAIL_FROM") or "Outreach Desk <no-reply@localhost>"
    email["To"] = message.to_address or "undisclosed-recipients:;"
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(f"outbox-{message.id}")
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(body)
    if qr is not None:
        cid = make_msgid("qr")
        html = "<br>\n".join(escape(line) for line in body.splitlines())
        email.add_alternative(
            f'<html><body><p style="font-family:sans-serif">{html}</p>'
            f'<p><img src="cid:{cid[1:-1]}" alt="QR" width="240" height="240"></p></body></html>',
            subtype="html")
        html_part = list(email.iter_parts())[1]
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(qr, "image", "png", cid=cid, filename="qr.png")
    if calendar is not None:
        method = "CANCEL" if b"METHOD:CANCEL" in calendar else "REQUEST"
        email.add_alternative(calendar.decode("utf-8"), subtype="calendar", params={"method": method})
    return email


def reservation_messages(reservation: Reservation) -> list[OutboxMessage]:
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.reservation_id == reservation.id).order_by(OutboxMessage.id)))
