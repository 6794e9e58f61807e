"""Refusals with a stable code, and the HTTP status each code answers with on pages and the API."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A rule of the domain refused the action.

    ``code`` is stable (tests and API clients rely on it); ``message`` tells the
    person what to do, and may be a lazy translation; ``extra`` carries fields
    the API adds to its error body (for example ``reservation_code``).
    """

    def __init__(self, code: str, message: Any, *, fields: dict | None = None, **extra: Any):
        super().__init__(code)
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.extra = extra

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def invalid(**fields: Any) -> DomainError:
    """The refusal of a form or body whose named fields break a rule (422, each field's message)."""
    return DomainError("invalid", _l("Check the highlighted fields."), fields=fields)


class NotFound(DomainError):
    def __init__(self, message: Any):
        super().__init__("not_found", message)


#: HTTP status of each refusal, for pages and the JSON API alike (a code not listed is 400).
STATUS = {
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
    "last_admin": 409,
    "session_conflict": 409,
    # A session that overlaps another or starts in the past: the page asks to confirm.
    "needs_confirmation": 409,
    "session_started": 409,
    "no_room": 409,
    "import_changed": 409,
    "import_started": 409,
    "in_use": 409,
    "session_over": 409,
    "already_decided": 409,
    "application_incomplete": 409,
    # The card cannot take that step from where it is (services.card_life.NEXT).
    "invalid_transition": 409,
    # The waiting list (services.waitlist).
    "seats_free": 409,
    "already_waiting": 409,
    "offer_closed": 409,
    "offer_expired": 409,
    # The photo folder's disk is full: the server cannot take it now.
    "photo_storage_full": 503,
}


def status_for(code: str) -> int:
    return STATUS.get(code, 400)
