"""The data as a whole: seed-demo, check, backup, restore, snapshot, purge-personal-data.

docs/operations.md tells an operator when to run each.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from ..models import Campaign
from ..services.actor import Actor
from ..services.errors import DomainError
from .common import fail, one_transaction


@click.command("seed-demo")
@click.option("--staff", "staff_count", default=300, show_default=True, help="How many staff to create.")
@with_appcontext
def seed_demo(staff_count: int) -> None:
    """Fill an empty database with the Fukushima-like demo and print how to log in."""
    from ..demo import seed

    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        with one_transaction():
            summary = seed(staff_count=staff_count)
        click.echo(summary)


@click.command("check")
@click.option("--no-photos", is_flag=True, help="Skip comparing the photo folder with the photo rows.")
@click.option("--grace", "grace_seconds", default=600, show_default=True,
              help="Photo files younger than this many seconds are not called strays (uploads in flight).")
@with_appcontext
def check_command(no_photos: bool, grace_seconds: int) -> None:
    """Verify the database's invariants; print each violation and exit 1 if there is any."""
    from ..services import integrity

    report = integrity.check(None if no_photos else current_app.config["PHOTO_DIR"],
                             stray_grace_seconds=grace_seconds)
    db.session.rollback()  # a check changes nothing
    counts = ", ".join(f"{n} {name}" for name, n in report.counts.items())
    for violation in report.violations:
        click.echo(str(violation))
    if report.violations:
        click.echo(f"{len(report.violations)} violation(s) found ({counts}).", err=True)
        raise SystemExit(1)
    click.echo(f"OK: no violations ({counts}).")


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Back up the SQLite database, photos and secret key to PATH (a folder, or a file ending .tar.gz).

    Safe while the app serves. On PostgreSQL use pg_dump (docs/deploy.md).
    """
    from ..services import backup

    try:
        result = backup.backup(path)
    except DomainError as error:
        fail(error)
    click.echo(f"Backup written to {result.path}: {result.counts.get('reservations', 0)} reservations, "
               f"{result.photos} photos, secret key {'included' if result.secret_key else 'not in a file'}.")
    for name in result.missing_photos:
        click.echo(f"warning: photo file {name} was gone before it could be copied", err=True)


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Restore a backup made by `flask backup` (stop the app first)."""
    from ..services import backup

    try:
        result = backup.restore(path, force=force)
    except DomainError as error:
        fail(error)
    click.echo(f"Restored {result.counts.get('reservations', 0)} reservations and {result.photos} photos"
               f"{' and the secret key' if result.secret_key else ''}. Run `flask --app booking check` "
               "and `flask --app booking db upgrade`, then start the app.")


@click.command("snapshot")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Day the counts are as of (default today); its month gets the snapshot.")
@with_appcontext
def snapshot(as_of: datetime | None) -> None:
    """Freeze each unit's card status counts for this month (safe to run daily: once per month)."""
    from ..services import snapshots

    day: date | None = as_of.date() if as_of else None
    with one_transaction():
        result = snapshots.take(Actor.command_line(), day)
    month = result.month.strftime("%Y-%m")
    if result.already_taken:
        click.echo(f"Snapshot of {month} already taken (as of {result.as_of.isoformat()}); nothing changed.")
    else:
        click.echo(f"Snapshot of {month} taken as of {result.as_of.isoformat()}: {result.created} units.")


@click.command("purge-personal-data")
@click.option("--dry-run", is_flag=True, help="Only list the campaigns that are due.")
@click.option("--campaign", "campaign_id", type=int, default=None,
              help="Purge this campaign now, whether or not it is due (needs --yes).")
@click.option("--yes", is_flag=True, help="Confirm --campaign.")
@click.option("--now", "now_text", default=None, hidden=True)
@with_appcontext
def purge_personal_data(dry_run: bool, campaign_id: int | None, yes: bool, now_text: str | None) -> None:
    """Turn the bookings of campaigns past their retention into counts (safe to run daily from cron)."""
    from ..services import retention

    now = datetime.fromisoformat(now_text).astimezone(UTC) if now_text else datetime.now(UTC)
    if campaign_id is not None:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            raise click.ClickException(f"No campaign {campaign_id}.")
        if not yes:
            raise click.ClickException("Purging a campaign before it is due needs --yes.")
        campaigns = [campaign]
    else:
        campaigns = retention.due_campaigns(now)
    if not campaigns:
        click.echo("No campaign is past its retention; nothing to do.")
        return
    if dry_run:
        for campaign in campaigns:
            click.echo(f"due: campaign {campaign.id} {campaign.title}")
        return
    titles = {campaign.id: campaign.title for campaign in campaigns}
    with one_transaction():
        purged = retention.purge(Actor.command_line(), campaigns, now=now)
    for campaign_id_, removed in purged:
        click.echo(f"campaign {campaign_id_} {titles[campaign_id_]}: {removed.reservations} reservations, "
                   f"{removed.people} people, {removed.check_ins} check-ins and {removed.photos} photos "
                   "replaced by counts.")


COMMANDS = (seed_demo, check_command, backup_command, restore_command, snapshot, purge_personal_data)
