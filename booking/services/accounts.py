"""Office accounts: signing in and out, the API token of a request, roles.

The acts on accounts (create, change, reset, tokens) are in services.users."""
from __future__ import annotations

from dataclasses import replace

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import ROLES, ApiToken, User
from . import audit, tokens
from .actor import Actor
from .errors import DomainError, invalid


def ensure_user(username: str, role: str, *, unit_code: str | None = None, password: str | None = None) -> User:
    """The office user, created when missing and brought to the given role and unit.

    For setting up the demo and tests only: it checks no account rule and writes no audit
    event. Office acts on accounts (the pages and the command line) go through services.users.
    """
    if role not in ROLES:
        raise invalid(role=_l("Use admin, chief, clerk or hq."))
    unit = None
    if unit_code:
        from .directory import unit_by_code  # directory checks roles with this module

        unit = unit_by_code(unit_code)
        if unit is None:
            raise invalid(unit=_l("No unit has the code %(code)s.", code=unit_code))
    if role == "chief" and unit is None:
        raise invalid(unit=_l("A chief must be bound to a unit."))
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, role=role)
        db.session.add(user)
    user.role = role
    user.unit = unit
    if password is not None:
        user.password_hash = generate_password_hash(password)
    db.session.flush()
    return user


def end_sessions(user: User) -> None:
    """End every page session signed in as the user so far, on every browser and device.

    A session keeps the user's session version (User.get_id) and the user loader refuses one
    whose version is not the current one. Part of the acts that call it (sign-out, a password
    change or reset, a role change, disabling, a change of second factor), which write the event.
    API tokens are not sessions: they stay valid until revoked.
    """
    user.session_version = (user.session_version or 0) + 1
    db.session.flush()


def signed_in(actor: Actor, user: User, *, method: str | None = None, **details: object) -> None:
    """Record a sign-in on the pages (the actor is the request's, before the user was known);
    ``method`` names the second step taken: ``totp`` or ``recovery_code``."""
    audit.record("login", actor=replace(actor, user=user), target_type="user", target_id=user.id, method=method,
                 **details)


def signed_out(actor: Actor) -> None:
    """Sign out: the session, and any other session of the same account (a cookie copied before
    the sign-out opens nothing afterwards). Recorded before the session forgets who signed out."""
    if actor.user is not None:
        end_sessions(actor.user)
    audit.record("logout", actor=actor, target_type="user", target_id=actor.user.id if actor.user else "")


#: What a password is checked against when there is no account to check it against: the hash of
#: a random password nobody knows, made by werkzeug's default (the method every stored hash uses).
#: A constant, so that checking against it costs one key derivation, as a real account does.
_NO_ACCOUNT_HASH = (
    "scrypt:32768:8:1$TPhJVMDNzLcOCxAj$7297630991377071a4b47b2b9e2ef02410600bd9199f4eb07009a89af04dd992"
    "fe67c55ace523e29e6e941b5f7f28f94d173a97ba7da7e343ca7cd08ad058494"
)


def authenticate(username: str, password: str) -> User | None:
    """The active account with this username and password, else None.

    Exactly one password hash is checked whatever the username: an unknown, switched-off or
    password-less account is checked against ``_NO_ACCOUNT_HASH``, so that the time a sign-in
    takes does not tell which usernames exist (issue 17: hashing a fresh password for a missing
    account made it take twice as long as a wrong password).
    """
    user = db.session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None and user.is_active and user.password_hash else None
    matches = check_password_hash(stored or _NO_ACCOUNT_HASH, password or "")
    return user if stored is not None and matches else None


def issue_api_token(user: User) -> str:
    """A new bearer token for the user; only its hash is kept."""
    token = tokens.new_api_token()
    db.session.add(ApiToken(user=user, token_hash=tokens.digest(token)))
    db.session.flush()
    return token


def user_for_api_token(token: str) -> User | None:
    if not token:
        return None
    row = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == tokens.digest(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.is_active:
        return None
    return row.user


def require_role(who: User | Actor | None, *roles: str) -> None:
    """Refuse unless an office user with one of the roles acts (an Actor or the User itself).

    The command line and the system itself act with no account and are let through: an operator
    on the server, a scheduled job, the demo seeding. A page or API actor always needs one.
    """
    if isinstance(who, Actor) and who.user is None and who.channel in ("cli", "system"):
        return
    user = who.user if isinstance(who, Actor) else who
    if user is None or user.role not in roles:
        raise DomainError("forbidden", _l("Your account may not do this."))
