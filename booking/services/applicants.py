"""What the desk needs to know about an applicant from their age on the day (reference/desk-process.md).

A child under 15 applies through a legal representative, who comes along and brings their own
identity documents; a baby under 1 needs no photo. The booker is told this when booking and the
clerk sees it at the desk. Without a birth date nothing is said.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from ..models import Dependent

#: Under this age a legal representative applies for the child (and must come with them).
REPRESENTED_UNDER = 15
#: Under this age no photo is needed.
NO_PHOTO_UNDER = 1


def age_on(birth_date: date, day: date) -> int:
    """Completed years on ``day`` (a birthday on 29 February counts from 1 March in other years)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


@dataclass(frozen=True)
class Notice:
    code: str  # "represented" or "no_photo"
    text: LazyString


def notices(dependent: Dependent | None, day: date) -> list[Notice]:
    """What to tell the booker and the clerk about this person on the session's day."""
    if dependent is None or dependent.birth_date is None or dependent.birth_date > day:
        return []
    age = age_on(dependent.birth_date, day)
    found = []
    if age < REPRESENTED_UNDER:
        found.append(Notice("represented", _l(
            "Under 15 on the day: comes with a parent (the legal representative), who brings "
            "their own identity documents too.")))
    if age < NO_PHOTO_UNDER:
        found.append(Notice("no_photo", _l("Under 1 on the day: no photo is needed.")))
    return found
