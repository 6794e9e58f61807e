"""flask --app booking …: the commands an operator runs."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from .extensions import db
from .models import ROLES
from .services import accounts
from .services.errors import DomainError


def register(app: Flask) -> None:
    app.cli.add_command(create_api_token)
    app.cli.add_command(create_user)
    app.cli.add_command(revoke_api_token)
    app.cli.add_command(seed_demo)
    app.cli.add_command(snapshot)
    from .desk.commands import mark_no_shows, purge_photos

    app.cli.add_command(purge_photos)
    app.cli.add_command(mark_no_shows)
    # Faults and personal data (issue 7): flask check / backup / restore / purge-personal-data.
    from .operations import (
        backup_command,
        check_command,
        purge_personal_data,
        restore_command,
    )

    for command in (check_command, backup_command, restore_command, purge_personal_data):
        app.cli.add_command(command)


def fail(error: DomainError) -> None:
    """Stop a command with the domain's message, in English like the rest of the commands'
    output (outside a request the messages would take the default locale, Japanese)."""
    with force_locale("en"):
        # On a terminal there are no highlighted fields: say what is wrong with each option.
        if error.fields:
            raise click.ClickException(" ".join(str(text) for text in error.fields.values()))
        raise click.ClickException(str(error.message))


@click.command("create-api-token")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--unit", "unit_code", help="Unit code a chief is bound to.")
@with_appcontext
def create_api_token(username: str, role: str, unit_code: str | None) -> None:
    """Create the office user if missing and print a new API token on the last line."""
    try:
        user = accounts.ensure_user(username, role, unit_code=unit_code)
        token = accounts.issue_api_token(user)
    except DomainError as error:
        db.session.rollback()
        fail(error)
    db.session.commit()
    click.echo(f"API token for {username} ({role}):")
    click.echo(token)


@click.command("revoke-api-token")
@click.option("--username", help="Revoke every live token of this user.")
@click.option("--token", "token", help="Revoke this one token (read from standard input with -).")
@with_appcontext
def revoke_api_token(username: str | None, token: str | None) -> None:
    """Revoke API tokens at once: one token, or all of a user's. Calls with them then get 401."""
    from .services import audit

    if token == "-":
        token = click.get_text_stream("stdin").readline().strip()
    try:
        count = accounts.revoke_api_tokens(username=username, token=token)
    except DomainError as error:
        db.session.rollback()
        fail(error)
    audit.record("api_token.revoke", actor="cli", target_type="user", username=username or "", count=count)
    db.session.commit()
    click.echo(f"Revoked {count} API token(s).")
    if count == 0:
        raise SystemExit(1)


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--unit", "unit_code", help="Unit code a chief is bound to.")
@click.password_option(help="The password; given here, the command runs without a prompt (scripts, CI).")
@with_appcontext
def create_user(username: str, role: str, unit_code: str | None, password: str) -> None:
    """Create or update an office user who logs in with a password."""
    from .services import audit

    try:
        user = accounts.ensure_user(username, role, unit_code=unit_code, password=password)
    except DomainError as error:
        db.session.rollback()
        fail(error)
    # User changes are audited whichever way they are made (issue 3).
    audit.record("user.cli", actor="cli", target_type="user", target_id=user.id, username=username, role=role)
    db.session.commit()
    click.echo(f"User {username} ({role}) is ready.")


@click.command("seed-demo")
@click.option("--staff", "staff_count", default=300, show_default=True, help="How many staff to create.")
@with_appcontext
def seed_demo(staff_count: int) -> None:
    """Fill an empty database with the Fukushima-like demo and print how to log in."""
    from .demo import seed

    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        try:
            summary = seed(staff_count=staff_count)
        except DomainError as error:
            db.session.rollback()
            fail(error)
        db.session.commit()
        click.echo(summary)


@click.command("snapshot")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Day the counts are as of (default today); its month gets the snapshot.")
@with_appcontext
def snapshot(as_of) -> None:
    """Freeze each unit's card status counts for this month (safe to run daily: once per month)."""
    from .services import snapshots

    result = snapshots.take(as_of.date() if as_of else None)
    db.session.commit()
    month = result.month.strftime("%Y-%m")
    if result.already_taken:
        click.echo(f"Snapshot of {month} already taken (as of {result.as_of.isoformat()}); nothing changed.")
    else:
        click.echo(f"Snapshot of {month} taken as of {result.as_of.isoformat()}: {result.created} units.")
