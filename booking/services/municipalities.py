"""Where people are registered (住民登録地), and whose residents a campaign's desks can verify.

The card is issued by the municipality a person is registered in. A desk run by city X checks
identity for mailing only for X's residents, or those of the towns that joined the desk (a
regional fire union's staff often live in neighbouring towns): the others still apply and have
their photo taken, and collect the card at their own town's counter.

A municipality is named by its local government code (全国地方公共団体コード): five digits and a
check digit, e.g. 072010 福島市.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..extensions import db
from ..models import Campaign, Dependent, Municipality, Staff
from . import audit
from .accounts import require_role
from .actor import Actor
from .errors import DomainError
from .guard import refuse_individual_numbers

_WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(first_five: str) -> str:
    """The sixth digit of a local government code (総務省: weights 6..2, 11 minus the remainder
    mod 11, its last digit)."""
    remainder = sum(int(d) * w for d, w in zip(first_five, _WEIGHTS, strict=True)) % 11
    return str((11 - remainder) % 10)


def normalise_code(text: str | None) -> str | None:
    """A typed code as its six digits: full-width digits are read, a five-digit code (without the
    check digit, as some lists print it) gets its check digit; None when it is not a valid code."""
    digits = unicodedata.normalize("NFKC", text or "").strip().replace("-", "")
    if not digits.isascii() or not digits.isdigit():
        return None
    if len(digits) == 5:
        return digits + check_digit(digits)
    if len(digits) == 6 and check_digit(digits[:5]) == digits[5]:
        return digits
    return None


def invalid_code(field: str = "municipality_code") -> DomainError:
    return DomainError("invalid", _l("Check the highlighted fields."), fields={field: _l(
        "Enter the six-digit local government code (全国地方公共団体コード), e.g. 072010.")})


def all_municipalities() -> list[Municipality]:
    return list(db.session.scalars(select(Municipality).order_by(Municipality.is_home.desc(), Municipality.code)))


def home() -> Municipality | None:
    return db.session.scalars(select(Municipality).where(Municipality.is_home.is_(True))).first()


def get(code: str | None, *, field: str = "municipality_code") -> Municipality | None:
    """The municipality of a typed code; None for an empty one; refused when unknown or invalid."""
    if code is None or not str(code).strip():
        return None
    normalised = normalise_code(code)
    if normalised is None:
        raise invalid_code(field)
    found = db.session.get(Municipality, normalised)
    if found is None:
        raise DomainError("invalid", _l("Check the highlighted fields."), fields={field: _l(
            "No municipality with the code %(code)s is listed: add it on the municipalities page first.",
            code=normalised)})
    return found


def save(actor: Actor, *, code: str, name: str, is_home: bool = False) -> Municipality:
    """Add a municipality or rename it; ``is_home`` makes it the section's own (only one is)."""
    require_role(actor, "admin")
    normalised = normalise_code(code)
    if normalised is None:
        raise invalid_code("code")
    name = (name or "").strip()
    refuse_individual_numbers({"name": name})
    if not name or len(name) > 50:
        raise DomainError("invalid", _l("Check the highlighted fields."),
                          fields={"name": _l("Enter the municipality's name (at most 50 characters).")})
    found = db.session.get(Municipality, normalised)
    created = found is None
    if found is None:
        found = Municipality(code=normalised, name=name, is_home=False)
        db.session.add(found)
    found.name = name
    if is_home and not found.is_home:
        db.session.execute(update(Municipality).where(Municipality.code != normalised).values(is_home=False))
        found.is_home = True
    db.session.flush()
    audit.record("municipality.created" if created else "municipality.updated", actor=actor,
                 target_type="municipality", target_id=normalised, name=name, is_home=found.is_home or None)
    return found


def set_campaign_mailing(actor: Actor, campaign: Campaign, codes: Iterable[str]) -> list[Municipality]:
    """The municipalities whose residents this campaign's desks verify for mailing (none: home)."""
    require_role(actor, "admin")
    chosen = [m for m in (get(code, field="mailing_municipalities") for code in dict.fromkeys(codes)) if m]
    campaign.mailing_municipalities = chosen
    db.session.flush()
    audit.record("campaign.mailing_municipalities", actor=actor, target_type="campaign", target_id=campaign.id,
                 codes=[m.code for m in chosen])
    return chosen


def registered_in(holder: Staff | Dependent) -> str | None:
    """The code of where a person is registered; a dependent without one is taken to live with
    the staff member; None when nobody knows."""
    if isinstance(holder, Dependent) and holder.municipality_code is None:
        return holder.staff.municipality_code
    return holder.municipality_code


def verifying(campaign: Campaign) -> set[str]:
    """Codes whose residents the campaign's desks verify: its list, else the home municipality
    (empty when neither is set: then nobody is sent to the counter for where they live)."""
    if campaign.mailing_municipalities:
        return {m.code for m in campaign.mailing_municipalities}
    own = home()
    return {own.code} if own is not None else set()


def verifiable_for_mailing(campaign: Campaign, code: str | None) -> bool:
    """Whether a resident of ``code`` can have the card mailed from this campaign's desks. Not
    knowing where someone lives sends nobody to the counter: the clerk asks."""
    if code is None:
        return True
    codes = verifying(campaign)
    return not codes or code in codes


def names_by_code() -> dict[str, str]:
    return {m.code: m.name for m in db.session.scalars(select(Municipality))}
