"""Limits on guessing secrets, shared between the pages and the JSON API.

Each limit is one Flask-Limiter *shared* limit: every view decorated with it counts
against the same bucket per address, so a guesser cannot double the allowance by
alternating between the booker's form and the API. Only failures are counted
(``deduct_when``), so normal use never runs into them.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Response, current_app, request

from .extensions import limiter


def _wrong_invitation(response: Response) -> bool:
    """A wrong staff number or invitation code: the form's 403, or the API's invalid_invitation."""
    if response.status_code != 403:
        return False
    if request.path.startswith("/api/"):
        return (response.get_json(silent=True) or {}).get("error") == "invalid_invitation"
    return True


def _unknown_link(response: Response) -> bool:
    """A manage token or invitation link that matches nothing (tampered, revoked or guessed)."""
    return response.status_code == 404


#: Wrong invitation codes, on the booker's sign-in form and POST /api/v1/reservations alike.
invitation_codes = limiter.shared_limit(
    lambda: current_app.config["INVITATION_ATTEMPTS_LIMIT"], scope="invitation-code",
    methods=["POST"], deduct_when=_wrong_invitation,
)

#: Unknown manage tokens and invitation links, on /r/<token>…, /i/<token>… and /api/v1/reservations/<token>….
secret_links = limiter.shared_limit(
    lambda: current_app.config.get("SECRET_LINK_ATTEMPTS_LIMIT", "30 per 15 minutes"), scope="secret-link",
    deduct_when=_unknown_link,
)


def retry_at() -> datetime | None:
    """When the limit just breached ends (for the messages that say when to try again)."""
    current = limiter.current_limit
    if current is None or not current.breached or not current.reset_at:
        return None
    # reset_at is rounded up to the next whole second: never say more than one window.
    latest = datetime.now(UTC) + timedelta(seconds=current.limit.get_expiry())
    return min(datetime.fromtimestamp(current.reset_at, UTC), latest)
