"""Online backup and restore of an SQLite installation: database, photos, secret key.

The database is copied with SQLite's online backup API (sqlite3.Connection.backup):
a consistent snapshot taken while the app keeps serving (in WAL mode the copy
reads one snapshot and writers go on). The photo files copied are exactly those
the snapshot's photo rows name, so a restored installation passes ``flask check``.

A backup is a folder, or a .tar.gz of that folder when the path ends so:

    database.sqlite3   the snapshot
    photos/            the photo files the snapshot names
    secret_key         instance/secret_key, when the key comes from that file
    manifest.json      when, from which schema revision, counts and SHA-256 of each file

PostgreSQL installations use pg_dump instead (docs/deploy.md).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..localtime import utcnow
from .errors import DomainError

DATABASE_NAME = "database.sqlite3"
PHOTOS_NAME = "photos"
SECRET_NAME = "secret_key"
MANIFEST_NAME = "manifest.json"
#: Tables whose rows make a database "not empty" for restore without --force.
CONTENT_TABLES = ("users", "units", "staff", "campaigns", "reservations")


@dataclass
class BackupResult:
    path: Path
    counts: dict[str, int]
    photos: int
    missing_photos: list[str] = field(default_factory=list)
    secret_key: bool = False


@dataclass
class RestoreResult:
    counts: dict[str, int]
    photos: int
    secret_key: bool


def _sqlite_path() -> Path:
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise DomainError(
            "not_sqlite",
            _l("This installation uses PostgreSQL: back it up with pg_dump and restore it with "
               "pg_restore, as docs/deploy.md describes. The photo folder (PHOTO_DIR) and the secret "
               "key are copied separately."),
        )
    if not url.database or url.database == ":memory:":
        raise DomainError("not_sqlite", _l("An in-memory database cannot be backed up."))
    return Path(url.database)


def _secret_key_file() -> Path:
    configured = current_app.config.get("SECRET_KEY_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / "secret_key"


def _photo_dir() -> Path:
    return Path(current_app.config["PHOTO_DIR"])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _counts(connection: sqlite3.Connection) -> dict[str, int]:
    tables = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _is_archive(path: Path) -> bool:
    return path.name.endswith((".tar.gz", ".tgz"))


def backup(target: Path) -> BackupResult:
    """Write a backup to ``target`` (a new or empty folder, or a .tar.gz file that does not exist)."""
    source = _sqlite_path()
    target = Path(target)
    if _is_archive(target):
        if target.exists():
            raise DomainError("exists", _l("%(path)s already exists. Choose a new file name.", path=target))
        with tempfile.TemporaryDirectory(dir=target.parent if target.parent.exists() else None) as work:
            folder = Path(work) / "backup"
            result = _backup_into(source, folder)
            partial = target.with_name(target.name + ".part")
            with tarfile.open(partial, "w:gz") as archive:
                archive.add(folder, arcname=".")
            os.replace(partial, target)
        result.path = target
        return result
    if target.exists() and any(target.iterdir()):
        raise DomainError("exists", _l("%(path)s is not empty. Choose a new or empty folder.", path=target))
    return _backup_into(source, target)


def _backup_into(source: Path, folder: Path) -> BackupResult:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    snapshot = folder / DATABASE_NAME
    # Plain sqlite3 connections: the app's own (gated) connection class is for requests.
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(snapshot)
    try:
        with dst:
            src.backup(dst)  # one step: a single consistent snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
        counts = _counts(dst)
        names = [row[0] for row in dst.execute("SELECT storage_name FROM photos ORDER BY id")] \
            if "photos" in counts else []
        revision = None
        if "alembic_version" in counts:
            row = dst.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
    finally:
        src.close()
        dst.close()
    os.chmod(snapshot, 0o600)

    photos_out = folder / PHOTOS_NAME
    photos_out.mkdir(mode=0o700, exist_ok=True)
    photos_in = _photo_dir()
    files: dict[str, str] = {}
    missing = []
    for name in names:
        try:
            shutil.copy2(photos_in / name, photos_out / name)
        except FileNotFoundError:
            # Deleted (retention purge) between the snapshot and the copy, or already missing:
            # `flask check` on the restored copy names it.
            missing.append(name)
            continue
        files[f"{PHOTOS_NAME}/{name}"] = _sha256(photos_out / name)

    has_secret = False
    secret = _secret_key_file()
    if secret.is_file():
        shutil.copy2(secret, folder / SECRET_NAME)
        os.chmod(folder / SECRET_NAME, 0o600)
        files[SECRET_NAME] = _sha256(folder / SECRET_NAME)
        has_secret = True
    files[DATABASE_NAME] = _sha256(snapshot)
    manifest = {
        "format": 1,
        "created_at": utcnow().isoformat(),
        "schema_revision": revision,
        "counts": counts,
        "photos": len(names) - len(missing),
        "missing_photos": missing,
        "files": files,
    }
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return BackupResult(folder, counts, len(names) - len(missing), missing, has_secret)


def _database_has_content(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return any(connection.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone()
                   for t in CONTENT_TABLES if t in tables)
    finally:
        connection.close()


def restore(source: Path, *, force: bool = False) -> RestoreResult:
    """Bring a backup back into this installation's database, photo folder and secret key file.

    Stop the app first. Refuses to overwrite a database that holds data unless ``force``.
    """
    target = _sqlite_path()
    source = Path(source)
    if not source.exists():
        raise DomainError("not_found", _l("%(path)s does not exist.", path=source))
    if _database_has_content(target) and not force:
        raise DomainError(
            "not_empty",
            _l("The database %(path)s already holds data. Restoring replaces all of it: run the "
               "command again with --force if that is what you want (stop the app first).", path=target),
        )
    # The app's pooled connections must not keep a view of the old file.
    db.session.remove()
    db.engine.dispose()
    if source.is_file():
        with tempfile.TemporaryDirectory() as work:
            with tarfile.open(source, "r:gz") as archive:
                archive.extractall(work, filter="data")
            return _restore_from(Path(work), target)
    return _restore_from(source, target)


def _verify(folder: Path) -> dict:
    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.is_file() or not (folder / DATABASE_NAME).is_file():
        raise DomainError("invalid_backup", _l("%(path)s is not a backup made by `flask backup`.", path=folder))
    manifest = json.loads(manifest_path.read_text())
    for name, digest in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file() or _sha256(path) != digest:
            raise DomainError("invalid_backup",
                              _l("The backup is damaged: %(name)s is missing or changed.", name=name))
    return manifest


def _restore_from(folder: Path, target: Path) -> RestoreResult:
    _verify(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{folder / DATABASE_NAME}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        # The backup API writes through SQLite itself, so a -wal file beside the
        # target is handled and the result is one consistent database.
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
        counts = _counts(dst)
    finally:
        src.close()
        dst.close()

    photos_out = _photo_dir()
    photos_out.mkdir(parents=True, exist_ok=True, mode=0o700)
    wanted = {p.name for p in (folder / PHOTOS_NAME).iterdir()} if (folder / PHOTOS_NAME).is_dir() else set()
    for entry in photos_out.iterdir():
        # The restored rows name only the backup's files; anything else would be a stray.
        if entry.is_file() and entry.name not in wanted:
            entry.unlink()
    for name in wanted:
        shutil.copy2(folder / PHOTOS_NAME / name, photos_out / name)
        os.chmod(photos_out / name, 0o600)

    restored_secret = False
    if (folder / SECRET_NAME).is_file():
        secret = _secret_key_file()
        key = (folder / SECRET_NAME).read_text().strip()
        # Always: the restored invitation links, manage links and QR codes only work with their key.
        secret.parent.mkdir(parents=True, exist_ok=True)
        partial = secret.with_name(secret.name + ".part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        os.replace(partial, secret)
        restored_secret = True
    return RestoreResult(counts, len(wanted), restored_secret)
