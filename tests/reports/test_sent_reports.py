"""The report upward as sent (issue 18): kept byte for byte, versions, and what changed since."""
from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEvent, SentReport, Staff
from booking.services import card_status


def _sent_links(html: str) -> list[str]:
    return re.findall(r'href="(/reports/upward/sent/\d+\.xlsx)"', html)


def test_a_sent_report_downloads_byte_identical_and_a_new_version_shows_the_changes(app, client, dept, login):
    login("admin")
    today = card_status.today()
    day = today - timedelta(days=20)
    page = client.get(f"/reports/upward?lang=en&as_of={day}&department=福島市消防本部").get_data(as_text=True)
    assert "No version of the report as of these dates has been recorded as sent." in page
    assert "Record as sent (version 1)" in page

    response = client.post("/reports/upward/sent", data={"as_of": day.isoformat(), "department": "福島市消防本部"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"] + "&lang=en").get_data(as_text=True)
    assert "No figure has changed since it was sent." in page and "Record as sent (version 2)" in page
    [link] = _sent_links(page)
    first = client.get(link)
    assert first.status_code == 200 and first.headers["Content-Disposition"].endswith('-v1.xlsx"')
    with app.app_context():
        stored = db.session.scalar(select(SentReport))
        assert hashlib.sha256(first.get_data()).hexdigest() == stored.sha256
        assert stored.sent_by.username == "admin-all" and stored.figures[day.isoformat()]["A"]["staff"] == 2

    # A correction dated back to before the survey date (learnt later): the report made now differs.
    with app.app_context():
        staff = db.session.get(Staff, dept.staff_ids["2001"])
        card_status.record_change(staff, "applied", on=day - timedelta(days=5), source="edit")
        db.session.commit()
    again = client.get(link)
    assert again.get_data() == first.get_data()  # the version sent, byte for byte
    sheet = load_workbook(io.BytesIO(again.get_data())).worksheets[0]
    assert sheet["C8"].value == 0  # staff applicants, as sent
    page = client.get(f"/reports/upward?lang=en&as_of={day}&department=福島市消防本部").get_data(as_text=True)
    changes = page.split("Changes since version 1 was sent")[1].split("</table>")[0]
    assert "中央消防署" in changes and "Staff applicants" in changes and "+1" in changes
    assert "Whole department" in changes
    assert "北消防署" not in changes  # units whose figures did not change are not listed

    assert client.post("/reports/upward/sent", data={"as_of": day.isoformat(), "department": "福島市消防本部"}
                       ).status_code == 302
    page = client.get(f"/reports/upward?lang=en&as_of={day}&department=福島市消防本部").get_data(as_text=True)
    links = _sent_links(page)
    assert len(links) == 2 and "No figure has changed since it was sent." in page
    assert client.get(links[1]).get_data() == first.get_data()  # version 1, still as it was
    second = load_workbook(io.BytesIO(client.get(links[0]).get_data())).worksheets[0]
    assert second["C8"].value == 1
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("report.upward.sent") == 2 and "report.upward.sent_download" in actions


def test_a_survey_date_still_to_come_cannot_be_recorded_as_sent(app, client, dept, login):
    login("admin")
    today = card_status.today()
    coming = today + timedelta(days=1)
    page = client.get(f"/reports/upward?lang=en&as_of={coming}").get_data(as_text=True)
    assert "This survey date has not come yet" in page and "Record as sent" not in page
    response = client.post("/reports/upward/sent", data={"as_of": coming.isoformat(), "department": "X"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(SentReport)) is None


def test_hq_downloads_a_sent_version_but_does_not_record_one(app, client, dept, login):
    login("admin")
    day = card_status.today() - timedelta(days=1)
    client.post("/reports/upward/sent", data={"as_of": day.isoformat(), "department": "X"})
    client.post("/office/logout")
    login("hq")
    page = client.get(f"/reports/upward?lang=en&as_of={day}&department=X").get_data(as_text=True)
    assert "Record as sent" not in page
    [link] = _sent_links(page)
    assert client.get(link).status_code == 200
    assert client.post("/reports/upward/sent", data={"as_of": day.isoformat(), "department": "X"}).status_code == 403
