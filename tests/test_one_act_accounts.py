"""One act, one event (accounts, command line, imports, reports, personal data).

Every command and API call here that changes state (or takes personal data out) writes exactly
one audit event naming who acted, through which channel and from where; the office page doing
the same act writes the same action.
"""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AuditEvent, User
from booking.services import accounts
from tests.office.conftest import PASSWORD, Office, sign_in
from tests.office.import_steps import batch_of, wait_for_import

HEADER = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,card_status"
GOOD = "3001,山田,太郎,ヤマダ,タロウ,A,1部,,,none"
BAD = "3002,山田,,ヤマダ,ハナコ,NOPE,1部,,,none"


@pytest.fixture
def office(app) -> Office:
    return Office(app).build()


@pytest.fixture
def page(client, office):
    """The test client signed in as the office's admin (English messages)."""
    client.set_cookie("lang", "en")
    assert sign_in(client, "admin").status_code == 302
    return client


def last_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def events_since(app, after: int) -> list[tuple[str, str, str, str]]:
    """(action, actor, channel, address) of every event written after the event ``after``."""
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id))
        return [(e.action, e.actor, e.channel, e.remote_addr) for e in rows]


def one_event(app, after: int) -> tuple[str, str, str, str]:
    events = events_since(app, after)
    assert len(events) == 1, events
    return events[0]


def csv_file(*lines: str) -> bytes:
    return ("\r\n".join([HEADER, *lines]) + "\r\n").encode()


# --- office users and API tokens ------------------------------------------------------------


def test_create_user_on_the_command_line_and_on_the_page_is_one_user_create(app, runner, page):
    before = last_id(app)
    result = runner.invoke(args=["create-user", "--username", "ops", "--role", "clerk", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert one_event(app, before) == ("user.create", "cli", "cli", "")

    before = last_id(app)
    response = page.post("/office/users/new", data={
        "username": "web", "display_name": "", "role": "clerk", "unit_id": "",
        "password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 302
    assert one_event(app, before) == ("user.create", "admin", "page", "127.0.0.1")


def test_changing_a_user_on_the_command_line_and_on_the_page_is_one_user_update(app, runner, page, office):
    before = last_id(app)
    result = runner.invoke(args=["create-user", "--username", "clerk", "--role", "chief", "--unit", "A",
                                 "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert one_event(app, before) == ("user.update", "cli", "cli", "")

    before = last_id(app)
    response = page.post(f"/office/users/{office.ids['user_chief_b']}", data={
        "display_name": "北署長", "role": "chief", "unit_id": str(office.ids["B"]), "is_active": "y"})
    assert response.status_code == 302
    assert one_event(app, before) == ("user.update", "admin", "page", "127.0.0.1")


def test_create_api_token_writes_one_event(app, runner, office):
    before = last_id(app)
    result = runner.invoke(args=["create-api-token", "--username", "robot", "--role", "admin"])
    assert result.exit_code == 0, result.output
    assert one_event(app, before) == ("api_token.create", "cli", "cli", "")
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "robot")).password_hash is None


def test_revoke_api_token_writes_one_event(app, runner, office):
    runner.invoke(args=["create-api-token", "--username", "robot", "--role", "admin"])
    runner.invoke(args=["create-api-token", "--username", "robot", "--role", "admin"])
    before = last_id(app)
    result = runner.invoke(args=["revoke-api-token", "--username", "robot"])
    assert result.exit_code == 0, result.output
    assert one_event(app, before) == ("api_token.revoke", "cli", "cli", "")


def test_reset_two_factor_on_the_command_line_and_on_the_page_is_one_user_two_factor_reset(app, runner, page,
                                                                                           office):
    before = last_id(app)
    result = runner.invoke(args=["reset-two-factor", "--username", "clerk"])
    assert result.exit_code == 0, result.output
    assert one_event(app, before) == ("user.two_factor_reset", "cli", "cli", "")

    before = last_id(app)
    response = page.post(f"/office/users/{office.ids['user_clerk']}/two-factor/reset")
    assert response.status_code == 302
    assert one_event(app, before) == ("user.two_factor_reset", "admin", "page", "127.0.0.1")


def test_setting_up_two_step_sign_in_is_one_event_per_step(app, page):
    import re

    import pyotp

    before = last_id(app)
    assert page.post("/office/account/two-factor/start").status_code == 302
    assert one_event(app, before) == ("user.two_factor_started", "admin", "page", "127.0.0.1")
    secret = "".join(re.findall(r"<span>([A-Z2-7]{4})</span>", page.get("/office/account/two-factor").get_data(as_text=True)))
    before = last_id(app)
    assert page.post("/office/account/two-factor/confirm", data={"code": pyotp.TOTP(secret).now()}).status_code == 200
    assert one_event(app, before) == ("user.two_factor_on", "admin", "page", "127.0.0.1")


def test_a_refused_command_writes_nothing(app, runner, office):
    before = last_id(app)
    result = runner.invoke(args=["create-user", "--username", "ops", "--role", "clerk", "--password", "short"])
    assert result.exit_code == 1
    assert events_since(app, before) == []


def test_signing_in_and_out_are_one_event_each(app, client, office):
    before = last_id(app)
    assert sign_in(client, "clerk").status_code == 302
    assert one_event(app, before) == ("login", "clerk", "page", "127.0.0.1")
    before = last_id(app)
    assert client.post("/office/logout").status_code == 302
    assert one_event(app, before) == ("logout", "clerk", "page", "127.0.0.1")


# --- the data as a whole --------------------------------------------------------------------


def test_snapshot_on_the_command_line_and_on_the_page_is_one_report_snapshot(app, runner, page):
    last_month = (date.today().replace(day=1) - timedelta(days=1)).isoformat()
    before = last_id(app)
    result = runner.invoke(args=["snapshot", "--as-of", last_month])
    assert result.exit_code == 0, result.output
    assert one_event(app, before) == ("report.snapshot", "cli", "cli", "")

    before = last_id(app)
    assert page.post("/reports/snapshot").status_code == 302
    assert one_event(app, before) == ("report.snapshot", "admin", "page", "127.0.0.1")


def test_purge_personal_data_writes_one_event_for_the_campaigns_it_purged(app, runner, office):
    before = last_id(app)
    result = runner.invoke(args=["purge-personal-data", "--campaign", str(office.ids["campaign"]), "--yes"])
    assert result.exit_code == 0, result.output
    assert one_event(app, before) == ("retention.purge", "cli", "cli", "")
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.id > before))
        assert event.target_id == str(office.ids["campaign"])


# --- the staff import -----------------------------------------------------------------------


def test_the_api_import_writes_one_import_staff_event(app, client, office, admin_headers):
    before = last_id(app)
    response = client.post("/api/v1/staff/import", data=csv_file(GOOD),
                           headers={**admin_headers, "Content-Type": "text/csv"})
    assert response.status_code == 200, response.get_json()
    assert one_event(app, before) == ("import.staff", "admin-user", "api", "127.0.0.1")


def test_the_office_import_writes_the_same_action(app, page):
    response = page.post("/office/staff/import", data={"file": (io.BytesIO(csv_file(GOOD)), "staff.csv")},
                         content_type="multipart/form-data")
    batch = batch_of(response.headers["Location"])
    preview = page.get(response.headers["Location"]).get_data(as_text=True)
    digest = preview.split('name="digest" type="hidden" value="')[1].split('"')[0]
    before = last_id(app)
    response = page.post(f"/office/staff/import/{batch}/confirm", data={"batch": batch, "digest": digest})
    assert response.status_code == 302
    wait_for_import(page, batch)
    events = events_since(app, before)
    assert events[0] == ("import.staff.started", "admin", "page", "127.0.0.1")
    assert [(action, actor, channel) for action, actor, channel, _address in events[1:]] == [
        ("import.staff", "admin", "page")]


def test_a_refused_import_is_recorded_alike_through_the_api_and_the_page(app, client, office, admin_headers):
    before = last_id(app)
    response = client.post("/api/v1/staff/import", data=csv_file(BAD),
                           headers={**admin_headers, "Content-Type": "text/csv"})
    assert response.status_code == 422
    assert one_event(app, before) == ("import.staff.refused", "admin-user", "api", "127.0.0.1")

    client.set_cookie("lang", "en")
    sign_in(client, "admin")
    before = last_id(app)
    response = client.post("/office/staff/import", data={"file": (io.BytesIO(csv_file(BAD)), "staff.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert one_event(app, before) == ("import.staff.refused", "admin", "page", "127.0.0.1")


# --- files that take personal data out ------------------------------------------------------


def test_the_roster_file_is_one_roster_export_through_the_api_and_the_page(app, client, office, admin_headers):
    session_id = office.ids["session"]
    before = last_id(app)
    assert client.get(f"/api/v1/sessions/{session_id}/roster.csv", headers=admin_headers).status_code == 200
    assert one_event(app, before) == ("roster.export", "admin-user", "api", "127.0.0.1")

    client.set_cookie("lang", "en")
    sign_in(client, "admin")
    before = last_id(app)
    assert client.get(f"/chiefs/sessions/{session_id}/roster?format=csv").status_code == 200
    assert one_event(app, before) == ("roster.export", "admin", "page", "127.0.0.1")


def test_the_status_file_is_one_report_status_through_the_api_and_the_page(app, client, office, admin_headers):
    before = last_id(app)
    assert client.get("/api/v1/reports/status.csv", headers=admin_headers).status_code == 200
    assert one_event(app, before) == ("report.status", "admin-user", "api", "127.0.0.1")

    client.set_cookie("lang", "en")
    sign_in(client, "admin")
    before = last_id(app)
    assert client.get("/reports/status.csv").status_code == 200
    assert one_event(app, before) == ("report.status", "admin", "page", "127.0.0.1")


def test_the_accounts_helper_for_tests_writes_nothing(app, office):
    """accounts.ensure_user sets up tests and the demo; it is not an office act."""
    before = last_id(app)
    with app.app_context():
        accounts.ensure_user("fixture-user", "clerk")
        db.session.commit()
    assert events_since(app, before) == []
