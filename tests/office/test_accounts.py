"""Signing in and out, the login limit, cookies and CSRF, the command line, and user management."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEvent, User
from tests.office.conftest import PASSWORD, sign_in


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_successful_sign_in_is_audited_with_the_address(app, client, office):
    sign_in(client, "admin")
    [event] = _events(app, "login")
    assert event.actor == "admin" and event.remote_addr == "127.0.0.1"


def test_a_failed_sign_in_is_audited_with_the_name_typed(app, client, office):
    response = sign_in(client, "admin", "wrong password")
    assert response.status_code == 401
    assert "The username or password is wrong." in response.get_data(as_text=True)
    [event] = _events(app, "login.failed")
    assert event.actor == "admin" and event.user_id is None


def test_repeated_failed_sign_ins_are_paused_with_a_time_to_retry(app, client, office):
    for _ in range(5):
        assert sign_in(client, "admin", "wrong password").status_code == 401
    response = sign_in(client, "admin", PASSWORD)
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert re.search(r"Try again after \d\d:\d\d \(in about \d+ minutes\)", page), page
    assert int(response.headers["Retry-After"]) > 0
    assert _events(app, "login.blocked")


def test_the_pause_is_per_account_so_colleagues_behind_the_same_address_can_still_sign_in(client, office):
    for _ in range(5):
        sign_in(client, "admin", "wrong password")
    assert sign_in(client, "clerk").status_code == 302


def test_successful_sign_ins_do_not_count_towards_the_limit(client, office):
    for _ in range(8):
        assert sign_in(client, "clerk").status_code == 302


def test_the_session_cookie_is_httponly_and_samesite(client, office):
    response = sign_in(client, "admin")
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_signing_out_ends_the_session_and_is_audited(app, client, office, login):
    login("admin")
    response = client.post("/office/logout")
    assert response.status_code == 302
    assert client.get("/office/").status_code == 302
    assert _events(app, "logout")


def test_an_outside_next_address_is_not_followed_after_sign_in(client, office):
    response = client.post("/office/login?next=//evil.example/", data={"username": "admin", "password": PASSWORD})
    assert response.headers["Location"] == "/office/"


# --- CSRF -------------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(app, office):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    client.set_cookie("lang", "en")
    yield client
    app.config["WTF_CSRF_ENABLED"] = False


def test_every_office_form_refuses_a_post_without_its_csrf_token(app, csrf_client, office):
    client = csrf_client
    page = client.get("/office/login").get_data(as_text=True)
    token = re.search(r'value="([^"]+)"', page[page.index("csrf_token"):]).group(1)
    assert client.post("/office/login", data={"username": "admin", "password": PASSWORD,
                                              "csrf_token": token}).status_code == 302
    ids = {k: v for k, v in office.ids.items() if not isinstance(v, list)}
    posts = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("office.") and "POST" in rule.methods]
    assert len(posts) > 15
    for rule in posts:
        values = {}
        for argument in rule.arguments:
            values[argument] = {"user_id": ids["user_clerk"], "unit_id": ids["A"], "venue_id": ids["venue"],
                                "staff_id": ids["staff_a"], "dependent_id": ids["spouse"],
                                "campaign_id": ids["campaign"], "session_id": ids["session"],
                                "reservation_id": 1, "batch_id": "x", "event_id": 1,
                                "code": "drivers_license"}[argument]
        url = rule.build(values, append_unknown=False)[1]
        response = client.post(url, data={"title": "X", "username": "x", "password": "x"})
        assert response.status_code == 400, (url, response.status_code)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "x")) is None
    # The refusal page says what to do rather than failing silently.
    page = client.post("/office/users/new", data={"username": "x"}).get_data(as_text=True)
    assert "reload the page" in page


def test_a_form_with_its_token_is_accepted(app, csrf_client):
    client = csrf_client
    page = client.get("/office/login").get_data(as_text=True)
    token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/office/login", data={"username": "admin", "password": PASSWORD,
                                              "csrf_token": token}).status_code == 302


# --- the command line -------------------------------------------------------------------------
# The flask command pushes an application context for every command; the test runner does not.


@pytest.fixture
def runner(app):
    runner = app.test_cli_runner()
    invoke = runner.invoke

    def invoke_in_context(*args, **kwargs):
        with app.app_context():
            return invoke(*args, **kwargs)

    runner.invoke = invoke_in_context
    return runner


def test_create_user_runs_without_a_prompt_when_given_a_password(app, runner, client):
    result = runner.invoke(args=["create-user", "--username", "section", "--role", "admin",
                                 "--password", "a long enough secret"])
    assert result.exit_code == 0, result.output
    assert "section" in result.output
    assert sign_in(client, "section", "a long enough secret").status_code == 302


def test_create_user_binds_a_chief_to_a_unit(app, runner, office):
    result = runner.invoke(args=["create-user", "--username", "chief_c", "--role", "chief", "--unit", "A",
                                 "--password", "a long enough secret"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "chief_c"))
        assert user.unit.code == "A"


def test_create_user_refuses_a_chief_without_a_unit(runner, app):
    result = runner.invoke(args=["create-user", "--username", "c", "--role", "chief", "--password", "x" * 12])
    assert result.exit_code != 0
    assert result.output.startswith("Error: ") and len(result.output) > 10  # the reason, in the default language


def test_create_api_token_still_prints_the_token_on_the_last_line(runner, app):
    result = runner.invoke(args=["create-api-token", "--username", "robot", "--role", "admin"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    assert len(token) >= 40


# --- user management ------------------------------------------------------------------------


def test_an_admin_creates_a_chief_who_can_then_sign_in(app, client, office, login):
    login("admin")
    response = client.post("/office/users/new", data={
        "username": "chief_a2", "display_name": "中央 署長", "role": "chief", "unit_id": office.ids["A"],
        "password": "another good secret", "password_again": "another good secret"})
    assert response.status_code == 302
    assert [e.details["username"] for e in _events(app, "user.create")] == ["chief_a2"]
    other = app.test_client()
    assert sign_in(other, "chief_a2", "another good secret").status_code == 302
    assert other.get(f"/office/staff/{office.ids['staff_b']}").status_code == 403


def test_a_chief_needs_a_unit(client, office, login):
    login("admin")
    response = client.post("/office/users/new", data={
        "username": "nounit", "role": "chief", "unit_id": "", "password": "x" * 12, "password_again": "x" * 12})
    assert response.status_code == 422
    assert "A chief must be bound to a unit." in response.get_data(as_text=True)


def test_a_short_password_is_refused(client, office, login):
    login("admin")
    response = client.post("/office/users/new", data={
        "username": "shorty", "role": "clerk", "password": "short", "password_again": "short"})
    assert response.status_code == 422
    assert "at least 10 characters" in response.get_data(as_text=True)


def test_a_taken_username_is_refused_whatever_its_case(client, office, login):
    login("admin")
    response = client.post("/office/users/new", data={
        "username": "CLERK", "role": "clerk", "password": "x" * 12, "password_again": "x" * 12})
    assert response.status_code == 409


def test_an_admin_changes_a_users_role_and_unit(app, client, office, login):
    login("admin")
    response = client.post(f"/office/users/{office.ids['user_clerk']}", data={
        "display_name": "", "role": "chief", "unit_id": office.ids["B"], "is_active": "y"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, office.ids["user_clerk"])
        assert (user.role, user.unit.code) == ("chief", "B")
    [event] = _events(app, "user.update")
    assert set(event.details["changed"]) == {"role", "unit_id"}


def test_a_disabled_user_is_signed_out_and_cannot_sign_in(app, client, office, login):
    clerk = app.test_client()
    sign_in(clerk, "clerk")
    assert clerk.get("/office/phone").status_code == 200
    login("admin")
    client.post(f"/office/users/{office.ids['user_clerk']}", data={"role": "clerk", "unit_id": ""})
    assert clerk.get("/office/phone").status_code == 302
    assert sign_in(app.test_client(), "clerk").status_code == 401


def test_the_last_admin_cannot_be_demoted_or_disabled(app, client, office, login):
    login("admin")
    response = client.post(f"/office/users/{office.ids['user_admin']}", data={"role": "clerk", "is_active": "y"})
    assert response.status_code == 409
    assert "last active admin" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, office.ids["user_admin"]).role == "admin"


def test_a_password_reset_replaces_the_old_password(app, client, office, login):
    login("admin")
    response = client.post(f"/office/users/{office.ids['user_clerk']}/password", data={
        "reset-password": "brand new secret", "reset-password_again": "brand new secret"})
    assert response.status_code == 302
    assert sign_in(app.test_client(), "clerk").status_code == 401
    assert sign_in(app.test_client(), "clerk", "brand new secret").status_code == 302
    assert _events(app, "user.password_reset")


def test_office_pages_are_japanese_by_default(app):
    page = app.test_client().get("/office/login").get_data(as_text=True)
    assert '<html lang="ja">' in page and "ログイン" in page


def test_create_user_on_the_command_line_is_audited(app, runner):
    runner.invoke(args=["create-user", "--username", "ops", "--role", "clerk", "--password", "x" * 12])
    [event] = _events(app, "user.create")  # the same action as the page's
    assert (event.actor, event.channel, event.details["username"], event.details["role"]) == (
        "cli", "cli", "ops", "clerk")
