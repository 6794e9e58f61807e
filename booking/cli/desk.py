"""Desk commands for cron: purging photos past retention, closing ended sessions."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..services import checkin, photos
from ..services.actor import Actor
from .common import one_transaction


@click.command("purge-photos")
@with_appcontext
def purge_photos() -> None:
    """Delete application photos past their retention period (rule 7); safe to run from cron."""
    with one_transaction():
        result = photos.purge_expired(Actor.command_line())
    click.echo(f"Deleted {result.photos} photos past their retention period.")
    if result.orphan_files:
        click.echo(f"Removed {result.orphan_files} stray photo files with no record.")


@click.command("mark-no-shows")
@with_appcontext
def mark_no_shows() -> None:
    """Turn the reservations still 'booked' in every ended session into no-shows; safe to run from cron."""
    with one_transaction():
        done = checkin.close_ended_sessions(Actor.command_line())
    total = sum(done.values())
    click.echo(f"Marked {total} reservations as no-shows in {len(done)} ended sessions.")


COMMANDS = (purge_photos, mark_no_shows)
