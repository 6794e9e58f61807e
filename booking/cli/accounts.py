"""Office accounts on the command line: create-user, create-api-token, revoke-api-token,
reset-two-factor.

The same service and rules as the admin's user pages (services/users.py): the password
length, the username format, a chief's unit and the last active admin.
"""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from ..models import ROLES
from ..services import two_factor, users
from ..services.actor import Actor
from .common import one_transaction


@click.command("create-api-token")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--unit", "unit_code", help="Unit code a chief is bound to.")
@with_appcontext
def create_api_token(username: str, role: str, unit_code: str | None) -> None:
    """Create the office user if missing and print a new API token on the last line."""
    with one_transaction():
        _user, token = users.create_api_token(Actor.command_line(), username=username, role=role,
                                              unit_code=unit_code)
    click.echo(f"API token for {username} ({role}):")
    click.echo(token)


@click.command("revoke-api-token")
@click.option("--username", help="Revoke every live token of this user.")
@click.option("--token", "token", help="Revoke this one token (read from standard input with -).")
@with_appcontext
def revoke_api_token(username: str | None, token: str | None) -> None:
    """Revoke API tokens at once: one token, or all of a user's. Calls with them then get 401."""
    if token == "-":
        token = sys.stdin.readline().strip()
    with one_transaction():
        count = users.revoke_api_tokens(Actor.command_line(), username=username, token=token)
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
    with one_transaction():
        users.ensure_user(Actor.command_line(), username=username, role=role, unit_code=unit_code,
                          password=password)
    click.echo(f"User {username} ({role}) is ready.")


@click.command("reset-two-factor")
@click.option("--username", required=True)
@with_appcontext
def reset_two_factor(username: str) -> None:
    """Switch a user's two-step sign-in off (a lost phone; a locked-out last admin): the user then
    signs in with the password alone and sets it up again; their sessions end."""
    with one_transaction():
        user = users.user_by_username(username)
        if user is None:
            raise click.ClickException(f"No user is called {username}.")
        two_factor.reset(Actor.command_line(), user)
    click.echo(f"Two-step sign-in of {username} was reset; they sign in with the password and set it up again.")


COMMANDS = (create_api_token, revoke_api_token, create_user, reset_two_factor)
