"""The audit log page: every office action is listed, and the filters narrow it down."""
from __future__ import annotations

import re
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
    for action, label in (("login", "Signed in"), ("login.failed", "Sign-in failed"),
                          ("reservation.book", "Booking made"), ("invitation.reissue", "Invitation reissued"),
                          ("export.staff", "Staff list exported")):
        assert f'<td title="{action}">{label}</td>' in page
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


def test_actions_records_and_details_read_as_words_in_the_pages_language(activity, office):
    page = activity.get("/office/audit?lang=en").get_data(as_text=True)
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    assert f"Staff member #{office.ids['staff_b']}" in body            # invitation.reissue
    assert "Reservation #" in body and "<b>Booked through</b> Phone" in body  # the phone booking
    assert "<b>Rows</b> 3" in body and "<b>Staff number</b> 2001" in body
    for raw in ("<code>", "export.staff<", "staff #", "<b>rows</b>", "<b>staff_number</b>", "reservation #"):
        assert raw not in body, raw
    # The action filter names the actions and still sends their codes.
    assert '<option value="export.staff">Staff list exported</option>' in page
    assert '<option value="login.failed">Sign-in failed</option>' in page
    filtered = activity.get("/office/audit?lang=en&action=export.staff").get_data(as_text=True)
    assert '<option value="export.staff" selected>Staff list exported</option>' in filtered
    assert rows(activity.get("/office/audit?action=export.staff")) == 1


def test_the_log_is_japanese_by_default(activity, office):
    activity.set_cookie("lang", "", expires=0)
    page = activity.get("/office/audit").get_data(as_text=True)
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    assert f"職員 #{office.ids['staff_b']}" in body and "<b>職員番号</b> 2001" in body


def test_unknown_codes_are_shown_as_they_are_and_counts_of_moved_bookings_as_numbers(app, activity, office):
    from booking.extensions import db
    from booking.services import audit
    from booking.services.actor import Actor

    with app.app_context():
        audit.record("mystery.thing", actor=Actor.command_line(), target_type="gizmo", target_id=7, zap="on")
        audit.record("session.update", actor=Actor.command_line(), target_type="session", target_id=office.ids["session"],
                     changed=["starts_at"], moved=[{"reservation_id": 1, "code": "X", "from": "a", "to": "b"}],
                     cancelled=[])
        audit.record("personal_data.erase", actor=Actor.command_line(), target_type="staff", target_id=99,
                     staff_number="9999", cancelled=1, photos=0)
        audit.record("roster.export", actor=Actor.command_line(), target_type="desk_session", target_id=office.ids["session"],
                     format="csv", rows=4)
        db.session.commit()
    page = activity.get("/office/audit?lang=en").get_data(as_text=True)
    assert '<td title="mystery.thing">mystery.thing</td>' in page and "gizmo #7" in page and "<b>zap</b> on" in page
    assert f"Session #{office.ids['session']}" in page and "<b>Bookings moved</b> 1" in page
    assert "<b>Changed</b> starts_at" in page and "people to contact" in page
    assert "<b>Bookings cancelled</b> 1" in page                 # a count here, a list on session events
    assert "<b>Format</b> csv" in page and "<b>Rows</b> 4" in page
    assert '<option value="mystery.thing">mystery.thing</option>' in page


def test_every_action_the_app_records_has_a_label():
    """Scans booking/ for the actions passed to audit.record (directly, or through a variable)."""
    import ast
    import re
    from pathlib import Path

    from booking.models import APPROVAL_STATUSES
    from booking.services.audit import ACTION_LABELS

    code = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")

    def strings(node):  # the literal codes in an expression, not the pieces of an f-string
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and code.match(node.value):
            yield node.value
        elif not isinstance(node, ast.JoinedStr):
            for child in ast.iter_child_nodes(node):
                yield from strings(child)

    found = {f"reservation.duty_{status}" for status in APPROVAL_STATUSES if status != "pending"}
    for path in (Path(__file__).resolve().parents[2] / "booking").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.Module)):
                continue
            assigned = {}
            for node in ast.walk(function):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        names = target.elts if isinstance(target, ast.Tuple) else [target]
                        values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                        for name, value in zip(names, values):
                            if isinstance(name, ast.Name):
                                assigned.setdefault(name.id, []).append(value)
            for node in ast.walk(function):
                if not (isinstance(node, ast.Call) and node.args):
                    continue
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                if name not in ("record", "_audit"):
                    continue
                argument = node.args[-1] if name == "_audit" else node.args[0]
                sources = assigned.get(argument.id, []) if isinstance(argument, ast.Name) else [argument]
                for source in sources:
                    found.update(strings(source))
    assert {"login", "export.staff", "photo.take", "reservation.move", "import.staff.failed"} <= found
    assert sorted(found - set(ACTION_LABELS)) == []


def test_the_exports_group_holds_every_way_personal_data_left_the_system(activity, office):
    activity.get(f"/chiefs/sessions/{office.ids['session']}/roster?format=csv")
    activity.get("/reports/upward?format=csv")
    activity.get(f"/office/personal-data/staff/{office.ids['staff_a']}.json")
    page = activity.get("/office/audit?group=export").get_data(as_text=True)
    listed = set(re.findall(r'<td title="([a-z_.]+)">', page))
    assert {"export.staff", "roster.export", "report.upward", "personal_data.export"} <= listed
    assert not listed & {"login", "reservation.book", "invitation.reissue"}


def test_the_command_line_shows_as_the_system_not_as_a_user_named_cli(app, activity, runner):
    assert runner.invoke(args=["create-api-token", "--username", "batch", "--role", "admin"]).exit_code == 0
    result = runner.invoke(args=["revoke-api-token", "--username", "batch"])
    assert result.exit_code == 0, result.output
    page = activity.get("/office/audit").get_data(as_text=True)
    assert '<td title="cli">The system</td>' in page
