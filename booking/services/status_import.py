"""The monthly card status survey: a CSV or XLSX file, previewed, then applied all or nothing.

Columns: ``staff_number`` (required), ``dependent_name`` (blank for the staff
member; a dependent's name as registered, spaces ignored), ``card_status``
(none / applied / received, or 未申請 / 申請済 / 取得済) and ``status_date``
(YYYY-MM-DD, optional: the survey date is used when blank). Each change
becomes a dated card status event (source ``import``).
"""
from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Dependent, Staff
from . import audit, card_status, xlsx_limits
from .accounts import require_role
from .actor import Actor
from .errors import DomainError
from .guard import contains_individual_number
from .invitations import normalise_staff_number
from .staff_import import UNREADABLE_WORKBOOK, LineError, decode

COLUMNS = ("staff_number", "dependent_name", "card_status", "status_date")
MAX_ROWS = 50_000


@dataclass
class Change:
    line: int
    person: Staff | Dependent
    staff: Staff
    before: str
    after: str
    on: date


@dataclass
class Preview:
    survey_date: date
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_table(data: bytes, filename: str) -> list[tuple[int, dict[str, str]]]:
    """The file's rows as (line, values by column), from CSV (UTF-8 or CP932) or the first XLSX sheet."""
    if filename.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        return _read_xlsx(data)
    try:
        text = decode(data)
    except UnicodeDecodeError:
        raise _refusal([LineError(1, "", _l("Save the file as CSV (UTF-8 or Shift_JIS) or XLSX."))]) from None
    if "\x00" in text:
        # A UTF-16 or damaged file; PostgreSQL could not even look its staff numbers up.
        line = text[:text.index("\x00")].count("\n") + 1
        raise _refusal([LineError(line, "", _l("Save the file as CSV (UTF-8 or Shift_JIS) or XLSX."))])
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = list(reader)
    return _rows_with_header([(n, r) for n, r in enumerate(rows, start=1)])


def _read_xlsx(data: bytes) -> list[tuple[int, dict[str, str]]]:
    from openpyxl import load_workbook

    try:
        xlsx_limits.check_archive(data)
    except xlsx_limits.TooLarge as error:
        raise _refusal([LineError(1, "", error.message)]) from None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001  (openpyxl raises many kinds for a file that is not a workbook)
        raise _refusal([LineError(1, "", _l("This is not an XLSX workbook that can be read."))]) from None
    try:
        # Read-only workbooks parse each sheet while it is read: its XML is refused here.
        sheet = workbook.worksheets[0]
        rows = [(n, [_cell_text(v) for v in row]) for n, row in xlsx_limits.rows(sheet)]
    except xlsx_limits.TooLarge as error:
        raise _refusal([LineError(1, "", error.message)]) from None
    except UNREADABLE_WORKBOOK:
        raise _refusal([LineError(1, "", _l("This is not an XLSX workbook that can be read."))]) from None
    finally:
        workbook.close()
    return _rows_with_header(rows)


def _rows_with_header(rows: list[tuple[int, list[str]]]) -> list[tuple[int, dict[str, str]]]:
    rows = [(n, r) for n, r in rows if any((c or "").strip() for c in r)]
    if not rows:
        raise _refusal([LineError(1, "", _l("The file is empty."))])
    header_line, header = rows[0]
    names = [card_status.fold(h).lower() for h in header]
    missing = [c for c in ("staff_number", "card_status") if c not in names]
    if missing:
        raise _refusal([LineError(header_line, c, _l("The header has no column %(column)s.", column=c))
                        for c in missing])
    if len(rows) - 1 > MAX_ROWS:
        raise _refusal([LineError(header_line, "", _l("Split the file: at most %(n)s rows.", n=MAX_ROWS))])
    result = []
    for line, row in rows[1:]:
        values = {c: "" for c in COLUMNS}
        for index, name in enumerate(names):
            if name in values and index < len(row):
                values[name] = unicodedata.normalize("NFKC", row[index] or "").strip()
        result.append((line, values))
    return result


def _refusal(errors: list[LineError]) -> DomainError:
    return DomainError(
        "invalid_import",
        _l("Nothing was imported. Correct the lines listed and import the whole file again."),
        errors=[e.as_dict() for e in errors],
    )


def preview(data: bytes, filename: str, *, survey_date: date) -> Preview:
    """Check every line and work out what would change; raise invalid_import listing every problem."""
    if survey_date > card_status.today():
        # The lines without a date take this one, and no status can change on a day to come.
        raise DomainError("invalid", _l("Check the highlighted fields."),
                          fields={"survey_date": _l("The survey date cannot be in the future.")})
    table = read_table(data, filename)
    result = Preview(survey_date=survey_date)
    numbers = {normalise_staff_number(v["staff_number"]) for _, v in table}
    staff_by_number = {
        s.staff_number: s for s in db.session.scalars(
            select(Staff).options(selectinload(Staff.dependents)).where(Staff.staff_number.in_(numbers)))
    } if numbers else {}
    today = card_status.today()
    seen: dict[tuple, int] = {}
    resolved: list[tuple[int, Staff | Dependent, Staff, str, date]] = []
    for line, values in table:
        errors_before = len(result.errors)
        for column, value in values.items():
            if contains_individual_number(value):
                result.errors.append(LineError(line, column, _l(
                    "This looks like an individual number (My Number), which may not be collected: remove it.")))
        number = normalise_staff_number(values["staff_number"])
        staff = staff_by_number.get(number)
        if not number:
            result.errors.append(LineError(line, "staff_number", _l("This column is required.")))
        elif staff is None:
            result.errors.append(LineError(line, "staff_number", _l(
                "No staff member has the number %(number)s.", number=number)))
        status = card_status.status_from_word(values["card_status"])
        if status is None:
            result.errors.append(LineError(line, "card_status", _l("Use none, applied or received.")))
        on = survey_date
        if values["status_date"]:
            try:
                on = date.fromisoformat(values["status_date"].replace("/", "-")[:10])
            except ValueError:
                result.errors.append(LineError(line, "status_date", _l("Write the date as YYYY-MM-DD.")))
            else:
                if on > today:
                    result.errors.append(LineError(line, "status_date", _l("The date cannot be in the future.")))
        person: Staff | Dependent | None = staff
        if staff is not None and values["dependent_name"]:
            wanted = card_status.fold(values["dependent_name"])
            matches = [d for d in staff.dependents if wanted in (card_status.fold(d.name), card_status.fold(d.given_name))]
            if len(matches) != 1:
                result.errors.append(LineError(line, "dependent_name", _l(
                    "No single dependent of this staff member has this name.")))
                person = None
            else:
                person = matches[0]
        if len(result.errors) > errors_before or person is None or staff is None or status is None:
            continue
        key = card_status.person_key(person)
        if key in seen:
            result.errors.append(LineError(line, "staff_number", _l(
                "This person already appears on line %(line)s.", line=seen[key])))
            continue
        seen[key] = line
        resolved.append((line, person, staff, status, on))
    if result.errors:
        result.errors.sort(key=lambda e: (e.line, COLUMNS.index(e.field) if e.field in COLUMNS else 0))
        raise _refusal(result.errors)
    # Everyone's history at once: one query per person made a 3,000-line file take seconds.
    timelines = card_status.timelines_of([person for _line, person, _staff, _status, _on in resolved])
    for line, person, staff, status, on in resolved:
        before = timelines[card_status.person_key(person)].on(on)
        if before == status:
            result.unchanged += 1
        else:
            result.changes.append(Change(line, person, staff, before, status, on))
    return result


def apply(actor: Actor, data: bytes, filename: str, *, survey_date: date) -> Preview:
    """Check the whole file again (it may have changed since the preview) and record every change."""
    require_role(actor, "admin")
    result = preview(data, filename, survey_date=survey_date)
    card_status.record_changes([(c.person, c.after, c.on) for c in result.changes], source="import",
                               user=actor.user)
    audit.record("card_status.import", actor=actor, filename=(filename or "")[:100], changed=len(result.changes),
                 unchanged=result.unchanged, survey_date=survey_date.isoformat())
    return result
