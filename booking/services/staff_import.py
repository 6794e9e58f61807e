"""Importing the staff list: every line checked before anything is written (rule 9).

Two callers share this module. The JSON API (``POST /api/v1/staff/import``)
sends CSV text and calls ``import_upload()`` in one go, one transaction: all of
it or nothing. The office page works in steps: ``stage_upload()`` reads a CSV
or XLSX file, plans the changes and keeps the parsed rows in a
``StaffImportBatch``; the person reads the preview; confirming checks the
whole file again, refuses if the plan would now differ from what was
previewed (someone else changed the staff list in between), and then applies
exactly those rows in the background, a chunk per transaction
(services/import_jobs.py): an interrupted import resumes where it stopped.
Both write the same events: ``import.staff`` when the list was imported and
``import.staff.refused`` when a file was refused for its lines.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import cast

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import delete, insert, select, update

from ..extensions import db
from ..localtime import local_today, utcnow
from ..models import (
    CARD_STATUSES,
    Municipality,
    Staff,
    StaffImportBatch,
    StaffImportNumbers,
    Unit,
    kana_key,
    katakana,
)
from . import audit, card_status, invitations, municipalities, tokens, xlsx_limits
from .actor import Actor
from .errors import DomainError, NotFound
from .guard import contains_individual_number, split_individual_number_fields
from .invitations import normalise_staff_number

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
    "municipality_code",
    "joined_on",
    "left_on",
)
REQUIRED = ("staff_number", "family_name", "given_name", "family_name_kana", "given_name_kana", "unit_code")
UPDATABLE = ("family_name", "given_name", "family_name_kana", "given_name_kana", "crew", "email", "phone", "card_status",
             "municipality_code", "joined_on", "left_on")
#: Columns of dates (YYYY-MM-DD in the rows kept for confirmation; date in the database).
DATE_COLUMNS = ("joined_on", "left_on")
#: What a new staff member gets for an optional column the file does not have.
DEFAULTS = {"crew": "", "email": "", "phone": "", "card_status": "none", "municipality_code": "", "joined_on": "",
            "left_on": ""}
#: Longest value each column takes (the database columns' sizes).
MAX_LENGTH = {
    "staff_number": 32, "family_name": 50, "given_name": 50, "family_name_kana": 50,
    "given_name_kana": 50, "unit_code": 32, "crew": 20, "email": 254, "phone": 30, "card_status": 10,
    "municipality_code": 12, "joined_on": 10, "left_on": 10,
}
#: Japanese headings accepted in place of the column keys (Excel sheets kept by the section).
HEADER_ALIASES = {
    "職員番号": "staff_number",
    "姓": "family_name",
    "名": "given_name",
    "氏": "family_name",
    "セイ": "family_name_kana",
    "メイ": "given_name_kana",
    "姓カナ": "family_name_kana",
    "名カナ": "given_name_kana",
    "姓(カナ)": "family_name_kana",
    "名(カナ)": "given_name_kana",
    "所属コード": "unit_code",
    "部": "crew",
    "勤務": "crew",
    "メールアドレス": "email",
    "メール": "email",
    "電話番号": "phone",
    "電話": "phone",
    "カード状況": "card_status",
    "カード": "card_status",
    "住民登録地コード": "municipality_code",
    "入職日": "joined_on",
    "採用日": "joined_on",
    "離職日": "left_on",
}
#: The Japanese heading of each column: the template offers them, and a file that uses Japanese
#: headings hears about its columns by them (issue 16: errors named staff_number for 職員番号).
JAPANESE_HEADINGS = {
    "staff_number": "職員番号", "family_name": "姓", "given_name": "名", "family_name_kana": "セイ",
    "given_name_kana": "メイ", "unit_code": "所属コード", "crew": "部", "email": "メール", "phone": "電話",
    "card_status": "カード状況", "municipality_code": "住民登録地コード", "joined_on": "入職日", "left_on": "離職日",
}
#: Pending uploads older than this are dropped: the preview is stale by then.
BATCH_LIFETIME = timedelta(hours=12)
EMAIL_PATTERN = _EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_STAFF_NUMBER = re.compile(r"^[0-9A-Za-z\-]{1,32}$")
# Formula injection defence in files we write puts an apostrophe before these;
# a file exported and imported back must come back unchanged.
_NEUTRALISED = re.compile(r"^'(?=[=+\-@])")
_CHUNK = 2000


@dataclass
class LineError:
    line: int
    field: str
    message: str
    #: 1-based position of the column in the file, when known (for "C12" style cell names).
    column: int | None = None
    #: The column as the file names it (職員番号 for staff_number), for the page.
    heading: str = ""

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "message": str(self.message)}

    @property
    def cell(self) -> str:
        """The spreadsheet cell name (B3), or the line alone when the column is unknown."""
        return f"{column_letter(self.column)}{self.line}" if self.column else str(self.line)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)


@dataclass
class Parsed:
    """What a file held: rows as (line, values), problems, and columns we do not know."""

    rows: list[tuple[int, dict]]
    errors: list[LineError]
    ignored_columns: list[str] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)
    #: Each known column's heading as the file wrote it.
    headings: dict[str, str] = field(default_factory=dict)


@dataclass
class Change:
    """One staff member the import would create or update."""

    line: int
    staff_number: str
    name: str
    unit_code: str
    #: (column, old value, new value) for an update; empty for a creation.
    fields: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class ImportPlan:
    created: list[Change] = field(default_factory=list)
    updated: list[Change] = field(default_factory=list)
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)

    def digest(self) -> str:
        """A fingerprint of every planned change: confirm refuses any other plan."""
        canonical = {
            "created": [(c.staff_number, c.line) for c in self.created],
            "updated": [(c.staff_number, c.fields) for c in self.updated],
            "unchanged": self.unchanged,
        }
        return hashlib.sha256(json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def column_letter(position: int) -> str:
    letters = ""
    while position > 0:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- reading files --------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else CP932, which Excel in Japan writes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp932")


def _csv_records(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    # newline="": the csv module splits lines itself, so a bare CR (old Mac files) is a line end too.
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header: list[str] | None = None
    records = []
    for cells in reader:
        if header is None:
            header = cells
            continue
        records.append((reader.line_num, cells))
    return header or [], records


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV would have held."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # staff numbers typed into Excel come back as 1001.0
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


#: What reading an XLSX file raises when it is not a workbook that can be read: a broken zip or a
#: missing part; XML that does not parse (ParseError, a SyntaxError: also expat's refusal of a
#: billion laughs); XML with entity declarations, which openpyxl refuses through defusedxml
#: (EntitiesForbidden and its kin are ValueErrors; Excel never writes a DTD); no sheet at all.
UNREADABLE_WORKBOOK = (zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError, IndexError)


def _xlsx_records(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    from openpyxl import load_workbook

    xlsx_limits.check_archive(data)
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        header: list[str] | None = None
        records = []
        for number, values in xlsx_limits.rows(sheet):
            cells = [_cell_text(v) for v in values]
            if header is None:
                if not any(c.strip() for c in cells):
                    continue  # leading empty rows before the heading
                header = cells
                continue
            records.append((number, cells))
        return header or [], records
    finally:
        workbook.close()


def _header_key(heading: str) -> str:
    cleaned = unicodedata.normalize("NFKC", heading or "").strip().lstrip("\ufeff")
    compact = "".join(cleaned.split())
    return HEADER_ALIASES.get(compact, cleaned.lower())


def check_records(header: Sequence[str], records: Iterable[tuple[int, Sequence[str]]]) -> Parsed:
    """Rows as (line number, cleaned values), and every problem with its line and column."""
    keys = [_header_key(h) for h in header]
    positions: dict[str, int] = {}
    ignored = []
    for index, key in enumerate(keys, start=1):
        if key in COLUMNS and key not in positions:
            positions[key] = index
        elif key:
            ignored.append(header[index - 1].strip())
    headings = {key: header[index - 1].strip() for key, index in positions.items()}
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        # Name a missing column the way the rest of the header is written.
        japanese = any(_header_key(h) in COLUMNS and _header_key(h) != h.strip().lower() for h in header)
        names = {c: JAPANESE_HEADINGS[c] if japanese else c for c in missing}
        return Parsed([], [LineError(1, c, _l("The header has no column %(column)s.", column=names[c]),
                                     heading=names[c]) for c in missing], ignored, positions, headings)

    # An optional column the file does not have is None in every row: existing staff keep
    # what they have (a personnel list without e-mail addresses must not erase them) and
    # new staff get the default. A column that is there but empty is "" and clears it.
    present = [c for c in COLUMNS if c in positions]
    rows: list[tuple[int, dict]] = []
    errors: list[LineError] = []
    seen: dict[str, int] = {}
    for line, cells in records:
        def cell(column: str, cells: Sequence[str] = cells) -> str:
            position = positions[column]
            raw = cells[position - 1] if position <= len(cells) else ""
            return _NEUTRALISED.sub("", unicodedata.normalize("NFKC", raw or "").strip())

        values: dict[str, str | None] = dict.fromkeys(COLUMNS)
        values.update((c, cell(c)) for c in present)
        if not any(values[c] for c in REQUIRED):
            continue  # blank line
        values["staff_number"] = normalise_staff_number(values["staff_number"] or "")
        # Kana arrive as hiragana, half-width or full-width katakana; the directory keeps katakana.
        values["family_name_kana"] = katakana(values["family_name_kana"] or "")
        values["given_name_kana"] = katakana(values["given_name_kana"] or "")
        if values["card_status"] is not None:
            # Empty means none; an unknown word is kept as written, to be refused below.
            written = values["card_status"]
            values["card_status"] = card_status.status_from_word(written) or written.lower() or "none"

        def problem(column: str, message: str | LazyString, line: int = line) -> None:
            errors.append(LineError(line, column, message, positions.get(column), headings.get(column, column)))

        for column in REQUIRED:
            if not values[column]:
                problem(column, _l("This column is required."))
        if values["staff_number"] and not _STAFF_NUMBER.match(values["staff_number"]):
            problem("staff_number", _l("Use letters, digits and hyphens only."))
        if values["card_status"] not in (None, *CARD_STATUSES):
            problem("card_status", _l("Use none, applied or received."))
        if values["municipality_code"]:
            # Where the person is registered, by local government code: five digits get their
            # check digit; known municipalities are checked with the units in plan_import.
            code = municipalities.normalise_code(values["municipality_code"])
            if code is None:
                problem("municipality_code", _l(
                    "Enter the six-digit local government code (全国地方公共団体コード), e.g. 072010."))
            else:
                values["municipality_code"] = code
        if values["email"] and not _EMAIL.match(values["email"]):
            problem("email", _l("This is not an email address."))
        for column in DATE_COLUMNS:
            if values[column]:
                day = _read_date(values[column] or "")
                if day is None:
                    problem(column, _l("Write the date as YYYY-MM-DD, e.g. 2026-04-01."))
                else:
                    values[column] = day.isoformat()
        if values["joined_on"] and values["left_on"] and values["left_on"] <= values["joined_on"]:
            problem("left_on", _l("The leaving date must be after the joining date."))
        for column, value in values.items():
            if value is None:
                continue
            if len(value) > MAX_LENGTH[column]:
                problem(column, _l("Too long: at most %(n)s characters.", n=MAX_LENGTH[column]))
            if "\x00" in value:
                # PostgreSQL cannot store it; in a CSV it means a damaged or UTF-16 file.
                problem(column, _l("This cell holds a NUL character: save the file again as CSV (UTF-8)."))
            if contains_individual_number(value):
                problem(column, _l(
                    "This looks like an individual number (My Number), which may not be "
                    "collected: remove it."))
        for column in split_individual_number_fields(values):
            problem(column, _l(
                "Together with the other name fields, this looks like an individual number "
                "(My Number), which may not be collected: remove it."))
        number = values["staff_number"]
        if number in seen:
            problem("staff_number", _l(
                "Staff number %(number)s already appears on line %(line)s.", number=number, line=seen[number]))
        elif number:
            seen[number] = line
        rows.append((line, values))
    return Parsed(rows, errors, ignored, positions, headings)


_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]00:00(?::00)?)?$")


def _read_date(text: str) -> date | None:
    """2026-04-01, 2026/4/1 or 2026.4.1; a workbook's date cell arrives as the first."""
    match = _DATE.match(text.strip())
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _stored(staff: object, column: str) -> str:
    """A staff member's value of an import column as the rows write it."""
    value = getattr(staff, column)
    if isinstance(value, date):
        return value.isoformat()
    return value or ""


def _column_value(column: str, value: str) -> object:
    """An import row's value as the database column takes it."""
    if column in DATE_COLUMNS:
        return date.fromisoformat(value) if value else None
    if column == "municipality_code":
        return value or None  # a foreign key: none, not ""
    return value


def parse_rows(text: str) -> tuple[list[tuple[int, dict]], list[LineError]]:
    """CSV text as rows and line errors (the JSON API's format)."""
    try:
        parsed = check_records(*_csv_records(text))
    except csv.Error as error:
        return [], [LineError(1, "", _l("The CSV file is malformed: %(problem)s", problem=str(error)))]
    return parsed.rows, parsed.errors


def is_xlsx(filename: str, data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04" or (filename or "").lower().endswith((".xlsx", ".xlsm"))


def parse_upload(filename: str, data: bytes) -> Parsed:
    """A CSV (UTF-8 or CP932, BOM or not) or XLSX file as checked rows."""
    if not data.strip():
        return Parsed([], [LineError(1, "", _l("The file is empty."))])
    if is_xlsx(filename, data):
        try:
            header, records = _xlsx_records(data)
        except xlsx_limits.TooLarge as error:
            return Parsed([], [LineError(1, "", error.message)])
        except UNREADABLE_WORKBOOK:
            return Parsed([], [LineError(1, "", _l(
                "This is not an Excel workbook that can be read. Save it again as .xlsx or as CSV."))])
        return check_records(header, records)
    try:
        text = decode(data)
    except UnicodeDecodeError:
        return Parsed([], [LineError(1, "", _l(
            "The file could not be read. Save it as CSV in UTF-8 or Shift_JIS and try again."))])
    try:
        return check_records(*_csv_records(text))
    except csv.Error as error:
        return Parsed([], [LineError(1, "", _l("The CSV file is malformed: %(problem)s", problem=str(error)))])


# --- planning and applying ------------------------------------------------------------------


def _existing_staff(numbers: list[str], *, columns_only: bool = False) -> dict[str, Staff]:
    """Staff already on record by number; for planning only the compared columns are read."""
    found: dict = {}
    wanted = (select(Staff.staff_number, Staff.unit_id, Staff.email_confirmed_at,
                     *[getattr(Staff, c) for c in UPDATABLE])
              if columns_only else select(Staff))
    if len(numbers) > _CHUNK:
        # A whole staff list: one pass over the table beats thousands of bound
        # parameters (PostgreSQL compared each row with each, 20 s for 20,000).
        wanted_numbers = set(numbers)
        result = db.session.execute(wanted)
        for s in (result if columns_only else result.scalars()):
            if s.staff_number in wanted_numbers:
                found[s.staff_number] = s
        return found
    if numbers:
        result = db.session.execute(wanted.where(Staff.staff_number.in_(numbers)))
        found.update((s.staff_number, s) for s in (result if columns_only else result.scalars()))
    return found


def plan_import(rows: list[tuple[int, dict]], errors: Iterable[LineError] = (),
                positions: dict[str, int] | None = None, headings: dict[str, str] | None = None) -> ImportPlan:
    """What importing the rows would create and change; unit codes are checked here."""
    plan = ImportPlan(errors=list(errors))
    positions = positions or {}
    headings = headings or {}
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    towns = set(db.session.scalars(select(Municipality.code)))
    for line, values in rows:
        if values["unit_code"] and values["unit_code"] not in units:
            plan.errors.append(LineError(
                line, "unit_code", _l("No unit has the code %(code)s.", code=values["unit_code"]),
                positions.get("unit_code"), headings.get("unit_code", "unit_code")))
        town = values["municipality_code"]
        if town and town not in towns and municipalities.normalise_code(town) == town:  # a bad one: said already
            plan.errors.append(LineError(line, "municipality_code", _l(
                "No municipality with the code %(code)s is listed: add it on the municipalities page first.",
                code=values["municipality_code"]), positions.get("municipality_code"),
                headings.get("municipality_code", "municipality_code")))
    if plan.errors:
        plan.errors.sort(key=lambda e: (e.line, COLUMNS.index(e.field) if e.field in COLUMNS else -1))
        return plan
    unit_codes = {u.id: u.code for u in units.values()}
    existing = _existing_staff([v["staff_number"] for _, v in rows], columns_only=True)
    for line, values in rows:
        name = f"{values['family_name']} {values['given_name']}"
        staff = existing.get(values["staff_number"])
        if staff is None:
            plan.created.append(Change(line, values["staff_number"], name, values["unit_code"]))
            continue
        changes = []
        if staff.unit_id != units[values["unit_code"]].id:
            changes.append(("unit_code", unit_codes.get(staff.unit_id, ""), values["unit_code"]))
        changes.extend((c, _stored(staff, c), values[c]) for c in UPDATABLE
                       if values[c] is not None and _stored(staff, c) != values[c]
                       and not (c == "email" and staff.email_confirmed_at is not None))
        if changes:
            plan.updated.append(Change(line, values["staff_number"], name, values["unit_code"], changes))
        else:
            plan.unchanged += 1
    return plan


def _refuse(errors: list[LineError]) -> DomainError:
    return DomainError(
        "invalid_import",
        _l("Nothing was imported. Correct the lines listed and import the whole file again."),
        errors=[e.as_dict() for e in errors],
    )


def new_staff_row(values: dict, unit_id: int) -> dict:
    """The columns of a staff member created by an import (inserted in bulk by _apply)."""
    row = {c: values[c] for c in COLUMNS if c != "unit_code"}
    row.update({c: DEFAULTS[c] for c in row if row[c] is None})
    for column in ("municipality_code", *DATE_COLUMNS):
        row[column] = _column_value(column, row[column])
    row.update(
        unit_id=unit_id,
        # A status the file gives without a date holds from the import's day, never back in time.
        card_status_on=None if row["card_status"] == "none" else local_today(),
        search_kana=kana_key(f"{values['family_name_kana']}{values['given_name_kana']}")[:100],
        invitation_nonce="",
        invitation_link_hash=tokens.new_nonce(),  # a unique placeholder until the ids are known
    )
    return row


def _apply(plan: ImportPlan, rows: list[tuple[int, dict]]) -> ImportResult:
    by_number = {v["staff_number"]: v for _, v in rows}
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    existing = _existing_staff([c.staff_number for c in plan.updated])
    status_changes: list[tuple[card_status.Person, str, date | None]] = []
    for change in plan.updated:
        staff, values = existing[change.staff_number], by_number[change.staff_number]
        staff.unit = units[values["unit_code"]]
        for column in UPDATABLE:
            if values[column] is None:
                continue  # not in the file: kept
            if column == "card_status":
                # A dated card status event, so rates as of past days stay right.
                status_changes.append((staff, values[column], None))
                continue
            if column == "email":
                if staff.email_confirmed_at is not None:
                    continue  # the address the booker confirmed wins until they change it
                if staff.email != values[column]:
                    staff.email_failure = ""  # a new address has not been refused
            setattr(staff, column, _column_value(column, values[column]))
    card_status.record_changes(status_changes, source="import")
    if plan.created:
        _create(plan, by_number, units)
    return ImportResult(created=len(plan.created), updated=len(plan.updated), unchanged=plan.unchanged)


def _create(plan: ImportPlan, by_number: dict[str, dict], units: dict[str, Unit]) -> None:
    """New staff in bulk: one executemany INSERT, then their invitations, which need the ids.

    Made one ORM object at a time, 20,000 staff took 40 s; this takes a few. The
    invitation is the same as invitations.issue() gives (a fresh nonce and the
    hash of the link derived from it), set here for many rows at once.
    """
    now = utcnow()
    db.session.execute(insert(Staff), [
        {**new_staff_row(by_number[c.staff_number], units[by_number[c.staff_number]["unit_code"]].id),
         "created_at": now}
        for c in plan.created
    ])
    invites: list[dict[str, object]] = []
    # The rows just inserted are the only ones without a nonce: every other path
    # (directory.add_staff) gives one before its transaction commits.
    fresh_rows = select(Staff.id).where(Staff.invitation_nonce == "")
    if len(plan.created) <= _CHUNK:
        # A chunk of a background import: look the new rows up by the staff number index rather
        # than scanning a staff table that grows with every chunk.
        fresh_rows = fresh_rows.where(Staff.staff_number.in_([c.staff_number for c in plan.created]))
    for staff_id in db.session.scalars(fresh_rows):
        # link_token reads only the id and the nonce of the staff member.
        fresh = cast(Staff, SimpleNamespace(id=staff_id, invitation_nonce=tokens.new_nonce()))
        invites.append({"id": staff_id, "invitation_nonce": fresh.invitation_nonce,
                        "invitation_link_hash": tokens.digest(invitations.link_token(fresh))})
    db.session.execute(update(Staff), invites)


def import_staff(text: str, *, dry_run: bool = False) -> ImportResult:
    """Create or update staff from CSV text; raise invalid_import with every line error.

    Unrecorded: for setting up tests and the demo. The office's and the API's imports are
    ``stage_upload`` + ``import_jobs.start`` and ``import_upload``, which record who imported.
    """
    rows, errors = parse_rows(text)
    plan = plan_import(rows, errors)
    if plan.errors:
        raise _refuse(plan.errors)
    if dry_run:
        return ImportResult(created=len(plan.created), updated=len(plan.updated), unchanged=plan.unchanged)
    return _apply(plan, rows)


# --- the office's two steps -----------------------------------------------------------------


def _require_admin(actor: Actor) -> None:
    if actor.user is None or actor.user.role != "admin":
        raise DomainError("forbidden", _l("Only the My Number section (admin) may import the staff list."))


def _record_refusal(actor: Actor, filename: str, errors: list[LineError]) -> None:
    # Kept although the answer is a refusal: written in a transaction of its own.
    audit.record_apart("import.staff.refused", actor=actor, target_type="staff_import",
                       filename=(filename or "")[:100], errors=len(errors))


def import_upload(actor: Actor, data: bytes, *, filename: str = "") -> ImportResult:
    """The API's import: the whole CSV file checked, then applied in this transaction, or nothing."""
    _require_admin(actor)
    try:
        text = decode(data)
    except UnicodeDecodeError:
        raise DomainError(
            "invalid_import",
            _l("The file could not be read. Save it as CSV in UTF-8 or Shift_JIS and try again."),
            errors=[{"line": 1, "field": "", "message": str(_l("Unreadable text encoding."))}],
        ) from None
    rows, errors = parse_rows(text)
    plan = plan_import(rows, errors)
    if plan.errors:
        _record_refusal(actor, filename, plan.errors)
        raise _refuse(plan.errors)
    result = _apply(plan, rows)
    audit.record("import.staff", actor=actor, target_type="staff_import", filename=(filename or "")[:100] or None,
                 sha256=hashlib.sha256(data).hexdigest(), lines=len(rows), created=result.created,
                 updated=result.updated, unchanged=result.unchanged)
    return result


def stage_upload(actor: Actor, filename: str, data: bytes, *, now: datetime | None = None
                 ) -> tuple[StaffImportBatch | None, Parsed, ImportPlan]:
    """Read and plan an upload; keep the rows for confirmation when there is no error.

    Returns the batch (None when the file has errors, which is recorded), what was read and
    the plan.
    """
    _require_admin(actor)
    assert actor.user is not None
    now = now or utcnow()
    parsed = parse_upload(filename, data)
    plan = plan_import(parsed.rows, parsed.errors, parsed.positions, parsed.headings)
    if plan.errors:
        _record_refusal(actor, filename, plan.errors)
        return None, parsed, plan
    # Only now, once the file is read: on SQLite this DELETE takes the one write lock, and every
    # booking would wait for as long as a big file takes to read.
    db.session.execute(delete(StaffImportBatch).where(StaffImportBatch.created_at < now - BATCH_LIFETIME))
    batch = StaffImportBatch(
        state="pending",
        id=secrets.token_urlsafe(32),
        user_id=actor.user.id,
        filename=(filename or "")[:255],
        content_digest=hashlib.sha256(data).hexdigest(),
        rows=[[line, values] for line, values in parsed.rows],
        plan_digest=plan.digest(),
        created_at=now,
    )
    db.session.add(batch)
    db.session.add(StaffImportNumbers(batch_id=batch.id, numbers=[values["staff_number"] for _line, values in parsed.rows]))
    db.session.flush()
    return batch, parsed, plan


def load_batch(actor: Actor, batch_id: str, *, now: datetime | None = None) -> StaffImportBatch:
    """The user's own pending upload; anyone else's, or a stale one, is not found."""
    _require_admin(actor)
    assert actor.user is not None
    now = now or utcnow()
    batch = db.session.get(StaffImportBatch, batch_id) if batch_id else None
    if batch is None or batch.user_id != actor.user.id or batch.created_at < now - BATCH_LIFETIME:
        raise NotFound(_l("This upload is no longer waiting for confirmation. Upload the file again."))
    return batch


def discard(actor: Actor, batch: StaffImportBatch) -> None:
    """Throw away an upload not yet started: nothing of it is imported."""
    _require_admin(actor)
    if batch.state != "pending":
        raise DomainError("import_started", _l("This import has already been started."))
    audit.record("import.staff.discarded", actor=actor, target_type="staff_import",
                 filename=batch.filename[:100], sha256=batch.content_digest)
    db.session.delete(batch)
    db.session.flush()


def batch_rows(batch: StaffImportBatch) -> list[tuple[int, dict]]:
    return [(int(line), dict(values)) for line, values in batch.rows]


def batch_plan(batch: StaffImportBatch) -> ImportPlan:
    return plan_import(batch_rows(batch))


# --- files we hand out ----------------------------------------------------------------------


def neutralise(value: object) -> str:
    """A cell value that no spreadsheet will run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def template_headings(japanese: bool = False) -> list[str]:
    return [JAPANESE_HEADINGS[c] for c in COLUMNS] if japanese else list(COLUMNS)


def template_csv(japanese: bool = False) -> bytes:
    """The header row in UTF-8 with BOM, so that Excel opens it with the right encoding."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(template_headings(japanese))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(japanese: bool = False) -> bytes:
    """A workbook with the header row as text columns, and a sheet explaining each column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None, "a new Workbook has one sheet, its active one"
    sheet.title = "staff"
    sheet.append(template_headings(japanese))
    for index, column in enumerate(template_headings(japanese), start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        letter = column_letter(index)
        sheet.column_dimensions[letter].width = max(14, len(column) + 4)
        # Text cells keep leading zeros in staff numbers and phone numbers.
        for row in range(2, 1001):
            sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    guide = workbook.create_sheet("columns")
    guide.append(["column", "required", "example", "notes"])
    for column, required, example, notes in TEMPLATE_GUIDE:
        guide.append([JAPANESE_HEADINGS[column] if japanese else column, "yes" if required else "", example,
                      str(notes)])
    for letter, width in zip("ABCD", (20, 10, 22, 60)):
        guide.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


#: (column, required, example, notes) shown on the import page and in the XLSX template, the
#: notes in the language of the page.
TEMPLATE_GUIDE = (
    ("staff_number", True, "1001", _l("Staff number (職員番号): letters, digits and hyphens; full-width digits "
                                      "are folded.")),
    ("family_name", True, "佐藤", _l("Family name (姓)")),
    ("given_name", True, "翔太", _l("Given name (名)")),
    ("family_name_kana", True, "サトウ", _l("Family name in kana (セイ): katakana, or hiragana, which is "
                                           "turned into katakana")),
    ("given_name_kana", True, "ショウタ", _l("Given name in kana (メイ)")),
    ("unit_code", True, "A", _l("Unit code (所属コード), as on the units page")),
    ("crew", False, "1部", _l("Crew (部): 1部, 2部, 3部, 日勤…")),
    ("email", False, "", _l("E-mail address")),
    ("phone", False, "", _l("Phone number")),
    ("card_status", False, "none", _l("Card status: none / applied / received, or 未申請 / 申請済み / 取得済み. "
                                      "Empty means none.")),
    ("municipality_code", False, "", _l("Where the person is registered (住民登録地コード): the six-digit local "
                                        "government code of a municipality on the municipalities page; empty: "
                                        "not known")),
    ("joined_on", False, "2026-04-01", _l("The day they joined the department (入職日): counted in reports as of "
                                          "this day and after. Empty: from the day of the import")),
    ("left_on", False, "", _l("The first day they no longer belong (離職日): not counted from this day on; for a "
                              "retirement on 31 March write 1 April. Empty: still serving")),
)


def export_rows(staff: Iterable[Staff]) -> Iterable[list[str]]:
    """Staff as rows of the import format, neutralised against formulas."""
    yield list(COLUMNS)
    for s in staff:
        yield [neutralise(v) for v in (
            s.staff_number, s.family_name, s.given_name, s.family_name_kana, s.given_name_kana,
            s.unit.code, s.crew, s.email, s.phone, s.card_status, s.municipality_code or "",
            _stored(s, "joined_on"), _stored(s, "left_on"))]

