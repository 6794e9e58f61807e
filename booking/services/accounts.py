"""Office accounts and their API tokens."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import ROLES, ApiToken, User
from . import tokens
from .actor import Actor
from .errors import DomainError, invalid


def ensure_user(username: str, role: str, *, unit_code: str | None = None, password: str | None = None) -> User:
    """The office user, created when missing and brought to the given role and unit."""
    if role not in ROLES:
        raise invalid(role=_l("Use admin, chief or clerk."))
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


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active or not user.password_hash:
        # Hash anyway so that a missing account takes as long as a wrong password.
        check_password_hash(generate_password_hash("x"), password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


def issue_api_token(user: User) -> str:
    """A new bearer token for the user; only its hash is kept."""
    token = tokens.new_api_token()
    db.session.add(ApiToken(user=user, token_hash=tokens.digest(token)))
    db.session.flush()
    return token


def revoke_api_tokens(*, username: str | None = None, token: str | None = None) -> int:
    """Revoke one token (given the token itself) or every live token of a user; returns how many."""
    from ..localtime import utcnow

    query = select(ApiToken).where(ApiToken.revoked_at.is_(None))
    if token:
        query = query.where(ApiToken.token_hash == tokens.digest(token))
    elif username:
        query = query.join(ApiToken.user).where(User.username == username)
    else:
        raise invalid(token=_l("Name the token or the user whose tokens to revoke."))
    rows = list(db.session.scalars(query))
    for row in rows:
        row.revoked_at = utcnow()
    db.session.flush()
    return len(rows)


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
    """Refuse unless an office user with one of the roles acts (an Actor or the User itself)."""
    user = who.user if isinstance(who, Actor) else who
    if user is None or user.role not in roles:
        raise DomainError("forbidden", _l("Your account may not do this."))
