"""Importing the staff list: every line checked first, then all of it or nothing (rule 9)."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import CARD_STATUSES, Staff, Unit
from .errors import DomainError
from .guard import contains_individual_number
from .invitations import normalise_staff_number
from .organisation import add_staff

COLUMNS = (
    "staff_number",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "unit_code",
    "crew",
    "email",
    "phone",
    "card_status",
)
REQUIRED = ("staff_number", "family_name", "given_name", "family_name_kana", "given_name_kana", "unit_code")
UPDATABLE = ("family_name", "given_name", "family_name_kana", "given_name_kana", "crew", "email", "phone", "card_status")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_STAFF_NUMBER = re.compile(r"^[0-9A-Za-z\-]{1,32}$")


@dataclass
class LineError:
    line: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "message": str(self.message)}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else CP932, which Excel in Japan writes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp932")


def parse_rows(text: str) -> tuple[list[tuple[int, dict]], list[LineError]]:
    """Rows as (line number, cleaned values), and every problem with its line and field."""
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [LineError(1, c, _l("The header has no column %(column)s.", column=c)) for c in missing]

    rows, errors, seen = [], [], {}
    for row in reader:
        line = reader.line_num
        values = {c: unicodedata.normalize("NFKC", (row.get(c) or "")).strip() for c in COLUMNS}
        values["staff_number"] = normalise_staff_number(values["staff_number"])
        values["card_status"] = values["card_status"] or "none"
        if not any(values[c] for c in REQUIRED):
            continue  # blank line
        for column in REQUIRED:
            if not values[column]:
                errors.append(LineError(line, column, _l("This column is required.")))
        if values["staff_number"] and not _STAFF_NUMBER.match(values["staff_number"]):
            errors.append(LineError(line, "staff_number", _l("Use letters, digits and hyphens only.")))
        if values["card_status"] not in CARD_STATUSES:
            errors.append(LineError(line, "card_status", _l("Use none, applied or received.")))
        if values["email"] and not _EMAIL.match(values["email"]):
            errors.append(LineError(line, "email", _l("This is not an email address.")))
        for column, value in values.items():
            if contains_individual_number(value):
                errors.append(LineError(line, column, _l(
                    "This looks like an individual number (My Number), which may not be "
                    "collected: remove it.")))
        number = values["staff_number"]
        if number in seen:
            errors.append(LineError(line, "staff_number", _l(
                "Staff number %(number)s already appears on line %(line)s.", number=number, line=seen[number])))
        elif number:
            seen[number] = line
        rows.append((line, values))
    return rows, errors


def import_staff(text: str, *, dry_run: bool = False) -> ImportResult:
    """Create or update staff from CSV text; raise invalid_import with every line error."""
    rows, errors = parse_rows(text)
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    for line, values in rows:
        if values["unit_code"] and values["unit_code"] not in units:
            errors.append(LineError(line, "unit_code", _l("No unit has the code %(code)s.", code=values["unit_code"])))
    if errors:
        errors.sort(key=lambda e: (e.line, COLUMNS.index(e.field) if e.field in COLUMNS else 0))
        raise DomainError(
            "invalid_import",
            _l("Nothing was imported. Correct the lines listed and import the whole file again."),
            errors=[e.as_dict() for e in errors],
        )

    existing = {
        s.staff_number: s
        for s in db.session.scalars(
            select(Staff).where(Staff.staff_number.in_([v["staff_number"] for _, v in rows]))
        )
    }
    result = ImportResult()
    for _line, values in rows:
        staff = existing.get(values["staff_number"])
        unit = units[values["unit_code"]]
        if staff is None:
            result.created += 1
            if not dry_run:
                add_staff(unit=unit, **{c: values[c] for c in COLUMNS if c != "unit_code"})
            continue
        changed = staff.unit_id != unit.id or any(getattr(staff, c) != values[c] for c in UPDATABLE)
        if not changed:
            result.unchanged += 1
            continue
        result.updated += 1
        if not dry_run:
            staff.unit = unit
            for column in UPDATABLE:
                setattr(staff, column, values[column])
    db.session.flush()
    return result
