"""Who may open which office page: a matrix over roles and every page (DESIGN.md rule 8).

A chief of unit A sees unit A and the branch office under it, never unit B; a
clerk takes phone bookings but sees no staff directory; only an admin manages
users, imports, campaigns and the audit log. Refusals are 403 (the check is in
the service queries, not only in the menu); anonymous visitors are sent to sign in.
"""
from __future__ import annotations

import pytest

from tests.office.conftest import ROLES, sign_in

ALL = set(ROLES)
ADMIN = {"admin"}
CHIEFS = {"admin", "chief_a", "chief_b"}
PHONE = {"admin", "clerk"}

# (endpoint, url, roles that get 200); ids are filled in from the office fixture.
PAGES = [
    ("office.overview", "/office/", ALL),
    ("office.list_users", "/office/users", ADMIN),
    ("office.create_user", "/office/users/new", ADMIN),
    ("office.edit_user", "/office/users/{user_clerk}", ADMIN),
    ("office.list_units", "/office/units", CHIEFS),
    ("office.edit_unit", "/office/units/new", ADMIN),
    ("office.edit_unit", "/office/units/{A}", ADMIN),
    ("office.list_venues", "/office/venues", ADMIN),
    ("office.edit_venue", "/office/venues/new", ADMIN),
    ("office.edit_venue", "/office/venues/{venue}", ADMIN),
    ("office.list_municipalities", "/office/municipalities", ADMIN),
    ("office.list_identity_documents", "/office/identity-documents", ADMIN),
    ("office.edit_identity_document", "/office/identity-documents/drivers_license", ADMIN),
    ("office.list_staff", "/office/staff", CHIEFS),
    ("office.list_staff", "/office/staff?unit={A}", {"admin", "chief_a"}),
    ("office.list_staff", "/office/staff?unit={A1}", {"admin", "chief_a"}),
    ("office.list_staff", "/office/staff?unit={B}", {"admin", "chief_b"}),
    ("office.show_staff", "/office/staff/{staff_a}", {"admin", "chief_a"}),
    ("office.show_staff", "/office/staff/{staff_a1}", {"admin", "chief_a"}),
    ("office.show_staff", "/office/staff/{staff_b}", {"admin", "chief_b"}),
    ("office.export_staff", "/office/staff/export.csv", ADMIN),
    ("office.import_staff", "/office/staff/import", ADMIN),
    ("office.import_template", "/office/staff/import/template.csv", ADMIN),
    ("office.import_template", "/office/staff/import/template.xlsx", ADMIN),
    ("office.show_campaign", "/office/campaigns/{campaign}", ALL),
    ("office.edit_campaign", "/office/campaigns/new", ADMIN),
    ("office.edit_campaign", "/office/campaigns/{campaign}/edit", ADMIN),
    ("office.create_session", "/office/campaigns/{campaign}/sessions/new", ADMIN),
    ("office.edit_session", "/office/sessions/{session}/edit", ADMIN),
    ("office.copy_session", "/office/sessions/{session}/copy", ADMIN),
    ("office.cancel_session", "/office/sessions/{session}/cancel", ADMIN),
    ("office.preview_session",
     "/office/sessions/preview?date=2030-07-10&start_time=15:00&end_time=16:00&slot_minutes=10&desks=2", ADMIN),
    ("office.phone", "/office/phone?q=サトウ", PHONE),
    ("office.phone_staff", "/office/phone/staff/{staff_a}", PHONE),
    ("office.phone_book", "/office/phone/staff/{staff_a}/sessions/{session}", PHONE),
    ("office.audit_log", "/office/audit", ADMIN),
    ("office.messages_page", "/office/messages", ADMIN),
    ("office.two_factor", "/office/account/two-factor", ALL),
    # Shift-aware planning
    ("office.edit_duty_calendar", "/office/units/{A}/duty", ADMIN),
    ("office.campaign_coverage", "/office/campaigns/{campaign}/coverage", ADMIN),
    # The waiting list of a session (the clerks call the next party when a seat frees at the desk).
    ("office.session_waitlist", "/office/sessions/{session}/waitlist", PHONE),
    # Personal data
    ("office.personal_data", "/office/personal-data", ADMIN),
    ("office.disclosure_print", "/office/personal-data/staff/{staff_a}", ADMIN),
    ("office.disclosure_json", "/office/personal-data/staff/{staff_a}.json", ADMIN),
]

# Changes: only the roles NOT listed may be refused here (allowed ones are tested where they act).
ACTIONS = [
    ("office.create_user", "/office/users/new", ADMIN),
    ("office.edit_user", "/office/users/{user_clerk}", ADMIN),
    ("office.reset_password", "/office/users/{user_clerk}/password", ADMIN),
    ("office.reset_two_factor", "/office/users/{user_clerk}/two-factor/reset", ADMIN),
    ("office.edit_unit", "/office/units/new", ADMIN),
    ("office.edit_venue", "/office/venues/new", ADMIN),
    ("office.update_staff", "/office/staff/{staff_a}", ADMIN),
    ("office.reissue_invitation", "/office/staff/{staff_a}/invitation", {"admin", "chief_a"}),
    ("office.reissue_invitation", "/office/staff/{staff_b}/invitation", {"admin", "chief_b"}),
    ("office.save_dependent", "/office/staff/{staff_a}/dependents", ADMIN),
    ("office.save_dependent", "/office/staff/{staff_a}/dependents/{spouse}", ADMIN),
    ("office.delete_dependent", "/office/staff/{staff_a}/dependents/{spouse}/delete", ADMIN),
    ("office.change_card", "/office/staff/{staff_a}/card", {"admin", "chief_a"}),
    ("office.change_card", "/office/staff/{staff_a}/dependents/{spouse}/card", {"admin", "chief_a"}),
    ("office.change_card", "/office/staff/{staff_b}/card", {"admin", "chief_b"}),
    ("office.import_staff", "/office/staff/import", ADMIN),
    ("office.confirm_import", "/office/staff/import/nothing/confirm", ADMIN),
    ("office.discard_import", "/office/staff/import/nothing/discard", ADMIN),
    ("office.import_departures", "/office/staff/import/nothing/departures", ADMIN),
    ("office.edit_campaign", "/office/campaigns/new", ADMIN),
    ("office.create_session", "/office/campaigns/{campaign}/sessions/new", ADMIN),
    ("office.edit_session", "/office/sessions/{session}/edit", ADMIN),
    ("office.copy_session", "/office/sessions/{session}/copy", ADMIN),
    ("office.cancel_session", "/office/sessions/{session}/cancel", ADMIN),
    ("office.phone_book", "/office/phone/staff/{staff_a}/sessions/{session}", PHONE),
    ("office.edit_duty_calendar", "/office/units/{A}/duty", ADMIN),
    ("office.add_coverage_sessions", "/office/campaigns/{campaign}/coverage/sessions", ADMIN),
    ("office.set_duty_approval", "/office/campaigns/{campaign}/coverage/approval", ADMIN),
    # Personal data
    ("office.disclosure_erase", "/office/personal-data/staff/{staff_a}/erase", ADMIN),
    ("office.retention_days", "/office/personal-data/retention/{campaign}", ADMIN),
]

# Every signed-in user sets up their own second step (tests/office/test_two_factor.py).
UNLISTED = {"office.login", "office.logout", "office.login_code", "office.start_two_factor",
            "office.confirm_two_factor", "office.preview_import", "office.import_progress",
            "office.import_progress_json", "office.session_contacts",
            "office.phone_done", "office.phone_cancel",
            # Without ticked suggestions it sends the admin back to the coverage page (a 302).
            "office.confirm_coverage_sessions",
            # a message's text: tests/office/test_mail_pages.py (admin only, every read audited)
            "office.message_page"}


def _url(template: str, office) -> str:
    return template.format(**{k: v for k, v in office.ids.items() if not isinstance(v, list)})


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_every_office_page_answers_each_role_as_the_matrix_says(app, client, office, role):
    if role != "anonymous":
        assert sign_in(client, role).status_code == 302
    for _endpoint, template, allowed in PAGES:
        url = _url(template, office)
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302 and "/office/login" in response.headers["Location"], url
        elif role in allowed:
            assert response.status_code == 200, (role, url, response.status_code)
        else:
            assert response.status_code == 403, (role, url, response.status_code)


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_every_office_change_is_refused_to_roles_outside_the_matrix(app, client, office, role):
    if role != "anonymous":
        sign_in(client, role)
    for _endpoint, template, allowed in ACTIONS:
        if role in allowed:
            continue
        url = _url(template, office)
        response = client.post(url, data={"family_name": "X", "role": "admin", "title": "X"})
        if role == "anonymous":
            assert response.status_code == 302 and "/office/login" in response.headers["Location"], url
        else:
            assert response.status_code == 403, (role, url, response.status_code)


def test_the_matrix_covers_every_office_route(app):
    covered = {endpoint for endpoint, _url, _roles in PAGES + ACTIONS} | UNLISTED
    office_endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("office.")}
    assert office_endpoints - covered == set()


def test_a_chief_lists_only_staff_of_their_units(client, office, login):
    login("chief_a")
    page = client.get("/office/staff").get_data(as_text=True)
    assert "佐藤 翔太" in page and "鈴木 大輔" in page
    assert "高橋 健一" not in page
    login("chief_b")
    page = client.get("/office/staff").get_data(as_text=True)
    assert "高橋 健一" in page and "佐藤 翔太" not in page


def test_a_chief_sees_only_their_part_of_the_unit_tree(client, office, login):
    login("chief_a")
    page = client.get("/office/units").get_data(as_text=True)
    assert "中央消防署 東出張所" in page
    assert "北消防署" not in page


def test_the_menu_shows_each_role_only_what_it_may_open(client, office, login):
    login("clerk")
    page = client.get("/office/").get_data(as_text=True)
    assert "/office/phone" in page
    assert "/office/users" not in page and "/office/staff\"" not in page and "/office/audit" not in page


def test_a_chief_cannot_reach_another_units_staff_through_the_phone_pages_either(client, office, login):
    login("chief_a")
    assert client.get(f"/office/phone/staff/{office.ids['staff_b']}").status_code == 403


def test_a_clerk_sees_every_unit_when_taking_phone_bookings(client, office, login):
    login("clerk")
    page = client.get("/office/phone?q=タカハシ").get_data(as_text=True)
    assert "高橋 健一" in page


def test_office_users_get_office_directions_on_error_pages_not_the_bookers(client, office, login):
    """A 403 or 404 in the office tells office staff what to do and leads back to the menu; the
    booker's directions (invitation links, the staff-number sign-in) are for bookers only."""
    login("chief_a")
    refused = client.get("/office/users")  # admins only
    assert refused.status_code == 403
    html = refused.get_data(as_text=True)
    assert "ask the My Number section's administrator" in html and 'href="/office/"' in html
    assert "Sign in with your staff number" not in html
    missing = client.get("/office/staff/999999")
    assert missing.status_code == 404
    html = missing.get_data(as_text=True)
    assert "Back to the office menu" in html and "invitation" not in html.lower()
    # Signed out, an office address leads to the office sign-in, a booker's to the booker's.
    client.post("/office/logout")
    assert "Sign in to the office" in client.get("/office/nothing-here").get_data(as_text=True)
    assert "Sign in with your staff number" in client.get("/i/not-a-real-token").get_data(as_text=True)
