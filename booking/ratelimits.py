"""Limits on guessing secrets, shared between the pages and the JSON API.

Each limit is one Flask-Limiter *shared* limit: every view decorated with it counts
against the same bucket per address (wrong invitation codes: per staff number too), so a
guesser cannot double the allowance by alternating between the booker's form and the API.
Only failures are counted (``deduct_when``), so normal use never runs into them. Without
Redis the counts live in a file every worker of the host shares (ratelimit_storage.py).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from flask import Response, current_app, g, request

from .extensions import limiter

View = TypeVar("View", bound=Callable[..., Any])


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


def _staff_number() -> str:
    """The staff number a code was typed for (form field or JSON body), as it is looked up;
    empty when there is none, and Flask-Limiter then skips the per-number limit."""
    if request.path.startswith("/api/"):
        limit = current_app.config["API_MAX_JSON_BYTES"]
        if (request.content_length or 0) > limit:
            return ""  # refused with 413 by api.common.body; nothing to read
        request.max_content_length = limit + 1  # as api.common.body does: never read past it
        data = request.get_json(silent=True, cache=True)
        number = data.get("staff_number") if isinstance(data, dict) else None
    else:
        number = request.form.get("staff_number")
    if not isinstance(number, str):
        return ""
    from .services.invitations import normalise_staff_number

    return normalise_staff_number(number)[:64]


def _office_token() -> bool:
    """An admin's valid API token: the office booking over the phone is not a guesser, and an
    admin can read any invitation code anyway, so no code guessing is opened by exempting it.
    A missing or wrong token is not exempt (and a wrong one is refused with 401 by the view)."""
    if "exempt_office_token" not in g:  # asked once per limit; the token is looked up once
        g.exempt_office_token = _admin_token()
    return g.exempt_office_token


def _admin_token() -> bool:
    header = request.headers.get("Authorization", "")
    if not request.path.startswith("/api/") or not header:
        return False
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    from .services.accounts import user_for_api_token

    user = user_for_api_token(token.strip())
    if user is not None:
        g.api_user = user  # api.common.api_user() reuses it instead of looking the token up again
    return user is not None and user.role == "admin"


#: Wrong invitation codes per address, on the booker's sign-in form and POST /api/v1/reservations
#: alike: short windows, so that one person's typos hold up a station behind one NAT address
#: for minutes at most.
_codes_by_address = limiter.shared_limit(
    lambda: current_app.config.get("INVITATION_ADDRESS_LIMIT", "10 per 2 minutes; 60 per hour"),
    scope="invitation-code", methods=["POST"], deduct_when=_wrong_invitation, exempt_when=_office_token,
)

#: Wrong invitation codes per staff number, from any address: a tripped number's code attempts
#: wait (429 with the time), its personal invitation link (/i/<token>) is not touched.
_codes_by_number = limiter.shared_limit(
    lambda: current_app.config["INVITATION_ATTEMPTS_LIMIT"], scope="invitation-code-number",
    key_func=_staff_number, methods=["POST"], deduct_when=_wrong_invitation, exempt_when=_office_token,
)


def invitation_codes(view: View) -> View:
    """Both limits on wrong invitation codes, as one decorator for the views that take a code."""
    return cast(View, _codes_by_address(_codes_by_number(view)))


#: Unknown manage tokens and invitation links, on /r/<token>…, /i/<token>… and /api/v1/reservations/<token>….
secret_links = limiter.shared_limit(
    lambda: current_app.config.get("SECRET_LINK_ATTEMPTS_LIMIT", "30 per 15 minutes"), scope="secret-link",
    deduct_when=_unknown_link,
)

#: Unknown chiefs' calendar feed addresses (/chiefs/calendar/<token>.ics). A bucket of its own,
#: larger than the links': calendar services poll every subscribed feed from a few shared
#: addresses, and a feed renewed by its chief keeps being polled at the old address for a while;
#: those 404s must not soon hold up the other chiefs' feeds fetched from the same address.
calendar_feeds = limiter.shared_limit(
    lambda: current_app.config.get("CALENDAR_FEED_ATTEMPTS_LIMIT", "60 per 15 minutes"), scope="calendar-feed",
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
