"""The files chiefs and HQ download: rosters, unit status and the report upward, as CSV and XLSX.

CSV columns of the roster and the status report are the API contract
(API.md, "Rosters and reports"): English names, in that order. XLSX files are
for people: a title row, headers in the reader's language, a frozen header,
column widths and A4 print setup. Every cell goes through exports.safe_cell.
"""
from __future__ import annotations

from collections.abc import Sequence
from copy import copy
from datetime import date, datetime

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side

from ..localtime import TOKYO
from .exports import csv_bytes, safe_cell, set_a4, set_widths, write_row, xlsx_bytes
from .reports import RosterRow, UnitStatus

ROSTER_COLUMNS = ("time", "code", "staff_number", "name", "kana", "unit", "crew", "kind", "status")
STATUS_COLUMNS = (
    "unit_code", "unit", "staff", "staff_applied", "staff_received", "dependents",
    "dependents_applied", "dependents_received", "application_rate", "acquisition_rate",
)

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="EDEBF0")
_FONT = "Noto Sans CJK JP"


def _named_styles(workbook) -> None:
    """Register the head and body styles once: one named style per cell is far faster than four attributes."""
    head = NamedStyle(name="od_head", font=Font(name=_FONT, bold=True), fill=_HEAD_FILL, border=_BORDER,
                      alignment=Alignment(vertical="center", wrap_text=True))
    body = NamedStyle(name="od_body", font=Font(name=_FONT), border=_BORDER,
                      alignment=Alignment(vertical="center"))
    for style in (head, body):
        if style.name not in workbook.named_styles:
            workbook.add_named_style(style)


def _head(cell) -> None:
    cell.style = "od_head"


def _body(cell) -> None:
    cell.style = "od_body"


def _copying(apply):
    """``apply`` on the first cell, then its style copied to the others: openpyxl looks a
    named style up by name in a list for every cell, a fifth of a 500-row roster's time."""
    first = None

    def style(cell) -> None:
        nonlocal first
        if first is None:
            apply(cell)
            first = cell
        else:
            cell._style = copy(first._style)

    return style


def _title(sheet, text: str, subtitle: str, width: int) -> None:
    # Titles carry campaign, venue and unit names: made safe like every other cell.
    sheet.cell(row=1, column=1, value=safe_cell(text)).font = Font(name=_FONT, bold=True, size=14)
    sheet.cell(row=2, column=1, value=safe_cell(subtitle)).font = Font(name=_FONT, size=10)
    if width > 1:
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)


def _table(sheet, header: Sequence[str], rows, *, widths: Sequence[float], title: str, subtitle: str,
           landscape: bool = False) -> None:
    """Title rows 1-2, header on row 4 (frozen and repeated when printed), then the rows."""
    _title(sheet, title, subtitle, len(header))
    write_row(sheet, 4, header, style=_head)
    index = 4
    body = _copying(_body)
    for index, row in enumerate(rows, start=5):
        write_row(sheet, index, row, style=body)
    sheet.freeze_panes = "A5"
    sheet.auto_filter.ref = f"A4:{sheet.cell(row=4, column=len(header)).column_letter}{max(index, 4)}"
    set_widths(sheet, widths)
    set_a4(sheet, landscape=landscape, title_rows="4:4")


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
    workbook = Workbook()
    _named_styles(workbook)
    sheet = workbook.active
    sheet.title = _("Roster")[:31]
    header = [_("Time"), _("Code"), _("Staff number"), _("Name"), _("Kana"), _("Unit"), _("Crew"),
              _("Staff / dependent"), _("Reception"), _("Photo"), _("Application"), _("Remarks")]
    body = [
        (r.time, r.code, r.staff_number, r.name, r.kana, r.unit, r.crew, kind_label(r), "", "", "", "")
        for r in rows
    ]
    _table(sheet, header, body, widths=(7, 10, 11, 16, 18, 18, 7, 14, 6, 6, 6, 20),
           title=title, subtitle=subtitle, landscape=True)
    return xlsx_bytes(workbook)


# --- unit status ----------------------------------------------------------------------------


def _rate(value) -> str:
    return f"{value:.1f}"


def status_csv(statuses: list[UnitStatus]) -> bytes:
    return csv_bytes(STATUS_COLUMNS, (
        (s.unit_code, s.unit, s.staff, s.staff_applied, s.staff_received, s.dependents,
         s.dependents_applied, s.dependents_received, _rate(s.application_rate), _rate(s.acquisition_rate))
        for s in statuses
    ))


def status_xlsx(statuses: list[UnitStatus], totals: UnitStatus, *, as_of: date, title: str) -> bytes:
    workbook = Workbook()
    _named_styles(workbook)
    sheet = workbook.active
    sheet.title = _("Status")[:31]
    header = [_("Unit code"), _("Unit"), _("Staff"), _("Staff applied"), _("Staff received"),
              _("Staff application rate (%)"), _("Staff acquisition rate (%)"), _("Dependents"),
              _("Dependents applied"), _("Dependents received"), _("Application rate (%)"),
              _("Acquisition rate (%)")]
    body = [
        (s.unit_code, ("　" * s.depth) + s.unit, s.staff, s.staff_applied, s.staff_received,
         float(s.staff_application_rate), float(s.staff_acquisition_rate), s.dependents, s.dependents_applied,
         s.dependents_received, float(s.application_rate), float(s.acquisition_rate))
        for s in [*statuses, totals]
    ]
    _table(sheet, header, body, widths=(10, 24, 8, 9, 9, 11, 11, 9, 9, 9, 11, 11), title=title,
           subtitle=_("As of %(day)s", day=as_of.isoformat()), landscape=True)
    last = sheet.max_row
    for cell in sheet[last]:
        cell.font = Font(name=_FONT, bold=True)
    for row in sheet.iter_rows(min_row=5, max_row=last):
        for index in (5, 6, 10, 11):
            row[index].number_format = "0.0"
    return xlsx_bytes(workbook)


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
    if as_of.month == 12 and as_of.day == 31:
        when = _("end of December")
    elif as_of.month == 3 and as_of.day == 31:
        when = _("end of March")
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
    workbook = Workbook()
    _named_styles(workbook)
    workbook.remove(workbook.active)
    for index, (as_of, t) in enumerate(forms, start=1):
        sheet = workbook.create_sheet(_("Form %(n)s", n=index))
        sheet.cell(row=1, column=1, value=_("My Number card application and acquisition status")).font = Font(
            name=_FONT, bold=True, size=14)
        sheet.merge_cells("A1:F1")
        sheet.cell(row=2, column=1, value=form_name(index, as_of)).font = Font(name=_FONT, bold=True)
        meta = [(_("Fire department"), department), (_("As of"), as_of),
                (_("Made on"), made_at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M"))]
        for offset, (label, value) in enumerate(meta):
            write_row(sheet, 3 + offset, [label, value], style=_body)
            sheet.cell(row=3 + offset, column=1).font = Font(name=_FONT, bold=True)
        sheet.cell(row=4, column=2).number_format = "yyyy-mm-dd"
        header = [_("Category"), _("People"), _("Applicants"), _("Holders"), _("Application rate (%)"),
                  _("Acquisition rate (%)")]
        write_row(sheet, 7, header, style=_head)
        lines = [
            (_("Staff"), t.staff, t.staff_applied, t.staff_received, float(t.staff_application_rate),
             float(t.staff_acquisition_rate)),
            (_("Dependents"), t.dependents, t.dependents_applied, t.dependents_received,
             float(t.dependents_application_rate), float(t.dependents_acquisition_rate)),
            (_("Total"), t.people, t.staff_applied + t.dependents_applied, t.staff_received + t.dependents_received,
             float(t.application_rate), float(t.acquisition_rate)),
        ]
        for offset, line in enumerate(lines):
            write_row(sheet, 8 + offset, line, style=_body)
            for column in (5, 6):
                sheet.cell(row=8 + offset, column=column).number_format = "0.0"
        sheet.cell(row=12, column=1, value=_(
            "Applicants include holders. Rates are percentages of the people counted, one decimal."
        )).font = Font(name=_FONT, size=9)
        sheet.cell(row=14, column=1, value=_("For merging (one row per fire department)")).font = Font(
            name=_FONT, bold=True)
        write_row(sheet, 15, UPWARD_COLUMNS, style=_head)
        write_row(sheet, 16, _upward_values(department, as_of, t), style=_body)
        sheet.cell(row=16, column=2).number_format = "yyyy-mm-dd"
        set_widths(sheet, (18, 16, 12, 12, 16, 16) + (12,) * 11)
        set_a4(sheet, landscape=False)
        sheet.print_area = "A1:F12"
    return xlsx_bytes(workbook)
