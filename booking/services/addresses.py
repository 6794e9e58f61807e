"""The booker's own mail address: asked for on their booking page, used once they open the link
sent to it (so that a typo never sends their bookings to a stranger), and kept over later staff
imports until they change it again."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from ..localtime import utcnow
from ..models import Reservation, Staff
from . import audit, outbox, tokens
from .actor import Actor
from .errors import DomainError, invalid
from .guard import refuse_individual_numbers
from .staff_import import EMAIL_PATTERN

PURPOSE = "email-confirm"


def confirm_token(staff: Staff) -> str:
    return tokens.url_token(PURPOSE, staff.id, staff.pending_email_nonce)


def request_change(actor: Actor, reservation: Reservation, email: str, *, now: datetime | None = None) -> None:
    """Send a confirmation link to ``email``; the address on record stays until it is opened."""
    now = now or utcnow()
    staff = reservation.staff
    if actor.staff is None or actor.staff.id != staff.id:
        raise DomainError("forbidden", _l("This reservation is not yours."))
    email = (email or "").strip()
    refuse_individual_numbers({"email": email})
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise invalid(email=_l("This is not an email address."))
    staff.pending_email = email
    staff.pending_email_nonce = tokens.new_nonce()
    outbox.enqueue("address", reservation, now=now, to=email, nonce=staff.pending_email_nonce)
    audit.record("staff.email_requested", actor=actor, target_type="staff", target_id=staff.id)


def confirm(actor: Actor, reservation: Reservation, token: str, *, now: datetime | None = None) -> Staff:
    """The booker opened the link: the pending address becomes theirs."""
    now = now or utcnow()
    staff = reservation.staff
    if not staff.pending_email or not staff.pending_email_nonce or not tokens.same(confirm_token(staff), token):
        raise DomainError("not_found", _l(
            "This confirmation link is no longer valid. Enter your address again on your booking page."))
    staff.email = staff.pending_email
    staff.email_confirmed_at = now
    staff.email_failure = ""
    staff.pending_email = ""
    staff.pending_email_nonce = ""
    audit.record("staff.email_confirmed", actor=actor, target_type="staff", target_id=staff.id)
    return staff
