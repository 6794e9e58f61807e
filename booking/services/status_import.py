"""The monthly card status survey: a CSV or XLSX file, previewed, then applied all or nothing.

Columns: ``staff_number`` (required), ``dependent_name`` (blank for the staff
member; a dependent's name as registered, spaces ignored), ``card_status``
(none / applied / received, or 未申請 / 申請済 / 取得済) and ``status_date``
(YYYY-MM-DD, optional: the survey date is used when blank). Each change
becomes a dated card status event (source ``import``).

Optional columns of the card's life (services.card_life): ``card_stage`` (applied, mailed,
at_counter, returned, received, or the section's words; it may stand for ``card_status``, which may
then be blank), ``card_expires_on`` and ``certificates_expire_on`` (blank keeps the date on file).
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
from ..localtime import in_our_years, year_range_message
from ..models import STAGE_STATUS, Dependent, Staff
from . import audit, card_life, card_status, xlsx_limits
from .accounts import require_role
from .actor import Actor
from .errors import DomainError
from .guard import contains_individual_number
from .invitations import normalise_staff_number
from .staff_import import UNREADABLE_WORKBOOK, LineError, decode

COLUMNS = ("staff_number", "dependent_name", "card_status", "status_date")
#: The card's life, after the columns above (issue 18).
CARD_COLUMNS = ("card_stage", "card_expires_on", "certificates_expire_on")
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
class CardChange:
    """What a line says of the card's stage or expiry dates that differs from the record."""

    line: int
    person: Staff | Dependent
    staff: Staff
    stage: str | None
    on: date
    card_expires_on: date | None
    certificates_expire_on: date | None


@dataclass
class Preview:
    survey_date: date
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)
    card_changes: list[CardChange] = field(default_factory=list)


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
        values = {c: "" for c in (*COLUMNS, *CARD_COLUMNS)}
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
    cards: dict[int, tuple[str | None, date | None, date | None]] = {}
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
        stage, expiries = _card_cells(line, values, result.errors)
        status = card_status.status_from_word(values["card_status"])
        if stage is not None and not values["card_status"]:
            status = STAGE_STATUS["at_counter" if stage == "returned" else stage]
        if status is None:
            result.errors.append(LineError(line, "card_status", _l("Use none, applied or received.")))
        elif stage is not None and STAGE_STATUS["at_counter" if stage == "returned" else stage] != status:
            result.errors.append(LineError(line, "card_stage", _l("The stage does not agree with the card status.")))
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
        cards[line] = (stage, *expiries)
    if result.errors:
        order = (*COLUMNS, *CARD_COLUMNS)
        result.errors.sort(key=lambda e: (e.line, order.index(e.field) if e.field in order else 0))
        raise _refusal(result.errors)
    # Everyone's history at once: one query per person made a 3,000-line file take seconds.
    timelines = card_status.timelines_of([person for _line, person, _staff, _status, _on in resolved])
    for line, person, staff, status, on in resolved:
        before = timelines[card_status.person_key(person)].on(on)
        card = _card_change(line, person, staff, on, *cards[line])
        if card is not None:
            result.card_changes.append(card)
        if before != status:
            result.changes.append(Change(line, person, staff, before, status, on))
        elif card is None:
            result.unchanged += 1
    return result


def _card_cells(line: int, values: dict[str, str],
                errors: list[LineError]) -> tuple[str | None, tuple[date | None, date | None]]:
    """The line's card stage and expiry dates (None where blank), with their errors."""
    stage = None
    if values["card_stage"]:
        stage = card_life.stage_from_word(values["card_stage"])
        if stage is None:
            errors.append(LineError(line, "card_stage", _l(
                "Use applied, mailed, at_counter, returned or received.")))
    days: list[date | None] = []
    for column in ("card_expires_on", "certificates_expire_on"):
        day = None
        if values[column]:
            try:
                day = date.fromisoformat(values[column].replace("/", "-")[:10])
            except ValueError:
                errors.append(LineError(line, column, _l("Write the date as YYYY-MM-DD.")))
            else:
                if not in_our_years(day):
                    errors.append(LineError(line, column, year_range_message()))
                    day = None
        days.append(day)
    if days[0] and days[1] and days[1] > days[0]:
        errors.append(LineError(line, "certificates_expire_on", _l("The certificates cannot outlast the card.")))
    return stage, (days[0], days[1])


def _card_change(line: int, person: Staff | Dependent, staff: Staff, on: date, stage: str | None,
                 expires: date | None, certificates: date | None) -> CardChange | None:
    """The line's card change, or None when the record already says so (what survey_change skips)."""
    moves = stage is not None and (
        ("at_counter" if stage == "returned" else stage) != person.card_stage_now
        or (stage == "returned" and person.card_returned_now != on))
    if not moves:
        stage = None
    if expires == person.card_expires_on:
        expires = None
    if certificates == person.certificates_expire_on:
        certificates = None
    if stage is None and expires is None and certificates is None:
        return None
    return CardChange(line, person, staff, stage, on, expires, certificates)


def apply(actor: Actor, data: bytes, filename: str, *, survey_date: date) -> Preview:
    """Check the whole file again (it may have changed since the preview) and record every change."""
    require_role(actor, "admin")
    result = preview(data, filename, survey_date=survey_date)
    card_status.record_changes([(c.person, c.after, c.on) for c in result.changes], source="import",
                               user=actor.user)
    for card in result.card_changes:
        card_life.survey_change(card.person, stage=card.stage, on=card.on, card_expires_on=card.card_expires_on,
                                certificates_expire_on=card.certificates_expire_on, user=actor.user)
    audit.record("card_status.import", actor=actor, filename=(filename or "")[:100], changed=len(result.changes),
                 unchanged=result.unchanged, survey_date=survey_date.isoformat(),
                 cards=len(result.card_changes))
    return result
