"""Who may see what, for every office blueprint (office, desk, chiefs).

Role checks belong in the queries and services too (a chief's queries are
filtered by ``visible_unit_ids``); these helpers make the page-level refusal
uniform: 401/redirect to sign in when anonymous, 403 when the role or unit
does not allow it.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort
from flask_login import current_user, login_required

from .extensions import db
from .models import Unit, User
from .services.directory import units_under

P = ParamSpec("P")
R = TypeVar("R")


def role_required(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Only signed-in office users with one of the roles; others get 403."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        @login_required
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def visible_unit_ids(user: User) -> set[int] | None:
    """The units a user may see: None means all (admin, clerk); a chief sees their subtree."""
    if user.role == "chief":
        unit = db.session.get(Unit, user.unit_id) if user.unit_id else None
        return set(units_under(unit)) if unit else set()
    return None


def require_unit_visible(user: User, unit_id: int | None) -> None:
    """403 unless the user may see records of this unit (DESIGN.md rule 8)."""
    allowed = visible_unit_ids(user)
    if allowed is not None and unit_id not in allowed:
        abort(403)
