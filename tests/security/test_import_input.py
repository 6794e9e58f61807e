"""Careless and hostile staff files through the office import page: wrong encodings, missing or
extra columns, duplicated staff numbers, formula-looking cells, and a 50,000-line file (each phase
timed and printed, the progress followed to the end)."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Staff
from tests.office.conftest import sign_in
from tests.office.import_steps import wait_for_import

HEADER = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,card_status"
ROW = "{n},山田,太郎,ヤマダ,タロウ,A,1部,,,none"


def _upload(client, data: bytes, name: str = "staff.csv"):
    # Encoded here rather than by the test client, which spools bodies over 500 KB to a temporary
    # file that it never closes (a ResourceWarning, an error under filterwarnings=error).
    boundary = "----outreach-desk-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return client.post("/office/staff/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _confirm(client, location: str):
    """Confirm the preview and follow the background import to its end through the progress endpoint."""
    page = client.get(location).get_data(as_text=True)
    batch = re.search(r'name="batch" type="hidden" value="([^"]+)"', page).group(1)
    digest = re.search(r'name="digest" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/office/staff/import/{batch}/confirm", data={"batch": batch, "digest": digest})
    assert response.status_code == 302, response.status_code
    if response.headers["Location"].endswith("/progress"):
        wait_for_import(client, batch)
    return client.get(response.headers["Location"], follow_redirects=True)


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Staff.id)))


@pytest.fixture
def admin(client, sec):
    client.set_cookie("lang", "en")
    sign_in(client, "admin")
    return client


def _refused(response, *needles) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == 422, response.status_code
    assert "Traceback" not in page
    for needle in needles:
        assert needle in page, needle
    return page


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_a_file_in_an_unreadable_encoding_is_refused_with_what_to_do(app, admin, encoding):
    before = _count(app)
    data = (HEADER + "\r\n" + ROW.format(n=4001) + "\r\n").encode(encoding)
    page = _refused(_upload(admin, data))
    assert "UTF-8" in page or "Shift_JIS" in page or "header" in page
    assert _count(app) == before


def test_latin_1_bytes_are_not_imported_as_mojibake_silently(app, admin):
    """Bytes that are neither UTF-8 nor CP932 text: refused, not stored as garbage names."""
    data = (HEADER + "\r\n4002,M\xfcller,J\xf6rg,Myura,Yorugu,A,,,,none\r\n").encode("latin-1")
    response = _upload(admin, data)
    if response.status_code == 302:  # read as CP932: then the preview shows it before anything is stored
        assert _count(app) == 4  # nothing imported until confirmed
    else:
        _refused(response)


def test_a_missing_required_column_is_named(app, admin):
    header = HEADER.replace("family_name_kana,", "")
    data = (header + "\r\n" + "4003,山田,太郎,タロウ,A,1部,,,none\r\n").encode()
    _refused(_upload(admin, data), "family_name_kana")


def test_extra_columns_are_ignored_and_said_so_or_accepted(app, admin):
    data = (HEADER + ",note,my_number\r\n" + ROW.format(n=4004) + ",hello,\r\n").encode()
    response = _upload(admin, data)
    assert response.status_code == 302
    _confirm(admin, response.headers["Location"])
    with app.app_context():
        assert db.session.scalar(select(Staff).where(Staff.staff_number == "4004")) is not None


def test_a_row_with_too_many_or_too_few_cells_is_a_line_error(app, admin):
    data = (HEADER + "\r\n" + ROW.format(n=4005) + ",extra,extra\r\n4006,山田\r\n").encode()
    response = _upload(admin, data)
    page = response.get_data(as_text=True)
    assert response.status_code in (302, 422) and "Traceback" not in page
    if response.status_code == 422:
        assert "3" in page  # the short line is named


def test_duplicated_staff_numbers_are_refused_with_both_lines_even_when_written_differently(app, admin):
    data = (HEADER + "\r\n" + ROW.format(n=4007) + "\r\n" + ROW.format(n="４００７") + "\r\n").encode()
    page = _refused(_upload(admin, data))
    assert "4007" in page and "2" in page and "3" in page
    assert _count(app) == 4


def test_formula_looking_cells_are_stored_as_text_and_never_evaluated(app, admin):
    data = (HEADER + "\r\n4008,=1+1,@SUM(A1),ヤマダ,タロウ,A,-1部,,,none\r\n").encode()
    response = _upload(admin, data)
    if response.status_code == 302:
        _confirm(admin, response.headers["Location"])
        with app.app_context():
            staff = db.session.scalar(select(Staff).where(Staff.staff_number == "4008"))
            assert (staff.family_name, staff.given_name) == ("=1+1", "@SUM(A1)")
        exported = admin.get("/office/staff/export.csv").get_data().decode("utf-8-sig")
        assert "'=1+1" in exported and "'@SUM(A1)" in exported
    else:
        _refused(response)


def test_fifty_thousand_lines_import_through_the_pages_with_rising_progress_and_the_counts(app, admin,
                                                                                          record_property):
    lines = [HEADER] + [f"{5_000_000 + n},山田,{n},ヤマダ,タロウ,{'A' if n % 2 else 'B'},{n % 3 + 1}部,,,none"
                        for n in range(50_000)]
    data = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()
    started = time.perf_counter()
    response = _upload(admin, data)
    uploaded = time.perf_counter() - started
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    preview = admin.get(location).get_data(as_text=True)
    previewed = time.perf_counter() - started
    assert "50,000" in preview or "50000" in preview  # the preview tells the counts
    batch = re.search(r'name="batch" type="hidden" value="([^"]+)"', preview).group(1)
    digest = re.search(r'name="digest" type="hidden" value="([^"]+)"', preview).group(1)
    response = admin.post(f"/office/staff/import/{batch}/confirm", data={"batch": batch, "digest": digest})
    confirmed = time.perf_counter() - started
    assert response.headers["Location"] == f"/office/staff/import/{batch}/progress"
    seen: list[dict] = []
    final = wait_for_import(admin, batch, seen=seen)
    total = time.perf_counter() - started
    assert (final["state"], final["applied"], final["total"]) == ("done", 50_000, 50_000)
    assert (final["created"], final["updated"], final["unchanged"]) == (50_000, 0, 0)
    applied = [answer["applied"] for answer in seen]
    assert applied == sorted(applied), "progress never goes backwards"
    assert any(0 < n < 50_000 for n in applied), f"no progress seen between start and end: {applied[:5]}…"
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "50,000 of 50,000 lines" in page and "The import is finished: 50,000 created" in page
    assert _count(app) == 50_000 + 4
    phases = {"upload_and_check": round(uploaded, 1), "preview": round(previewed - uploaded, 1),
              "confirm_request": round(confirmed - previewed, 1), "background_apply": round(total - confirmed, 1),
              "total": round(total, 1), "polls": len(seen), "distinct_progress_values": len(set(applied))}
    record_property("import_50k_seconds", phases)
    print(f"\n50,000-line import: {phases}")
