"""`flask --app booking create-api-token …` (API.md "Bootstrap")."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from booking.extensions import db
from booking.models import User

ROOT = Path(__file__).resolve().parent.parent


def create_token(runner, *args: str):
    return runner.invoke(args=["create-api-token", *args])


def last_line(output: str) -> str:
    return output.rstrip("\n").splitlines()[-1]


def test_an_admin_token_is_printed_alone_on_the_last_line_and_works(runner, client, world):
    result = create_token(runner, "--username", "kato", "--role", "admin")
    assert result.exit_code == 0, result.output
    token = last_line(result.output)
    assert token == token.strip() and " " not in token and len(token) >= 32
    response = client.post("/api/v1/units", json={"code": "B", "name": "北消防署"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201


def test_each_run_prints_a_new_token_and_the_old_ones_keep_working(runner, client, world):
    first = last_line(create_token(runner, "--username", "kato", "--role", "admin").output)
    second = last_line(create_token(runner, "--username", "kato", "--role", "admin").output)
    assert first != second
    for token in (first, second):
        response = client.get(f"/api/v1/staff/{world.staff_number}/invitation",
                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200


def test_a_chief_token_is_bound_to_the_unit(app, runner, client, world):
    result = create_token(runner, "--username", "station-a", "--role", "chief", "--unit", "A")
    assert result.exit_code == 0, result.output
    token = last_line(result.output)
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "station-a"))
        assert (user.role, user.unit.code) == ("chief", "A")
    response = client.post("/api/v1/units", json={"code": "B", "name": "x"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


def test_an_unknown_unit_fails_clearly_and_creates_nobody(app, runner, world):
    result = create_token(runner, "--username", "ghost", "--role", "chief", "--unit", "NOPE")
    assert result.exit_code != 0
    assert last_line(result.output).startswith("Error:")
    assert "NOPE" in last_line(result.output)
    assert "highlighted" not in result.output
    # In English like the commands' other output, not in the default (Japanese) locale.
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", result.output), result.output
    with app.app_context():
        assert db.session.scalar(db.select(User).where(User.username == "ghost")) is None


def test_a_chief_without_a_unit_is_refused(app, runner, world):
    result = create_token(runner, "--username", "ghost", "--role", "chief")
    assert result.exit_code != 0
    assert last_line(result.output).startswith("Error:")
    assert len(last_line(result.output)) > len("Error: ") + 5
    with app.app_context():
        assert db.session.scalar(db.select(User).where(User.username == "ghost")) is None


def test_an_unknown_role_is_refused(runner, world):
    result = create_token(runner, "--username", "x", "--role", "superuser")
    assert result.exit_code != 0
    assert "superuser" in result.output


def test_rerunning_for_an_existing_user_changes_the_role(app, runner, world):
    create_token(runner, "--username", "kato", "--role", "clerk")
    create_token(runner, "--username", "kato", "--role", "chief", "--unit", "HQ")
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "kato"))
        assert (user.role, user.unit.code) == ("chief", "HQ")


def test_the_real_command_line_prints_a_working_token(tmp_path):
    """The whole path an operator takes: db upgrade, create-api-token, then the token over the API."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "cli-test"}
    command = [sys.executable, "-m", "flask", "--app", "booking"]
    for args in (["db", "upgrade"], ["create-api-token", "--username", "ops", "--role", "admin"]):
        result = subprocess.run([*command, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                                check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    token = last_line(result.stdout)

    from booking import create_app
    from booking.config import engine_options

    app = create_app({"SECRET_KEY": "cli-test", "SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url), "RATELIMIT_STORAGE_URI": "memory://"})
    response = app.test_client().post("/api/v1/units", json={"code": "HQ", "name": "本部"},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        db.engine.dispose()
