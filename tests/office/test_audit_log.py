"""The audit log page: every office action is listed, and the filters narrow it down."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.office.conftest import sign_in


@pytest.fixture
def activity(app, client, office, login):
    sign_in(app.test_client(), "clerk", "wrong password")
    login("clerk")
    client.post(f"/office/phone/staff/{office.ids['staff_a']}/sessions/{office.ids['session']}",
                data={"slot_id": office.ids["slots"][0]})
    login("admin")
    client.post(f"/office/staff/{office.ids['staff_b']}/invitation")
    client.get("/office/staff/export.csv")
    return client


def rows(page) -> int:
    text = page.get_data(as_text=True)
    body = text[text.index("<tbody>"):text.index("</tbody>")]
    return body.count("<tr")


def test_the_log_lists_sign_ins_failures_bookings_changes_and_exports(activity):
    page = activity.get("/office/audit").get_data(as_text=True)
    for action in ("login", "login.failed", "reservation.book", "invitation.reissue", "export.staff"):
        assert f"<code>{action}</code>" in page
    assert "127.0.0.1" in page


@pytest.mark.parametrize("query, expected", [
    ("group=login", 3),           # the clerk's failure and sign-in, the admin's sign-in
    ("group=booking", 1),
    ("group=export", 1),
    ("username=clerk", 3),        # the failure names what was typed
    ("action=login.failed", 1),
    ("target_type=staff&target_id={staff_b}", 1),
])
def test_the_filters_narrow_the_log(activity, office, query, expected):
    query = query.format(**{k: v for k, v in office.ids.items() if not isinstance(v, list)})
    assert rows(activity.get(f"/office/audit?{query}")) == expected


def test_a_date_range_in_japan_time_filters_the_log(activity, office):
    tomorrow = office.today + timedelta(days=1)
    assert rows(activity.get(f"/office/audit?since={tomorrow}")) == 1  # the "No events match." row
    assert "No events match." in activity.get(f"/office/audit?since={tomorrow}").get_data(as_text=True)
    assert rows(activity.get(f"/office/audit?since={office.today}&until={office.today}")) >= 6
