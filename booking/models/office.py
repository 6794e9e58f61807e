"""What the office pages keep besides the domain: pending staff imports and the kana search key."""
from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .organisation import Staff, User
from .types import UTCDateTime, utcnow

# Hiragana U+3041..U+3096 sit exactly 0x60 below their katakana.
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}


def katakana(text: str) -> str:
    """Kana as shown and stored (フリガナ): full-width katakana, spaces kept as typed."""
    return unicodedata.normalize("NFKC", text or "").translate(_HIRAGANA_TO_KATAKANA).strip()


def kana_key(text: str) -> str:
    """Kana folded for searching: half-width and hiragana become full-width katakana, no spaces.

    Staff lists arrive with kana in every form (ｻﾄｳ, さとう, サトウ　ショウタ), and
    people type whichever their keyboard gives; both sides are folded the same way.
    """
    folded = unicodedata.normalize("NFKC", text or "").translate(_HIRAGANA_TO_KATAKANA)
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "・･")


@event.listens_for(Staff, "before_insert")
@event.listens_for(Staff, "before_update")
def _keep_search_kana(mapper, connection, staff: Staff) -> None:
    # Kept here rather than in each service so that every path that writes a
    # staff member (API, import, office edit, demo) leaves a searchable row.
    staff.search_kana = kana_key(f"{staff.family_name_kana}{staff.given_name_kana}")[:100]


class StaffImportBatch(db.Model):
    """An uploaded staff list waiting for confirmation: the rows exactly as previewed.

    Kept in the database rather than on one host's disk so that the confirm
    request may land on any worker. Deleted once imported or after a day.
    """

    __tablename__ = "staff_import_batches"

    #: Random and unguessable; the confirm form carries it.
    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    #: SHA-256 of the uploaded bytes, recorded in the audit log.
    content_digest: Mapped[str] = mapped_column(String(64))
    #: The parsed rows, [[line, {column: value}], ...], as the preview showed them.
    rows: Mapped[list] = mapped_column(JSON)
    #: SHA-256 of the planned changes shown in the preview; confirm refuses any other plan.
    plan_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    user: Mapped[User] = relationship()
