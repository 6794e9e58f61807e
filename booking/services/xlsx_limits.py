"""Reading an uploaded XLSX workbook within bounds (issue 17, item 7).

An XLSX file is a zip archive of XML parts, and a few megabytes of it can unpack to a gigabyte:
an upload of 3 MB holding 1 GB of sheet XML held a worker's thread for minutes. openpyxl's
read-only mode streams the sheet, but it reads every part it is given, and it makes up rows and
cells the file only names: a sheet that declares the range A1:XFD1048576, or one row numbered
1,048,576, or a cell in column XFD, becomes a million rows or rows of 16,384 values. So the
readers of the staff import and the card status survey use the two bounds here:

* ``check_archive(data)`` reads the zip's directory only, before openpyxl opens the file:
  at most ``MAX_PARTS`` parts, none over ``MAX_PART_BYTES`` once unpacked, all of them together
  at most ``MAX_TOTAL_BYTES``, and none over 1 MiB packed more tightly than ``MAX_RATIO`` to 1
  (sheets saved by Excel or openpyxl pack about 10 to 20 to 1). The directory's sizes bound the
  work: zipfile never unpacks more than the size a part declares (a part that holds more fails
  its CRC check).
* ``rows(sheet)`` streams the rows of a read-only sheet as (row number, values): rows without a
  value are left out, only the first ``MAX_COLUMNS`` columns are read, there may be at most
  ``MAX_ROWS`` rows with values, and no row past Excel's last (1,048,576).

Both raise ``TooLarge`` with a message that tells the person what to do; the readers turn it
into their own refusal. A 50,000-line staff list saved by openpyxl (29 MB of sheet XML) is read.
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

from flask_babel import lazy_gettext as _l

MiB = 1024 * 1024
MAX_PARTS = 1000
MAX_PART_BYTES = 48 * MiB
MAX_TOTAL_BYTES = 64 * MiB
#: Unpacked ÷ packed size, for parts over 1 MiB unpacked.
MAX_RATIO = 100
MAX_COLUMNS = 64
MAX_ROWS = 100_000
EXCEL_LAST_ROW = 1_048_576


class TooLarge(Exception):
    """The workbook would cost more to read than any staff list or survey."""

    def __init__(self, message: Any):
        super().__init__(str(message))
        self.message = message


def check_archive(data: bytes) -> None:
    """Refuse a workbook whose parts unpack to more than a staff list or a survey could hold.

    A file that is not a zip archive passes: openpyxl refuses it as before."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return
    save_again = _l("Delete the sheets, columns and formatting the import does not need and save it "
                    "again, split it into several files, or save it as CSV.")
    if len(parts) > MAX_PARTS:
        raise TooLarge(_l("The workbook has too many parts to read (%(n)s; at most %(max)s). %(what)s",
                          n=f"{len(parts):,}", max=f"{MAX_PARTS:,}", what=save_again))
    total = sum(part.file_size for part in parts)
    largest = max(parts, key=lambda part: part.file_size, default=None)
    if total > MAX_TOTAL_BYTES or (largest is not None and largest.file_size > MAX_PART_BYTES):
        raise TooLarge(_l("The workbook is too large to read: %(mb)s MB once unpacked, and at most "
                          "%(max)s MB can be read (%(part_max)s MB in one sheet). %(what)s",
                          mb=f"{-(-total // MiB):,}", max=MAX_TOTAL_BYTES // MiB,
                          part_max=MAX_PART_BYTES // MiB, what=save_again))
    for part in parts:
        if part.file_size > MiB and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise TooLarge(_l("The workbook cannot be read: one of its parts unpacks to %(ratio)s times its "
                              "size, far more than a spreadsheet does. Save it again from Excel, or as CSV.",
                              ratio=f"{part.file_size // max(part.compress_size, 1):,}"))


def rows(sheet: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, values) of each row of a read-only sheet that holds a value, within the bounds.

    Trailing empty cells are left off; the row numbers are the sheet's own."""
    # The declared size is the file's word only: never pad rows beyond MAX_COLUMNS for it, and
    # never make up empty rows past Excel's last for it.
    width = sheet.max_column if isinstance(sheet.max_column, int) and 0 < sheet.max_column < MAX_COLUMNS \
        else MAX_COLUMNS
    found = 0
    for number, values in enumerate(sheet.iter_rows(min_row=1, max_row=EXCEL_LAST_ROW + 1, max_col=width,
                                                    values_only=True), start=1):
        if number > EXCEL_LAST_ROW:
            raise TooLarge(_l("The sheet has a row past Excel's last row (%(n)s), so it cannot be read. "
                              "Save it again from Excel, or as CSV.", n=f"{EXCEL_LAST_ROW:,}"))
        if values.count(None) == len(values):
            continue  # an empty row, or one of the rows openpyxl makes up for a gap: cheap to skip
        last = len(values)
        while last and (values[last - 1] is None or values[last - 1] == ""):
            last -= 1
        if not last:
            continue
        found += 1
        if found > MAX_ROWS:
            raise TooLarge(_l("The sheet has more than %(n)s rows. Split it into several files and import "
                              "each of them.", n=f"{MAX_ROWS:,}"))
        yield number, tuple(values[:last])
