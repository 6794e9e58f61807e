"""The fire department as the system knows it: units, staff, dependents, office users."""
from __future__ import annotations

import unicodedata
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Connection, ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from ..extensions import Model
from ..localtime import utcnow
from .cards import CARD_STAGE_CHECK, CardLife
from .types import UTCDateTime

CARD_STATUSES = ("none", "applied", "received")
#: Office roles (DESIGN.md "User"): ``hq`` is HQ general affairs, read-only over every unit, no photos.
ROLES = ("admin", "chief", "clerk", "hq")


class Unit(Model):
    """A headquarters, station or branch office (所属)."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The department's own short code, used in imports and the API.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")


class Staff(CardLife, Model):
    """A member of staff (職員) who may book for themselves and their dependents."""

    __tablename__ = "staff"
    __table_args__ = (
        CheckConstraint("card_status IN ('none', 'applied', 'received')", name="card_status"),
        CheckConstraint(CARD_STAGE_CHECK, name="card_stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_number: Mapped[str] = mapped_column(String(32), unique=True)
    family_name: Mapped[str] = mapped_column(String(50))
    given_name: Mapped[str] = mapped_column(String(50))
    family_name_kana: Mapped[str] = mapped_column(String(50))
    given_name_kana: Mapped[str] = mapped_column(String(50))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: Shift crew as the unit names it: 1部, 2部, 3部, 日勤…
    crew: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    #: The mail server's permanent refusal (5xx) of ``email``, until the address changes.
    email_failure: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: Set when the booker confirmed ``email`` through the link sent to it: a later staff import
    #: keeps it (the booker's own address wins) until the booker changes it again.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: An address the booker asked for, used once they open the link sent to it.
    pending_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    #: Derives that link (tokens.url_token); a new request replaces it.
    pending_email_nonce: Mapped[str] = mapped_column(String(32), default="", server_default="")
    card_status: Mapped[str] = mapped_column(String(10), default="none")
    card_status_on: Mapped[date | None]
    #: Where the person is registered (住民登録地); decides whether a desk can verify them for
    #: mailing the card. None: not known.
    municipality_code: Mapped[str | None] = mapped_column(ForeignKey("municipalities.code"))
    #: Family and given kana folded to full-width katakana without spaces, for prefix search;
    #: set on every insert and update by the listener at the end of this module.
    search_kana: Mapped[str] = mapped_column(String(100), default="", server_default="", index=True)
    #: Changing this nonce revokes the invitation link and code derived from it.
    invitation_nonce: Mapped[str] = mapped_column(String(32))
    #: SHA-256 of the invitation link token, for looking the link up without storing it.
    invitation_link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Membership over time (issue 18): the local date the person joined the department and the
    #: first day they no longer belonged. A count as of D takes those who belonged on D
    #: (``services.membership``); an unknown joining date means "since the record was created".
    joined_on: Mapped[date | None]
    left_on: Mapped[date | None]

    unit: Mapped[Unit] = relationship()
    dependents: Mapped[list[Dependent]] = relationship(
        back_populates="staff", order_by="Dependent.id", cascade="all, delete-orphan"
    )

    @property
    def name(self) -> str:
        return f"{self.family_name} {self.given_name}"

    @property
    def kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}"


class Dependent(CardLife, Model):
    """A dependent (被扶養者) who can come along in the staff member's reservation."""

    __tablename__ = "dependents"
    __table_args__ = (
        CheckConstraint("card_status IN ('none', 'applied', 'received')", name="card_status"),
        CheckConstraint(CARD_STAGE_CHECK, name="card_stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    family_name: Mapped[str] = mapped_column(String(50))
    given_name: Mapped[str] = mapped_column(String(50))
    family_name_kana: Mapped[str] = mapped_column(String(50))
    given_name_kana: Mapped[str] = mapped_column(String(50))
    #: Relation to the staff member in the staff member's words (妻, 長男…).
    relation: Mapped[str] = mapped_column(String(30))
    card_status: Mapped[str] = mapped_column(String(10), default="none")
    card_status_on: Mapped[date | None]
    #: Optional. The desk needs it: a child under 15 applies with a legal representative,
    #: and a baby under 1 needs no photo.
    birth_date: Mapped[date | None]
    #: Where the dependent is registered; None: as the staff member (the same household).
    municipality_code: Mapped[str | None] = mapped_column(ForeignKey("municipalities.code"))
    #: As Staff.joined_on / left_on; a dependent also belongs only while their staff member does.
    joined_on: Mapped[date | None]
    left_on: Mapped[date | None]
    #: None only for rows older than issue 18: they count from their staff member's record.
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[Staff] = relationship(back_populates="dependents")

    @property
    def name(self) -> str:
        return f"{self.family_name} {self.given_name}"

    @property
    def kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}"


class User(Model):
    """An office account: the My Number section (admin), a station chief or a desk clerk."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'chief', 'clerk', 'hq')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10))
    #: A chief sees this unit and everything under it.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Where a chief's digest of bookings waiting for approval goes ("": none is sent).
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Part of every sign-in session (see get_id); raised on sign-out, a password change or reset,
    #: a role change, disabling and a change of second factor, which ends every session signed
    #: in before (services.users.end_sessions).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The TOTP secret of the second sign-in step, encrypted (services.two_factor); set only once
    #: the user confirmed it with a code, and from then on never shown again.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    #: A secret being enrolled, shown on the enrolment page until a code confirms it.
    totp_pending_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The 30-second time step of the last code taken: a code of that step or earlier is refused,
    #: so a code seen over a shoulder or in a proxy's log cannot be used again.
    totp_last_step: Mapped[int | None]

    unit: Mapped[Unit | None] = relationship()

    @property
    def two_factor_on(self) -> bool:
        return self.totp_secret is not None

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """What the session (and a remember cookie) keeps: the id and the session version, so that
        raising the version refuses every session made before (office.accounts.load_user)."""
        return f"{self.id}:{self.session_version}"


class RecoveryCode(Model):
    """A one-time code that stands in for the authenticator app at sign-in; only a keyed hash is
    kept, and ``used_at`` marks it spent."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Model):
    """A bearer token for the JSON API; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


# --- kana, as stored and as searched ------------------------------------------------------

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
def _keep_search_kana(mapper: Mapper[Staff], connection: Connection, staff: Staff) -> None:
    # Kept here rather than in each service so that every path that writes a
    # staff member (API, import, office edit, demo) leaves a searchable row.
    staff.search_kana = kana_key(f"{staff.family_name_kana}{staff.given_name_kana}")[:100]
