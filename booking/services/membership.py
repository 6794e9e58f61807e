"""Who belonged to the department on a day (issue 18): every count "as of D" takes only them.

A person belongs on D when they had joined by D and had not yet left:
``joined_on`` (or, when unknown, the local date their record was made) on or before D, and
``left_on`` empty or after D. A record made later than D does not count back, so staff imported
today leave last year's report as it was. A dependent belongs only while their staff member does.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from ..localtime import TOKYO
from ..models import Dependent, Staff
from . import audit
from .accounts import require_role
from .actor import Actor
from .errors import DomainError


@dataclass(frozen=True)
class Window:
    """The days a person belonged: from ``since`` (None: always) up to, not including, ``until``."""

    since: date | None
    until: date | None

    def holds(self, day: date) -> bool:
        return (self.since is None or self.since <= day) and (self.until is None or day < self.until)

    def within(self, outer: Window) -> Window:
        """This window cut to the days of ``outer`` (a dependent inside their staff member's)."""
        since = max((d for d in (self.since, outer.since) if d is not None), default=None)
        until = min((d for d in (self.until, outer.until) if d is not None), default=None)
        return Window(since, until)


#: A person whose record says nothing about when they belonged.
ALWAYS = Window(None, None)


def window(joined_on: date | None, left_on: date | None, created_at: datetime | None) -> Window:
    since = joined_on if joined_on is not None else (created_at.astimezone(TOKYO).date() if created_at else None)
    return Window(since, left_on)


def window_of(person: Staff | Dependent) -> Window:
    own = window(person.joined_on, person.left_on, person.created_at)
    if isinstance(person, Dependent):
        return own.within(window_of(person.staff))
    return own


def check_dates(joined_on: date | None, left_on: date | None) -> None:
    if joined_on is not None and left_on is not None and left_on <= joined_on:
        raise DomainError("invalid", _l("Check the highlighted fields."),
                          fields={"left_on": _l("The leaving date must be after the joining date.")})


def set_dates(actor: Actor, person: Staff | Dependent, *, joined_on: date | None, left_on: date | None) -> None:
    """The office's edit of when a person joined and left (admin)."""
    require_role(actor, "admin")
    check_dates(joined_on, left_on)
    if (person.joined_on, person.left_on) == (joined_on, left_on):
        return
    person.joined_on, person.left_on = joined_on, left_on
    kind = "staff" if isinstance(person, Staff) else "dependent"
    audit.record("membership.edit", actor=actor, target_type=kind, target_id=person.id,
                 joined_on=joined_on.isoformat() if joined_on else None,
                 left_on=left_on.isoformat() if left_on else None)


__all__ = ["ALWAYS", "Window", "check_dates", "set_dates", "window", "window_of"]
