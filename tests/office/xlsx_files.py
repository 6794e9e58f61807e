"""Workbooks made for the XLSX limits (issue 17, item 7): a real file whose first sheet is replaced."""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def cells(values: Iterable[object]) -> str:
    return "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values)


def with_sheet(chunks: Iterable[bytes]) -> bytes:
    """An openpyxl workbook whose first sheet's XML is the chunks, written as they come (deflated)."""
    template = io.BytesIO()
    Workbook().save(template)
    out = io.BytesIO()
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != SHEET:
                target.writestr(info.filename, source.read(info.filename))
        with target.open(SHEET, "w", force_zip64=True) as sheet:
            for chunk in chunks:
                sheet.write(chunk)
    return out.getvalue()


def sheet_xml(rows_xml: str, *, dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f"{HEAD}{dim}<sheetData>{rows_xml}</sheetData></worksheet>".encode()


def bomb(header: list[str], megabytes: int) -> bytes:
    """The header, then ``megabytes`` MiB of identical rows of 100 cells: packs about 300 to 1."""
    row = ("<row>" + cells(["x"] * 100) + "</row>").encode()
    block = row * (1024 * 1024 // len(row) + 1)

    def chunks():
        yield f"{HEAD}<sheetData><row>{cells(header)}</row>".encode()
        for _ in range(megabytes):
            yield block
        yield b"</sheetData></worksheet>"

    return with_sheet(chunks())
