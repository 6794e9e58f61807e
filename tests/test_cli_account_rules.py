"""The command line keeps the office page's account rules (services.users): the password length,
the username format and at least one active admin. Before, create-user and create-api-token
wrote the user directly and skipped them."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from booking.extensions import db
from booking.models import User
from booking.services import accounts
from booking.services.users import MIN_PASSWORD_LENGTH

PASSWORD = "correct horse battery"
SHORT = "short-pw"  # 8 characters: fewer than the page allows


@pytest.fixture
def admin_client(app, client):
    with app.app_context():
        accounts.ensure_user("boss", "admin", password=PASSWORD)
        db.session.commit()
    client.set_cookie("lang", "en")
    assert client.post("/office/login", data={"username": "boss", "password": PASSWORD}).status_code == 302
    return client


def _user(app, username: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None:
            db.session.expunge(user)
        return user


def _create_user(runner, *args: str):
    return runner.invoke(args=["create-user", *args])


def test_a_short_password_is_refused_on_the_command_line_with_the_pages_message(app, runner, admin_client):
    message = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    page = admin_client.post("/office/users/new", data={
        "username": "web-short", "display_name": "", "role": "clerk", "unit_id": "",
        "password": SHORT, "password_again": SHORT})
    assert page.status_code == 422 and message in page.get_data(as_text=True)

    result = _create_user(runner, "--username", "cli-short", "--role", "clerk", "--password", SHORT)
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1] == f"Error: {message}"
    assert _user(app, "cli-short") is None


def test_a_short_password_cannot_replace_a_good_one_on_the_command_line(app, runner):
    assert _create_user(runner, "--username", "ops", "--role", "clerk", "--password", PASSWORD).exit_code == 0
    result = _create_user(runner, "--username", "ops", "--role", "clerk", "--password", SHORT)
    assert result.exit_code == 1
    assert check_password_hash(_user(app, "ops").password_hash, PASSWORD)


def test_a_username_the_page_refuses_is_refused_on_the_command_line(app, runner):
    result = _create_user(runner, "--username", "a b", "--role", "clerk", "--password", PASSWORD)
    assert result.exit_code == 1
    assert "Use 3 to 80 letters, digits and . _ - @ only." in result.output
    assert _user(app, "a b") is None


def test_the_last_admin_cannot_be_demoted_on_the_command_line(app, runner):
    assert _create_user(runner, "--username", "only-admin", "--role", "admin", "--password", PASSWORD).exit_code == 0
    result = _create_user(runner, "--username", "only-admin", "--role", "clerk", "--password", PASSWORD)
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == "Error: Keep at least one active admin."
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", result.output)
    assert _user(app, "only-admin").role == "admin"


def test_the_last_admin_cannot_be_demoted_through_create_api_token(app, runner):
    assert _create_user(runner, "--username", "only-admin", "--role", "admin", "--password", PASSWORD).exit_code == 0
    result = runner.invoke(args=["create-api-token", "--username", "only-admin", "--role", "clerk"])
    assert result.exit_code == 1
    assert "Keep at least one active admin." in result.output
    assert _user(app, "only-admin").role == "admin"


def test_an_admin_can_be_demoted_while_another_admin_remains(app, runner):
    for name in ("first-admin", "second-admin"):
        assert _create_user(runner, "--username", name, "--role", "admin", "--password", PASSWORD).exit_code == 0
    result = _create_user(runner, "--username", "first-admin", "--role", "clerk", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert _user(app, "first-admin").role == "clerk"


def test_a_user_made_on_the_command_line_signs_in_on_the_page(app, runner, client):
    assert _create_user(runner, "--username", "ops", "--role", "admin", "--password", PASSWORD).exit_code == 0
    assert client.post("/office/login", data={"username": "ops", "password": PASSWORD}).status_code == 302
