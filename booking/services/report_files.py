"""The files chiefs and HQ download: rosters, unit status and the report upward, as CSV and XLSX.

CSV columns of the roster and the status report are the API contract
(API.md, "Rosters and reports"): English names, in that order. XLSX files are
for people: a title row, headers in the reader's language, a frozen header,
column widths and A4 print setup. Every cell goes through exports.safe_cell.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from xlsxwriter.worksheet import Worksheet

from ..localtime import TOKYO
from .card_life import CardCounts
from .exports import XlsxFile, csv_bytes, safe_cell, set_a4, set_widths
from .reports import RosterRow, UnitStatus

ROSTER_COLUMNS = ("time", "code", "staff_number", "name", "kana", "unit", "crew", "kind", "status")
STATUS_COLUMNS = (
    "unit_code", "unit", "staff", "staff_applied", "staff_received", "dependents",
    "dependents_applied", "dependents_received", "application_rate", "acquisition_rate",
)
#: Added after API.md's columns (issue 18): people holding a valid card on the day, of them those
#: whose card expires within the window, and those whose certificates expired or expire within it.
STATUS_CARD_COLUMNS = (
    "staff_valid_card", "staff_card_expiring", "staff_certificates_due",
    "dependents_valid_card", "dependents_card_expiring", "dependents_certificates_due",
)

_FONT = "Noto Sans CJK JP"
_GRID = {"border": 1, "border_color": "#808080", "valign": "vcenter"}
_HEAD = {**_GRID, "bold": True, "bg_color": "#EDEBF0", "text_wrap": True}
_DAY = "yyyy-mm-dd"
_RATE = "0.0"


def _table(xlsx: XlsxFile, sheet: Worksheet, header: Sequence[str], rows: Sequence[Sequence[object]], *,
           widths: Sequence[float], title: str, subtitle: str, landscape: bool = False,
           number_formats: dict[int, str] | None = None, bold_last_row: bool = False,
           indents: tuple[int, Sequence[int]] | None = None) -> None:
    """Title rows 1-2, header on row 4 (frozen, filtered, repeated when printed), then the rows.

    ``indents``: a column and each row's indent level there (Excel's own indent, so that the
    cell holds the name alone: sorting, filtering and lookups see no padding)."""
    width = len(header)
    for row, text, properties in ((0, title, {"bold": True, "font_size": 14}), (1, subtitle, {"font_size": 10})):
        # Titles carry campaign, venue and unit names: made safe like every other cell.
        if width > 1:
            sheet.merge_range(row, 0, row, width - 1, safe_cell(text), xlsx.format(**properties))
        else:
            xlsx.write_row(sheet, row, [text], xlsx.format(**properties))
    xlsx.write_row(sheet, 3, header, xlsx.format(**_HEAD))
    plain = {column: xlsx.format(**_GRID, num_format=f) for column, f in (number_formats or {}).items()}
    bold = {column: xlsx.format(**_GRID, bold=True, num_format=f) for column, f in (number_formats or {}).items()}
    last = 3 + len(rows)
    for index, values in enumerate(rows, start=4):
        is_bold = bold_last_row and index == last
        formats: dict[int, object] = dict(bold if is_bold else plain)
        if indents is not None and indents[1][index - 4]:
            formats[indents[0]] = xlsx.format(**_GRID, bold=is_bold, indent=indents[1][index - 4])
        if is_bold:
            xlsx.write_row(sheet, index, values, xlsx.format(**_GRID, bold=True), formats)
        else:
            xlsx.write_row(sheet, index, values, xlsx.format(**_GRID), formats)
    sheet.freeze_panes(4, 0)
    sheet.autofilter(3, 0, max(last, 3), width - 1)
    set_widths(sheet, widths)
    set_a4(sheet, landscape=landscape, title_rows=(3, 3))


def kind_label(row: RosterRow) -> str:
    if row.kind == "staff":
        return _("Staff")
    return _("Dependent") + (f" ({row.relation})" if row.relation else "")


# --- rosters --------------------------------------------------------------------------------


def roster_csv(rows: list[RosterRow]) -> bytes:
    return csv_bytes(ROSTER_COLUMNS, (
        (r.time, r.code, r.staff_number, r.name, r.kana, r.unit, r.crew, r.kind, r.status) for r in rows
    ))


def roster_xlsx(rows: list[RosterRow], *, title: str, subtitle: str) -> bytes:
    xlsx = XlsxFile(_FONT)
    sheet = xlsx.book.add_worksheet(_("Roster")[:31])
    header = [_("Time"), _("Code"), _("Staff number"), _("Name"), _("Kana"), _("Unit"), _("Crew"),
              _("Staff / dependent"), _("Reception"), _("Photo"), _("Application"), _("Remarks")]
    body = [
        (r.time, r.code, r.staff_number, r.name, r.kana, r.unit, r.crew, kind_label(r), "", "", "", "")
        for r in rows
    ]
    _table(xlsx, sheet, header, body, widths=(7, 10, 11, 16, 18, 18, 7, 14, 6, 6, 6, 20),
           title=title, subtitle=subtitle, landscape=True)
    return xlsx.to_bytes()


# --- unit status ----------------------------------------------------------------------------


def _rate(value: float | Decimal) -> str:
    return f"{value:.1f}"


def status_csv(statuses: list[UnitStatus], cards: dict[int, CardCounts] | None = None) -> bytes:
    """API.md's columns, then (issue 18) the card counts of ``card_life.counts_by_unit``."""
    cards = cards if cards is not None else {}
    return csv_bytes((*STATUS_COLUMNS, *STATUS_CARD_COLUMNS), (
        (s.unit_code, s.unit, s.staff, s.staff_applied, s.staff_received, s.dependents,
         s.dependents_applied, s.dependents_received, _rate(s.application_rate), _rate(s.acquisition_rate),
         *_card_cells(cards.get(s.unit_id or 0)))
        for s in statuses
    ))


def _card_cells(counts: CardCounts | None) -> tuple[int, ...]:
    counts = counts or CardCounts()
    return tuple(getattr(counts, name) for name in (
        "staff_valid", "staff_expiring", "staff_certificates_due",
        "dependents_valid", "dependents_expiring", "dependents_certificates_due"))


def status_xlsx(statuses: list[UnitStatus], totals: UnitStatus, *, as_of: date, title: str) -> bytes:
    xlsx = XlsxFile(_FONT)
    sheet = xlsx.book.add_worksheet(_("Status")[:31])
    header = [_("Unit code"), _("Unit"), _("Staff"), _("Staff applied"), _("Staff received"),
              _("Staff application rate (%)"), _("Staff acquisition rate (%)"), _("Dependents"),
              _("Dependents applied"), _("Dependents received"),
              # The last two are the unit's whole rates, staff and dependents together (issue 16).
              _("Application rate, staff and dependents together (%)"),
              _("Acquisition rate, staff and dependents together (%)")]
    rows = [*statuses, totals]
    body = [
        (s.unit_code, s.unit, s.staff, s.staff_applied, s.staff_received,
         float(s.staff_application_rate), float(s.staff_acquisition_rate), s.dependents, s.dependents_applied,
         s.dependents_received, float(s.application_rate), float(s.acquisition_rate))
        for s in rows
    ]
    _table(xlsx, sheet, header, body, widths=(10, 24, 8, 9, 9, 11, 11, 9, 9, 9, 13, 13), title=title,
           subtitle=_("As of %(day)s", day=as_of.isoformat()), landscape=True,
           number_formats={5: _RATE, 6: _RATE, 10: _RATE, 11: _RATE}, bold_last_row=True,
           indents=(1, [s.depth for s in rows]))
    return xlsx.to_bytes()


# --- the report upward ----------------------------------------------------------------------

UPWARD_COLUMNS = (
    "department", "as_of", "staff", "staff_applied", "staff_received", "staff_application_rate",
    "staff_acquisition_rate", "dependents", "dependents_applied", "dependents_received",
    "dependents_application_rate", "dependents_acquisition_rate", "total", "total_applied",
    "total_received", "application_rate", "acquisition_rate",
)


def _upward_values(department: str, as_of: date, t: UnitStatus) -> list:
    return [
        department, as_of, t.staff, t.staff_applied, t.staff_received, float(t.staff_application_rate),
        float(t.staff_acquisition_rate), t.dependents, t.dependents_applied, t.dependents_received,
        float(t.dependents_application_rate), float(t.dependents_acquisition_rate), t.people,
        t.staff_applied + t.dependents_applied, t.staff_received + t.dependents_received,
        float(t.application_rate), float(t.acquisition_rate),
    ]


def form_name(index: int, as_of: date) -> str:
    """様式1（12月末時点）: the form number and the day it stands for."""
    # The year is always said: a December form without it could be last year's.
    if as_of.month == 12 and as_of.day == 31:
        when = _("end of December %(year)s", year=as_of.year)
    elif as_of.month == 3 and as_of.day == 31:
        when = _("end of March %(year)s", year=as_of.year)
    else:
        when = as_of.isoformat()
    return _("Form %(n)s (%(when)s)", n=index, when=when)


def upward_csv(department: str, forms: list[tuple[date, UnitStatus]]) -> bytes:
    return csv_bytes(UPWARD_COLUMNS, (_upward_values(department, d, t) for d, t in forms))


def upward_xlsx(department: str, forms: list[tuple[date, UnitStatus]], *, made_at: datetime) -> bytes:
    """One sheet per form: a fixed form layout, then the same figures as one row for merging.

    The prefecture merges the answers of every fire HQ into one file, so each
    sheet ends with a header row and a single data row in fixed columns
    (A–Q), identical across departments, that can be copied under each other.
    """
    xlsx = XlsxFile(_FONT)
    cell, head = xlsx.format(**_GRID), xlsx.format(**_HEAD)
    label, day = xlsx.format(**_GRID, bold=True), xlsx.format(**_GRID, num_format=_DAY)
    rate = xlsx.format(**_GRID, num_format=_RATE)
    for index, (as_of, t) in enumerate(forms, start=1):
        sheet = xlsx.book.add_worksheet(_("Form %(n)s", n=index))
        sheet.merge_range("A1:F1", _("My Number card application and acquisition status"),
                          xlsx.format(bold=True, font_size=14))
        xlsx.write_row(sheet, 1, [form_name(index, as_of)], xlsx.format(bold=True))
        meta = [(_("Fire department"), department), (_("As of"), as_of),
                (_("Made on"), made_at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M"))]
        for offset, pair in enumerate(meta):
            xlsx.write_row(sheet, 2 + offset, pair, cell, {0: label, 1: day if offset == 1 else cell})
        header = [_("Category"), _("People"), _("Applicants"), _("Holders"), _("Application rate (%)"),
                  _("Acquisition rate (%)")]
        xlsx.write_row(sheet, 6, header, head)
        lines = [
            (_("Staff"), t.staff, t.staff_applied, t.staff_received, float(t.staff_application_rate),
             float(t.staff_acquisition_rate)),
            (_("Dependents"), t.dependents, t.dependents_applied, t.dependents_received,
             float(t.dependents_application_rate), float(t.dependents_acquisition_rate)),
            (_("Total"), t.people, t.staff_applied + t.dependents_applied, t.staff_received + t.dependents_received,
             float(t.application_rate), float(t.acquisition_rate)),
        ]
        for offset, line in enumerate(lines):
            xlsx.write_row(sheet, 7 + offset, line, cell, {4: rate, 5: rate})
        xlsx.write_row(sheet, 11, [_(
            "Applicants include holders. Rates are percentages of the people counted, one decimal."
        )], xlsx.format(font_size=9))
        xlsx.write_row(sheet, 13, [_("For merging (one row per fire department)")], xlsx.format(bold=True))
        xlsx.write_row(sheet, 14, UPWARD_COLUMNS, head)
        xlsx.write_row(sheet, 15, _upward_values(department, as_of, t), cell, {1: day})
        set_widths(sheet, (18, 16, 12, 12, 16, 16) + (12,) * 11)
        set_a4(sheet, landscape=False)
        sheet.print_area("A1:F12")
    return xlsx.to_bytes()
