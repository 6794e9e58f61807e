"""Personal invitations: a link to open on the phone, and a code to type with the staff number."""
from __future__ import annotations

import unicodedata
from functools import cache

from flask import url_for
from sqlalchemy import Select, bindparam, select

from ..extensions import db
from ..models import Staff
from . import tokens


def issue(staff: Staff) -> None:
    """Give the staff member a fresh invitation; any earlier link and code stop working."""
    staff.invitation_nonce = tokens.new_nonce()
    if staff.id is None:
        db.session.add(staff)
        db.session.flush()
    staff.invitation_link_hash = tokens.digest(link_token(staff))


def link_token(staff: Staff) -> str:
    return tokens.url_token("invitation-link", staff.id, staff.invitation_nonce)


def code(staff: Staff) -> str:
    return tokens.short_code("invitation-code", staff.id, staff.invitation_nonce)


def link_url(staff: Staff) -> str:
    return url_for("public.invitation", token=link_token(staff), _external=True)


def staff_for_link(token: str) -> Staff | None:
    return db.session.scalar(select(Staff).where(Staff.invitation_link_hash == tokens.digest(token)))


def staff_for_code(staff_number: str, typed_code: str) -> Staff | None:
    """The staff member when the number and code match, else None (no hint which was wrong)."""
    staff = db.session.scalar(_staff_by_number(), {"number": normalise_staff_number(staff_number)})
    if staff is None or not tokens.same(code(staff), tokens.normalise_code(typed_code)):
        return None
    return staff


def normalise_staff_number(text: str) -> str:
    """Full-width digits and spaces folded, as staff numbers are often typed."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


@cache
def _staff_by_number() -> Select[Staff]:
    # Built once: every booking of a rush runs it (see services/reservations.py).
    return select(Staff).where(Staff.staff_number == bindparam("number"))
