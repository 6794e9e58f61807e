"""Office accounts: create, change role or unit, disable, reset a password, and API tokens.

Every act takes the Actor and refuses anyone but an admin (or the operator on the command
line), and keeps the same rules whichever page, command or test calls it: the password
length, the username format, a chief's unit and at least one active admin.
"""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from ..extensions import db
from ..localtime import utcnow
from ..models import ROLES, ApiToken, Unit, User
from . import audit, tokens
from .accounts import end_sessions, issue_api_token, require_role
from .actor import Actor
from .directory import unit_by_code
from .errors import DomainError, NotFound, invalid
from .guard import refuse_individual_numbers

MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[A-Za-z0-9_.@\-]{3,80}$")



def list_users(actor: Actor) -> list[User]:
    require_role(actor, "admin")
    return list(db.session.scalars(select(User).order_by(User.is_active.desc(), User.username)))


def get_user(actor: Actor, user_id: int) -> User:
    require_role(actor, "admin")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    return user


def user_by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.username) == (username or "").strip().lower()))


def check_password(password: str, *, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise invalid(**{field: _l("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)})


def _unit(role: str, unit_id: int | None) -> Unit | None:
    if role not in ROLES:
        raise invalid(role=_l("Use admin, chief, clerk or hq."))
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit_id and unit is None:
        raise invalid(unit_id=_l("No such unit."))
    if role == "chief" and unit is None:
        raise invalid(unit_id=_l("A chief must be bound to a unit."))
    # Only a chief's reach is bounded by a unit; keeping one on others would mislead.
    return unit if role == "chief" else None


def _unit_id_for_code(unit_code: str | None) -> int | None:
    """The unit named by its code (the command line's --unit), refused when no unit has it."""
    if not unit_code:
        return None
    unit = unit_by_code(unit_code)
    if unit is None:
        raise invalid(unit_id=_l("No unit has the code %(code)s.", code=unit_code))
    return unit.id


def _email(email: str | None) -> str:
    """An office user's address for the digest, checked as the staff import checks one."""
    from .staff_import import EMAIL_PATTERN

    email = (email or "").strip()
    refuse_individual_numbers({"email": email})
    if email and (len(email) > 254 or not EMAIL_PATTERN.match(email)):
        raise invalid(email=_l("This is not an email address."))
    return email


def _new_user(*, username: str, display_name: str, role: str, unit_id: int | None,
              password: str | None, email: str = "") -> User:
    """Check and add a user; without a password (an API-only account) it cannot sign in on pages."""
    username = (username or "").strip()
    refuse_individual_numbers({"username": username, "display_name": display_name})
    if not _USERNAME.match(username):
        raise invalid(username=_l("Use 3 to 80 letters, digits and . _ - @ only."))
    if user_by_username(username) is not None:
        raise DomainError("duplicate", _l("The username %(name)s is taken. Choose another.", name=username),
                          fields={"username": _l("This username is taken.")})
    unit = _unit(role, unit_id)
    if password is not None:
        check_password(password)
    user = User(username=username, display_name=(display_name or "").strip(), role=role, unit=unit,
                email=_email(email), password_hash=generate_password_hash(password) if password is not None else None,
                is_active=True)
    db.session.add(user)
    db.session.flush()
    return user


def create_user(actor: Actor, *, username: str, display_name: str, role: str,
                unit_id: int | None, password: str, email: str = "") -> User:
    require_role(actor, "admin")
    user = _new_user(username=username, display_name=display_name, role=role, unit_id=unit_id,
                     password=password, email=email)
    audit.record("user.create", actor=actor, target_type="user", target_id=user.id, username=user.username,
                 role=user.role)
    return user


def _other_active_admins(user: User) -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(User.role == "admin", User.is_active.is_(True), User.id != user.id)
    ) or 0


def _change(actor: Actor, user: User, *, display_name: str, role: str, unit_id: int | None,
            is_active: bool, email: str | None = None) -> list[str]:
    """Apply the rules of a change and the change itself; the names of the fields changed."""
    refuse_individual_numbers({"display_name": display_name})
    unit = _unit(role, unit_id)
    losing_admin = user.role == "admin" and user.is_active and (role != "admin" or not is_active)
    if losing_admin and _other_active_admins(user) == 0:
        # Nobody could then manage accounts in the browser again.
        raise DomainError("last_admin", _l(
            "This is the last active admin. Make another user admin first."),
            fields={"role": _l("Keep at least one active admin.")})
    if actor.user is not None and user.id == actor.user.id and not is_active:
        raise invalid(is_active=_l("You cannot disable your own account."))
    changed = []
    new = {"display_name": (display_name or "").strip(), "role": role,
           "unit_id": unit.id if unit else None, "is_active": bool(is_active),
           "email": user.email if email is None else _email(email)}
    for name, value in new.items():
        if getattr(user, name) != value:
            changed.append(name)
            setattr(user, name, value)
    if "role" in changed or "is_active" in changed:
        # What the sessions were signed in for no longer holds: sign in again with the new role
        # (and a disabled account re-enabled later does not bring its old sessions back).
        end_sessions(user)
    db.session.flush()
    return changed


def update_user(actor: Actor, user: User, *, display_name: str, role: str, unit_id: int | None,
                is_active: bool, email: str | None = None) -> list[str]:
    """Change a user's name, role, unit, address (kept when None) or whether they may sign in;
    returns the fields changed."""
    require_role(actor, "admin")
    changed = _change(actor, user, display_name=display_name, role=role, unit_id=unit_id, is_active=is_active,
                      email=email)
    if changed:
        audit.record("user.update", actor=actor, target_type="user", target_id=user.id, username=user.username,
                     changed=changed, role=user.role, is_active=user.is_active)
    return changed


def reset_password(actor: Actor, user: User, password: str) -> None:
    """Set a new password that the admin hands over; the old one stops working at once, and so
    does every session signed in with it."""
    require_role(actor, "admin")
    check_password(password)
    user.password_hash = generate_password_hash(password)
    end_sessions(user)
    db.session.flush()
    audit.record("user.password_reset", actor=actor, target_type="user", target_id=user.id,
                 username=user.username)


def _bring_to(actor: Actor, *, username: str, role: str, unit_code: str | None,
              password: str | None) -> tuple[User, list[str]]:
    """The user created when missing, else brought to the role and unit (and password, if given).

    The rules are the office page's: username format, password length, a chief's unit and the
    last active admin. Returns the user and what changed ("created" for a new one).
    """
    unit_id = _unit_id_for_code(unit_code)
    user = user_by_username(username)
    if user is None:
        return _new_user(username=username, display_name="", role=role, unit_id=unit_id,
                         password=password), ["created"]
    changed = _change(actor, user, display_name=user.display_name or "", role=role, unit_id=unit_id,
                      is_active=user.is_active)
    if password is not None:
        check_password(password)
        user.password_hash = generate_password_hash(password)
        changed.append("password")
        end_sessions(user)
        db.session.flush()
    return user, changed


def ensure_user(actor: Actor, *, username: str, role: str, unit_code: str | None = None,
                password: str | None = None) -> User:
    """The operator's create-user: create the user, or bring an existing one to the role, unit and
    password given. One event: ``user.create`` as on the page, or ``user.update`` naming the changes."""
    require_role(actor, "admin")
    user, changed = _bring_to(actor, username=username, role=role, unit_code=unit_code, password=password)
    if changed == ["created"]:
        audit.record("user.create", actor=actor, target_type="user", target_id=user.id, username=user.username,
                     role=user.role)
    else:
        audit.record("user.update", actor=actor, target_type="user", target_id=user.id, username=user.username,
                     changed=changed, role=user.role, is_active=user.is_active)
    return user


def create_api_token(actor: Actor, *, username: str, role: str, unit_code: str | None = None) -> tuple[User, str]:
    """A new API token for the user, who is created (with no password) or brought to the role and unit
    given; returns the user and the token, of which only the hash is kept. One event."""
    require_role(actor, "admin")
    user, changed = _bring_to(actor, username=username, role=role, unit_code=unit_code, password=None)
    token = issue_api_token(user)
    audit.record("api_token.create", actor=actor, target_type="user", target_id=user.id, username=user.username,
                 role=user.role, changed=changed)
    return user, token


def revoke_api_tokens(actor: Actor, *, username: str | None = None, token: str | None = None) -> int:
    """Revoke one token (given the token itself) or every live token of a user; returns how many."""
    require_role(actor, "admin")
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
    audit.record("api_token.revoke", actor=actor, target_type="user",
                 target_id=",".join(sorted({str(row.user_id) for row in rows})),
                 username=username or "", count=len(rows))
    return len(rows)
