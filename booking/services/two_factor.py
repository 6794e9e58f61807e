"""The second sign-in step of office accounts: TOTP codes from an authenticator app, and one-time
recovery codes for a lost phone.

Enrolment: ``start_enrolment`` keeps a new secret as pending and the page shows it (QR code and
text); ``confirm_enrolment`` switches it on once a code from the app matches, and hands out new
recovery codes, shown that once. From then on the secret is never shown again. Moving to a new
phone is the same two acts: the old secret and codes stay valid until the new secret is confirmed.

At rest the secret is encrypted (Fernet, a key derived from SECRET_KEY), so that a copy of the
database or a backup alone does not give the codes away; recovery codes are kept as keyed hashes.
A code is taken once: the time step of the last code taken is kept, and a code of that step or an
earlier one is refused (claimed with one conditional UPDATE, so two requests racing with the same
code cannot both pass).
"""
from __future__ import annotations

import base64
import hmac
import re
import time
import unicodedata
from functools import lru_cache

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update

from ..extensions import db
from ..localtime import utcnow
from ..models import RecoveryCode, User
from . import audit, tokens
from .accounts import end_sessions, require_role
from .actor import Actor
from .errors import DomainError, invalid

ISSUER = "Outreach Desk"
#: Seconds a code stands for (RFC 6238's default, what every authenticator app uses).
STEP_SECONDS = 30
#: Codes of the step before and after the server's are taken too: a phone's clock a little off,
#: a code typed as it turned over.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
#: 12 characters of the look-alike-free alphabet: about 52 bits each.
RECOVERY_CODE_LENGTH = 12
_SIX_DIGITS = re.compile(r"^\d{6}$")


# --- the secret at rest ---------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"outreach-desk totp secret").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _seal(secret: str) -> str:
    return _fernet(current_app.config["SECRET_KEY"]).encrypt(secret.encode()).decode()


def _open(sealed: str | None) -> str | None:
    """The secret, or None when there is none or it cannot be read (SECRET_KEY changed since):
    such a user signs in with a recovery code, or an admin resets the second step."""
    if not sealed:
        return None
    try:
        return _fernet(current_app.config["SECRET_KEY"]).decrypt(sealed.encode()).decode()
    except InvalidToken:
        current_app.logger.warning("a TOTP secret cannot be decrypted with this SECRET_KEY")
        return None


# --- codes ------------------------------------------------------------------------------------------


def _typed(code: str) -> str:
    """What was typed, full-width digits and letters folded, spaces and hyphens dropped."""
    folded = unicodedata.normalize("NFKC", code or "").upper()
    return "".join(ch for ch in folded if ch.isalnum())[:64]


def _current_step() -> int:
    return int(time.time()) // STEP_SECONDS


def _matching_step(secret: str, code: str, *, after: int | None) -> int | None:
    """The time step whose code this is, near now and after ``after``; None when none matches."""
    if not _SIX_DIGITS.match(code):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now = _current_step()
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(user: User, step: int) -> bool:
    """Take the step for the user unless a code of it (or a later one) was taken meanwhile."""
    result = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user, ["totp_last_step"])
    return bool(getattr(result, "rowcount", 0) == 1)


def _recovery_hash(code: str) -> str:
    return tokens.keyed_digest("recovery-code", code)


def format_recovery_code(code: str) -> str:
    """Read and written in groups of four: K7MC-4QXA-9RTW."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes; the new ones are returned, to be shown once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [tokens.random_code(RECOVERY_CODE_LENGTH) for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(code)) for code in codes)
    db.session.flush()
    return [format_recovery_code(code) for code in codes]


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ) or 0


# --- enrolment ----------------------------------------------------------------------------------------


def _own_account(actor: Actor) -> User:
    if actor.user is None:
        raise DomainError("forbidden", _l("Your account may not do this."))
    return actor.user


def start_enrolment(actor: Actor) -> None:
    """Keep a new secret for the signed-in user as pending, to be shown and then confirmed."""
    user = _own_account(actor)
    user.totp_pending_secret = _seal(pyotp.random_base32())
    db.session.flush()
    audit.record("user.two_factor_started", actor=actor, target_type="user", target_id=user.id,
                 username=user.username, replacing=user.two_factor_on)


def pending_secret(user: User) -> str | None:
    """The secret being enrolled, for the enrolment page (never the one in use)."""
    return _open(user.totp_pending_secret)


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=user.username, issuer_name=ISSUER)


def confirm_enrolment(actor: Actor, code: str) -> list[str]:
    """Switch the pending secret on once a code from the app matches it; returns the new recovery
    codes (the old ones, of a previous phone, stop working). Every other session of the account
    ends: the caller signs this one in again."""
    user = _own_account(actor)
    secret = pending_secret(user)
    if secret is None:
        raise DomainError("not_started", _l("Start the set-up first: the page shows a new QR code."))
    step = _matching_step(secret, _typed(code), after=None)
    if step is None:
        raise invalid(code=_l("This code does not match. Type the 6 digits the app shows now."))
    replacing = user.two_factor_on
    user.totp_secret = user.totp_pending_secret
    user.totp_pending_secret = None
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    end_sessions(user)
    audit.record("user.two_factor_on", actor=actor, target_type="user", target_id=user.id,
                 username=user.username, replacing=replacing)
    return codes


# --- signing in -----------------------------------------------------------------------------------------


def check_sign_in_code(user: User, code: str) -> str | None:
    """The second step of a sign-in: ``"totp"`` or ``"recovery_code"`` for the kind of code
    taken (and spent), None when it is wrong, already used, or of a step already taken.

    Part of the sign-in act, whose "login" event (accounts.signed_in) names the method."""
    typed = _typed(code)
    secret = _open(user.totp_secret)
    if secret is not None and _SIX_DIGITS.match(typed):
        step = _matching_step(secret, typed, after=user.totp_last_step)
        return "totp" if step is not None and _claim_step(user, step) else None
    if len(typed) != RECOVERY_CODE_LENGTH or not user.two_factor_on:
        return None
    result = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_hash(typed),
               RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return "recovery_code" if getattr(result, "rowcount", 0) == 1 else None


# --- resetting --------------------------------------------------------------------------------------------


def reset(actor: Actor, user: User) -> None:
    """Switch the user's second step off (a lost phone): secret and recovery codes go, every
    session of the account ends, and the user signs in with the password alone until they enrol
    again (at once, for an admin, when REQUIRE_TOTP_FOR_ADMINS is on).

    An admin resets another user's; the operator on the command line anyone's (a locked-out last
    admin). Admins move their own to a new phone on the enrolment page instead."""
    require_role(actor, "admin")
    if actor.user is not None and actor.user.id == user.id:
        raise DomainError("forbidden", _l(
            "You cannot reset your own two-step sign-in here. Set up a new phone on the two-step sign-in page, "
            "or ask another admin."))
    had = user.two_factor_on
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_sessions(user)
    audit.record("user.two_factor_reset", actor=actor, target_type="user", target_id=user.id,
                 username=user.username, was_on=had)


def required_for(user: User) -> bool:
    """Whether the user must enrol before using any page (REQUIRE_TOTP_FOR_ADMINS, admins)."""
    return bool(current_app.config.get("REQUIRE_TOTP_FOR_ADMINS")) and user.role == "admin"

