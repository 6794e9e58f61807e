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


def xlsx_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_row(sheet, row_index: int, values: Sequence[object], *, style=None) -> None:
    """Write one row of cells, each made safe; ``style(cell)`` may format each."""
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row=row_index, column=column, value=safe_cell(value))
        if style is not None:
            style(cell)


def set_a4(sheet, *, landscape: bool = False, title_rows: str | None = None) -> None:
    """A4 print setup, fit to one page wide, with the given rows repeated on every printed page."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    if title_rows:
        sheet.print_title_rows = title_rows
    sheet.oddFooter.center.text = "&P / &N"


def set_widths(sheet, widths: Sequence[float]) -> None:
    from openpyxl.utils import get_column_letter

    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
