"""Office accounts managed by an admin in the browser: create, change role or unit, disable, reset.

Every function takes the acting user and refuses anyone but an admin, so the
rule holds whichever page, command or test calls it.
"""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from ..extensions import db
from ..models import ROLES, Unit, User
from .accounts import require_role
from .errors import DomainError, NotFound, invalid
from .guard import refuse_individual_numbers

MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[A-Za-z0-9_.@\-]{3,80}$")


def list_users(actor: User) -> list[User]:
    require_role(actor, "admin")
    return list(db.session.scalars(select(User).order_by(User.is_active.desc(), User.username)))


def get_user(actor: User, user_id: int) -> User:
    require_role(actor, "admin")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    return user


def check_password(password: str, *, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise invalid(**{field: _l("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)})


def _unit(role: str, unit_id: int | None) -> Unit | None:
    if role not in ROLES:
        raise invalid(role=_l("Use admin, chief or clerk."))
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit_id and unit is None:
        raise invalid(unit_id=_l("No such unit."))
    if role == "chief" and unit is None:
        raise invalid(unit_id=_l("A chief must be bound to a unit."))
    # Only a chief's reach is bounded by a unit; keeping one on others would mislead.
    return unit if role == "chief" else None


def create_user(actor: User, *, username: str, display_name: str, role: str,
                unit_id: int | None, password: str) -> User:
    require_role(actor, "admin")
    username = (username or "").strip()
    refuse_individual_numbers({"username": username, "display_name": display_name})
    if not _USERNAME.match(username):
        raise invalid(username=_l("Use 3 to 80 letters, digits and . _ - @ only."))
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise DomainError("duplicate", _l("The username %(name)s is taken. Choose another.", name=username),
                          fields={"username": _l("This username is taken.")})
    unit = _unit(role, unit_id)
    check_password(password)
    user = User(username=username, display_name=(display_name or "").strip(), role=role, unit=unit,
                password_hash=generate_password_hash(password), is_active=True)
    db.session.add(user)
    db.session.flush()
    return user


def _other_active_admins(user: User) -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(User.role == "admin", User.is_active.is_(True), User.id != user.id)
    ) or 0


def update_user(actor: User, user: User, *, display_name: str, role: str, unit_id: int | None,
                is_active: bool) -> list[str]:
    """Change a user's name, role, unit or whether they may sign in; returns the fields changed."""
    require_role(actor, "admin")
    refuse_individual_numbers({"display_name": display_name})
    unit = _unit(role, unit_id)
    losing_admin = user.role == "admin" and user.is_active and (role != "admin" or not is_active)
    if losing_admin and _other_active_admins(user) == 0:
        # Nobody could then manage accounts in the browser again.
        raise DomainError("last_admin", _l(
            "This is the last active admin. Make another user admin first."),
            fields={"role": _l("Keep at least one active admin.")})
    if user.id == actor.id and not is_active:
        raise invalid(is_active=_l("You cannot disable your own account."))
    changed = []
    new = {"display_name": (display_name or "").strip(), "role": role,
           "unit_id": unit.id if unit else None, "is_active": bool(is_active)}
    for name, value in new.items():
        if getattr(user, name) != value:
            changed.append(name)
            setattr(user, name, value)
    db.session.flush()
    return changed


def reset_password(actor: User, user: User, password: str) -> None:
    """Set a new password that the admin hands over; the old one stops working at once."""
    require_role(actor, "admin")
    check_password(password)
    user.password_hash = generate_password_hash(password)
    db.session.flush()
