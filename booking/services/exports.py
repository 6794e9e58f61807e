"""Writing CSV and XLSX files that are safe to open in a spreadsheet.

Every cell that starts with = + - @ (or a tab / carriage return) is neutralised
with a leading apostrophe, so that a name or note typed by anyone cannot run
as a formula when HQ opens the file in Excel (CSV/formula injection).
Numbers stay numbers: only text is touched.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from . import audit
from .actor import Actor

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value: object) -> object:
    """The value as it may go into a cell: text that could start a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(safe_cell(value))


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 with BOM (so Excel in Japan reads it as UTF-8), CRLF line ends, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_text(h) for h in header])
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


class XlsxFile:
    """A workbook built in memory with XlsxWriter, every cell made safe.

    XlsxWriter streams each sheet's XML as it is written, about twice as fast as
    building openpyxl's cell objects (a 500-person roster: 77 → 40 ms of CPU).
    openpyxl stays for reading uploads, which XlsxWriter cannot do.
    Rows and columns are counted from 0, as in XlsxWriter.
    """

    def __init__(self, font: str) -> None:
        self._buffer = io.BytesIO()
        # No conversion of text that looks like a formula, number or link: a cell
        # holds exactly the (neutralised) text it was given.
        self.book = xlsxwriter.Workbook(self._buffer, {
            "in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
            "strings_to_urls": False,
        })
        self._font = font
        self._formats: dict[tuple, object] = {}

    def format(self, **properties: object) -> Format:
        """A cell format in the file's font; the same properties give the same format object."""
        key = tuple(sorted(properties.items()))
        if key not in self._formats:
            self._formats[key] = self.book.add_format({"font_name": self._font, **properties})
        return self._formats[key]

    def write_row(self, sheet: Worksheet, row: int, values: Sequence[object], cell_format: Format | None = None,
                  formats: dict[int, object] | None = None) -> None:
        """One row of cells from column A; ``formats`` overrides the format of some columns."""
        for column, value in enumerate(values):
            chosen = (formats or {}).get(column, cell_format)
            value = safe_cell(value)
            if isinstance(value, (date, datetime)):
                sheet.write_datetime(row, column, value, chosen)
            elif value is None:
                sheet.write_blank(row, column, None, chosen)
            else:
                sheet.write(row, column, value, chosen)

    def to_bytes(self) -> bytes:
        self.book.close()
        return self._buffer.getvalue()


def set_a4(sheet: Worksheet, *, landscape: bool = False, title_rows: tuple[int, int] | None = None) -> None:
    """A4 print setup, fit to one page wide, with the given rows repeated on every printed page."""
    sheet.set_paper(9)
    if landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.center_horizontally()
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    if title_rows:
        sheet.repeat_rows(*title_rows)
    sheet.set_footer("&C&P / &N")


def set_widths(sheet: Worksheet, widths: Sequence[float]) -> None:
    for index, width in enumerate(widths):
        sheet.set_column(index, index, width)


# --- personal data leaving the system: one audit event per file or print ------------------
# The files are read-only acts, but they take personal data out of the system, so each is
# recorded (the audit page's "export" group) whichever way it was asked for.


def roster_exported(actor: Actor, session_ids: Sequence[int], *, fmt: str, rows: int) -> None:
    audit.record("roster.export", actor=actor, target_type="desk_session",
                 target_id=",".join(str(session_id) for session_id in session_ids), format=fmt, rows=rows)


def status_exported(actor: Actor, as_of: date, *, fmt: str) -> None:
    audit.record("report.status", actor=actor, format=fmt, as_of=as_of.isoformat())


def upward_exported(actor: Actor, days: Sequence[date], *, fmt: str) -> None:
    audit.record("report.upward", actor=actor, format=fmt, as_of=[day.isoformat() for day in days])


def staff_exported(actor: Actor, *, rows: int, q: str | None = None, unit_id: int | None = None,
                   crew: str | None = None, card_status: str | None = None) -> None:
    """The staff list's file, with the filters it was made with."""
    audit.record("export.staff", actor=actor, target_type="staff", rows=rows, q=q, unit_id=unit_id, crew=crew,
                 card_status=card_status)


def slips_printed(actor: Actor, staff_ids: Sequence[int]) -> None:
    audit.record("invitation.slips", actor=actor, count=len(staff_ids), staff_ids=list(staff_ids)[:200])
