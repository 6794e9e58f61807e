"""Staff imports waiting for confirmation, then running: the rows exactly as previewed, and progress."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.ext.associationproxy import association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..localtime import utcnow
from .organisation import User
from .types import UTCDateTime


class StaffImportBatch(Model):
    """An uploaded staff list: the rows exactly as previewed, then the import's progress.

    Kept in the database rather than on one host's disk so that the confirm
    request, the background job and the progress page may each land on any
    worker. ``state`` goes pending (previewed) → running (a job applies it in
    chunks, moving ``applied`` and the counts and touching ``heartbeat_at`` at
    every chunk) → done or failed. A running job whose heartbeat went stale
    (its worker died) is claimed by the next look at the progress page, by a
    conditional UPDATE of ``runner``, and continues from ``applied``. Deleted
    after BATCH_LIFETIME (services/staff_import.py).
    """

    __tablename__ = "staff_import_batches"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'running', 'done', 'failed')", name="state"),
    )

    #: Random and unguessable; the confirm form carries it.
    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    #: SHA-256 of the uploaded bytes, recorded in the audit log.
    content_digest: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the planned changes shown in the preview; confirm refuses any other plan.
    plan_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # --- the import job (migration 0008) ---
    state: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    #: Lines in the file, and how many of them (from the top) are applied and committed.
    total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    applied: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Random token of the job now applying it; a resumer replaces it, and the old job stops.
    runner: Mapped[str | None] = mapped_column(String(43), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Why a failed import stopped: a code, the file line and a detail (shown translated).
    error_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error_line: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_detail: Mapped[str | None] = mapped_column(Text, nullable=True)

    user: Mapped[User] = relationship()
    content: Mapped[StaffImportRows | None] = relationship(
        back_populates="batch", cascade="all, delete-orphan", passive_deletes=True, uselist=False)
    #: The parsed rows, [[line, {column: value}], ...], as the preview showed them (None once
    #: the import is done). Kept in their own table: SQLite rewrites a whole row on every UPDATE,
    #: and the job updates the batch at every chunk (5 MB of rows for 50,000 lines, each time).
    rows = association_proxy("content", "rows", creator=lambda rows: StaffImportRows(rows=rows))


class StaffImportRows(Model):
    """The rows of an uploaded staff list (see StaffImportBatch.rows); deleted when it is imported."""

    __tablename__ = "staff_import_rows"

    batch_id: Mapped[str] = mapped_column(
        ForeignKey("staff_import_batches.id", ondelete="CASCADE"), primary_key=True)
    rows: Mapped[list] = mapped_column(JSON)

    batch: Mapped[StaffImportBatch] = relationship(back_populates="content")


class StaffImportNumbers(Model):
    """The staff numbers an uploaded list holds, kept after its rows are imported and dropped:
    the office may then mark those on record but not in a full list as left (services.departures)."""

    __tablename__ = "staff_import_numbers"

    batch_id: Mapped[str] = mapped_column(
        ForeignKey("staff_import_batches.id", ondelete="CASCADE"), primary_key=True)
    numbers: Mapped[list] = mapped_column(JSON)
