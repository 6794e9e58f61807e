"""What the office sees of the mail (DESIGN.md rule 10): each message's kind, address, status,
attempts and last error; its text (personal data) only through ``read``, which is audited."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import MESSAGE_KINDS, MESSAGE_STATUSES, OutboxMessage, Reservation
from . import audit, tokens
from .accounts import require_role
from .actor import Actor
from .errors import NotFound, invalid

KIND_LABELS = {
    "confirmation": _l("Confirmation"),
    "changed": _l("Changed"),
    "cancelled": _l("Cancelled"),
    "reminder": _l("Reminder"),
    "approval": _l("Chief's answer"),
    "address": _l("Address confirmation"),
    "digest": _l("Chief's digest"),
    "waitlist_offer": _l("Seats offered from the waiting list"),
}
STATUS_LABELS = {
    "queued": _l("Waiting to be sent"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "not_sent": _l("Not sent"),
}
#: Roles that see the messages: the admin (every message), and the desk and phone screens of a
#: booking (clerks see the list of a booking's messages there, never the text).
LIST_ROLES = ("admin", "clerk")


@dataclass
class MessageFilter:
    kind: str = ""
    status: str = ""
    reservation_code: str = ""


def search(actor: Actor, filters: MessageFilter, *, limit: int = 200) -> list[OutboxMessage]:
    """Messages, newest first, narrowed by kind, status and booking (admin)."""
    require_role(actor, "admin")
    query = (select(OutboxMessage).options(joinedload(OutboxMessage.reservation))
             .order_by(OutboxMessage.id.desc()).limit(limit))
    if filters.kind:
        if filters.kind not in MESSAGE_KINDS:
            raise invalid(kind=_l("Unknown kind of message."))
        query = query.where(OutboxMessage.kind == filters.kind)
    if filters.status:
        if filters.status not in MESSAGE_STATUSES:
            raise invalid(status=_l("Unknown status."))
        query = query.where(OutboxMessage.status == filters.status)
    if filters.reservation_code:
        code = tokens.normalise_code(filters.reservation_code)
        reservation_id = db.session.scalar(select(Reservation.id).where(Reservation.code == code))
        if reservation_id is None:
            return []
        query = query.where(OutboxMessage.reservation_id == reservation_id)
    return list(db.session.scalars(query))


def of_reservation(actor: Actor, reservation: Reservation) -> list[OutboxMessage]:
    """A booking's messages, oldest first, for its page on the desk and phone screens."""
    require_role(actor, *LIST_ROLES)
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.reservation_id == reservation.id).order_by(OutboxMessage.id)))


def read(actor: Actor, message_id: int) -> OutboxMessage:
    """One message with its text as sent; every read is recorded (``message.read``)."""
    require_role(actor, "admin")
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(_l("No such message."))
    audit.record("message.read", actor=actor, target_type="message", target_id=message.id,
                 kind=message.kind, reservation_id=message.reservation_id)
    return message


def failed_count() -> int:
    """Deliveries that failed for good, for the office home page."""
    return db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "failed")) or 0


def unreached(reservations: list[Reservation], *, since: datetime) -> dict[int, str]:
    """The bookings of a change whose people mail does not reach, with why: no address, an
    address that refused mail (5xx), or this change's message failed. The office calls them."""
    failed = set(db.session.scalars(
        select(OutboxMessage.reservation_id).where(
            OutboxMessage.reservation_id.in_([r.id for r in reservations]),
            OutboxMessage.status == "failed", OutboxMessage.created_at >= since)))
    reasons: dict[int, str] = {}
    for reservation in reservations:
        staff = reservation.staff
        if not (staff.email or "").strip():
            reasons[reservation.id] = str(_l("No mail address"))
        elif staff.email_failure:
            reasons[reservation.id] = str(_l("The address refuses mail"))
        elif reservation.id in failed:
            reasons[reservation.id] = str(_l("The mail could not be delivered"))
    return reasons
