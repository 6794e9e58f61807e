"""The application at the desk (DESIGN rule 11, reference/desk-process.md, API.md "The application
at the desk").

For each person checked in the clerk records the 申請書ID, the identity documents seen, the PIN
request, the old cards handed in, a planned move and the legal representative. From these
``assess`` decides at once whether the card can be **mailed** (申請時来庁方式: identity checked
when applying) or must be **collected at the counter**, and why. Handing the application in
(``submitted``) needs only what any delivery needs, the 申請書ID and a photo (none under 1); what
mailing needs beyond that decides mail or counter and never refuses.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..localtime import local_today, utcnow
from ..models import (
    AGE_GROUPS,
    SURRENDERED_CARDS,
    Application,
    Campaign,
    CheckIn,
    Dependent,
    IdentityDocument,
    Photo,
    Staff,
)
from . import audit, municipalities
from .accounts import require_role
from .actor import Actor
from .applicants import NO_PHOTO_UNDER, REPRESENTED_UNDER, age_on
from .errors import DomainError
from .guard import refuse_individual_numbers

DESK_ROLES = ("clerk", "admin")

# --- identity documents -----------------------------------------------------------------------


class Document(NamedTuple):
    code: str
    name: str
    group: str  # A, B or notice


#: The documents every section starts with (Nagoya's list, typical of others); the section can
#: rename, regroup or switch off each one and add its own (IdentityDocument rows).
STANDARD_DOCUMENTS = (
    Document("drivers_license", "運転免許証", "A"),
    Document("driving_record_certificate", "運転経歴証明書", "A"),
    Document("passport", "旅券（パスポート）", "A"),
    Document("residence_card", "在留カード・特別永住者証明書", "A"),
    Document("disability_certificate", "身体障害者手帳・精神障害者保健福祉手帳・療育手帳", "A"),
    Document("public_employee_id", "官公署発行の写真付き職員証（消防職員証など）", "A"),
    Document("health_insurance", "健康保険の資格確認書・資格情報のお知らせ", "B"),
    Document("pension_book", "年金手帳・基礎年金番号通知書", "B"),
    Document("pension_certificate", "年金証書", "B"),
    Document("employee_id", "社員証（写真付き）", "B"),
    Document("student_id", "学生証（写真付き）", "B"),
    Document("maternal_handbook", "母子健康手帳", "B"),
    Document("notification_card", "通知カード", "notice"),
    Document("number_notice", "個人番号通知書", "notice"),
)


def identity_documents(*, active_only: bool = True) -> list[Document]:
    """The section's list: the standard documents with its changes, then its own additions."""
    changes = {row.code: row for row in db.session.scalars(select(IdentityDocument))}
    listed: list[tuple[int, Document]] = []
    for position, standard in enumerate(STANDARD_DOCUMENTS):
        row = changes.pop(standard.code, None)
        if row is None:
            listed.append((position, standard))
        elif row.is_active or not active_only:
            listed.append((row.position if row.position != 1000 else position,
                           Document(row.code, row.name, row.document_group)))
    for row in changes.values():
        if row.is_active or not active_only:
            listed.append((row.position, Document(row.code, row.name, row.document_group)))
    return [document for _position, document in sorted(listed, key=lambda item: item[0])]


def _groups(codes: Iterable[str], known: Mapping[str, Document]) -> dict[str, int]:
    counts = {"A": 0, "B": 0, "notice": 0}
    for code in set(codes):
        document = known.get(code)
        if document is not None:
            counts[document.group] += 1
    return counts


def documents_suffice(codes: Iterable[str], known: Mapping[str, Document], *, pin_entered: bool = False,
                      single_photo_id_with_pin: bool = False) -> bool:
    """Whether the documents seen make one of the combinations accepted for mailing: two A; one A
    and one B; the notification card (or notice) and two B; or, where the section allows it at
    its desks, one A with the PIN entered."""
    counts = _groups(codes, known)
    a, b, notice = counts["A"], counts["B"], counts["notice"]
    return (a >= 2 or (a >= 1 and b >= 1) or (notice >= 1 and b >= 2)
            or (single_photo_id_with_pin and pin_entered and a >= 1))


# --- the 申請書ID -------------------------------------------------------------------------------

APPLICATION_ID_DIGITS = 23
_RUN_OF_DIGITS = re.compile(r"[0-9]+")
_TYPED_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ー]+")


def normalise_application_id(text: str) -> str | None:
    """The 23 digits of a typed 申請書ID (full-width digits, spaces and hyphens allowed), else None."""
    folded = _TYPED_SEPARATORS.sub("", unicodedata.normalize("NFKC", text or ""))
    if len(folded) == APPLICATION_ID_DIGITS and folded.isascii() and folded.isdigit():
        return folded
    return None


def application_id_from_qr(text: str) -> str | None:
    """The 申請書ID in the text of an application form's QR code (possibly inside a URL): the one
    run of exactly 23 digits, else None. A booking's QR (a manage link) holds none."""
    runs = _RUN_OF_DIGITS.findall(unicodedata.normalize("NFKC", text or ""))
    found = [run for run in runs if len(run) == APPLICATION_ID_DIGITS]
    return found[0] if len(found) == 1 else None


# --- who applies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applicant:
    """The person of a check-in as the application sees them."""

    check_in: CheckIn
    holder: Staff | Dependent
    staff: Staff
    dependent: Dependent | None
    campaign: Campaign
    day: date

    @property
    def birth_date(self) -> date | None:
        return self.dependent.birth_date if self.dependent is not None else None


def applicant_of(check_in: CheckIn) -> Applicant:
    person = check_in.person
    reservation = person.reservation
    holder: Staff | Dependent = person.dependent if person.dependent is not None else reservation.staff
    return Applicant(check_in, holder, reservation.staff, person.dependent, reservation.campaign,
                     person.slot.desk_session.date)


def age_group(applicant: Applicant, record: Application | None) -> str | None:
    """under_1, under_15 or adult on the session's day; None when nobody knows (a dependent
    without a birth date whose age group the clerk has not confirmed). Staff are adults."""
    if applicant.dependent is None:
        return "adult"
    born = applicant.birth_date
    if born is not None and born <= applicant.day:
        age = age_on(born, applicant.day)
        return "under_1" if age < NO_PHOTO_UNDER else "under_15" if age < REPRESENTED_UNDER else "adult"
    return record.age_group if record is not None else None


# --- the assessment ----------------------------------------------------------------------------

#: Why a card cannot be mailed, in the order the clerk deals with them.
REASON_TEXTS: dict[str, LazyString] = {
    "age_group": _l("The age group is not confirmed (no birth date on file)."),
    "identity_documents": _l("The identity documents seen do not make an accepted combination."),
    "legal_representative": _l("The legal representative and their identity documents are not recorded."),
    "pin_form": _l("The PIN request form was not handed in."),
    "surrendered": _l("A renewal: the old My Number card was not handed in."),
    "address_change_planned": _l("A move or change of name is planned before the card arrives."),
    "municipality": _l("Registered in a municipality whose residents this desk cannot verify for mailing."),
}
#: What handing the application in needs, whatever the delivery.
MISSING_TEXTS: dict[str, LazyString] = {
    "application_id": _l("the 申請書ID"),
    "photo": _l("a photo"),
}


@dataclass(frozen=True)
class Assessment:
    delivery: str  # mail or counter
    reasons: list[str]  # codes of REASON_TEXTS; empty for mail
    missing: list[str]  # what handing in still needs (application_id, photo)
    age_group: str | None
    needs_photo: bool
    needs_representative: bool
    is_renewal: bool


def assess(applicant: Applicant, record: Application | None, *, has_photo: bool) -> Assessment:
    """Mail or counter, and why, from what is recorded so far (nothing recorded: counter)."""
    known = {d.code: d for d in identity_documents(active_only=False)}
    group = age_group(applicant, record)
    needs_photo = group != "under_1"
    needs_representative = group in ("under_1", "under_15") or bool(record and record.adult_ward)
    # A received card being applied for again is a renewal: the old card is handed in at the desk.
    is_renewal = applicant.holder.card_status == "received"
    campaign = applicant.campaign
    reasons: list[str] = []
    if group is None:
        reasons.append("age_group")
    if record is None or not documents_suffice(
            record.identity_documents, known, pin_entered=record.pin_entered,
            single_photo_id_with_pin=campaign.allows_single_photo_id_with_pin):
        reasons.append("identity_documents")
    if needs_representative and (
            record is None or not record.representative_name.strip() or not record.representative_relation.strip()
            or not documents_suffice(record.representative_documents, known)):
        reasons.append("legal_representative")
    if record is None or not record.pin_form:
        reasons.append("pin_form")
    if is_renewal and (record is None or "my_number_card" not in record.surrendered):
        reasons.append("surrendered")
    if record is not None and record.address_change_planned:
        reasons.append("address_change_planned")
    if not municipalities.verifiable_for_mailing(campaign, municipalities.registered_in(applicant.holder)):
        reasons.append("municipality")
    missing = []
    if record is None or not record.application_id:
        missing.append("application_id")
    if needs_photo and not has_photo:
        missing.append("photo")
    return Assessment("counter" if reasons else "mail", reasons, missing, group, needs_photo,
                      needs_representative, is_renewal)


def delivery_sentence(assessment: Assessment) -> str:
    """What the clerk tells the person: mailed, or collected at the counter and why."""
    if assessment.delivery == "mail":
        return str(_l("The card will be mailed to them."))
    return str(_l("The card must be collected at the counter: %(reasons)s",
                  reasons=" ".join(str(REASON_TEXTS[r]) for r in assessment.reasons)))


# --- recording ---------------------------------------------------------------------------------


def record_of(check_in: CheckIn) -> Application | None:
    return db.session.scalars(select(Application).where(Application.check_in_id == check_in.id)).one_or_none()


def has_photo(check_in: CheckIn) -> bool:
    return db.session.scalar(select(Photo.id).where(Photo.check_in_id == check_in.id)) is not None


#: The fields ``record`` takes, as API.md names them.
FIELDS = ("application_id", "identity_documents", "pin_form", "surrendered", "address_change_planned",
          "pin_entered", "legal_representative", "adult_ward", "age_group")


def _invalid(field: str, message: LazyString) -> DomainError:
    return DomainError("invalid", _l("Check the highlighted fields."), fields={field: message})


def _document_codes(codes: Iterable[str], field: str) -> list[str]:
    known = {d.code for d in identity_documents(active_only=False)}
    codes = list(dict.fromkeys(codes))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise _invalid(field, _l("Unknown identity document: %(codes)s.", codes=", ".join(unknown)))
    return codes


def _set_application_id(record: Application, text: str | None) -> None:
    if text is None or not text.strip():
        record.application_id = None
        return
    digits = normalise_application_id(text)
    if digits is None:
        raise _invalid("application_id", _l(
            "Enter the 23 digits of the 申請書ID printed on the application form (or scan its QR code)."))
    taken = db.session.scalars(
        select(Application).where(Application.application_id == digits, Application.id != record.id)
    ).first()
    if taken is not None:
        raise _invalid("application_id", _l(
            "This 申請書ID is already recorded for %(name)s: check the form.", name=taken.check_in.person.name))
    record.application_id = digits


def _apply(record: Application, changes: Mapping[str, object]) -> list[str]:
    """Write the given fields onto the record (validated) and return their names."""
    if "application_id" in changes:
        _set_application_id(record, changes["application_id"])  # type: ignore[arg-type]
    if "identity_documents" in changes:
        record.identity_documents = _document_codes(changes["identity_documents"] or [],  # type: ignore[arg-type]
                                                    "identity_documents")
    if "surrendered" in changes:
        cards = list(dict.fromkeys(changes["surrendered"] or []))  # type: ignore[call-overload]
        unknown = [c for c in cards if c not in SURRENDERED_CARDS]
        if unknown:
            raise _invalid("surrendered", _l("Unknown card: %(codes)s.", codes=", ".join(map(str, unknown))))
        record.surrendered = cards
    for flag in ("pin_form", "pin_entered", "address_change_planned", "adult_ward"):
        if flag in changes:
            setattr(record, flag, bool(changes[flag]))
    if "age_group" in changes:
        group = changes["age_group"] or None
        if group is not None and group not in AGE_GROUPS:
            raise _invalid("age_group", _l("Choose under 1, 1 to 14, or 15 and over."))
        record.age_group = group
    if "legal_representative" in changes:
        representative = changes["legal_representative"] or {}
        assert isinstance(representative, Mapping)
        name = str(representative.get("name") or "").strip()
        relation = str(representative.get("relation") or "").strip()
        refuse_individual_numbers({"legal_representative.name": name, "legal_representative.relation": relation})
        if len(name) > 100:
            raise _invalid("legal_representative.name", _l("Enter at most %(count)s characters.", count=100))
        if len(relation) > 30:
            raise _invalid("legal_representative.relation", _l("Enter at most %(count)s characters.", count=30))
        record.representative_name = name
        record.representative_relation = relation
        record.representative_documents = _document_codes(
            representative.get("identity_documents") or [], "legal_representative.identity_documents")
    return [name for name in FIELDS if name in changes]


def _blank(check_in: CheckIn) -> Application:
    return Application(check_in_id=check_in.id, identity_documents=[], surrendered=[],
                       representative_documents=[], delivery_reasons=[], pin_form=False,
                       pin_entered=False, address_change_planned=False, adult_ward=False,
                       representative_name="", representative_relation="")


_COPIED = ("application_id", "identity_documents", "pin_entered", "pin_form", "surrendered",
           "address_change_planned", "adult_ward", "age_group", "representative_name",
           "representative_relation", "representative_documents")


def preview(check_in: CheckIn, changes: Mapping[str, object]) -> Assessment:
    """What ``record_application`` would decide with these changes, writing nothing: the desk's
    panel shows mail or counter while the clerk ticks."""
    stored = record_of(check_in)
    draft = _blank(check_in)
    if stored is not None:
        for name in _COPIED:
            value = getattr(stored, name)
            setattr(draft, name, list(value) if isinstance(value, list) else value)
        draft.id = stored.id  # its own 申請書ID is no duplicate
    with db.session.no_autoflush:
        _apply(draft, changes)
    return assess(applicant_of(check_in), draft, has_photo=has_photo(check_in))


def record_application(actor: Actor, check_in: CheckIn, changes: Mapping[str, object], *,
                       submit: bool = False, now: datetime | None = None,
                       today: date | None = None) -> tuple[Application, Assessment]:
    """Record what the clerk checked (only the fields given; the rest stay), and with ``submit``
    hand the application in: refused with ``application_incomplete`` unless it has the 申請書ID and
    a photo (none under 1). Handing in fixes the delivery, stores why, and moves the person's card
    status to applied (services.card_status, dated today). One audit event."""
    from .card_status import record_application as record_card_application

    require_role(actor, *DESK_ROLES)
    now = now or utcnow()
    record = record_of(check_in)
    if record is None:
        record = _blank(check_in)
        db.session.add(record)
    changed = _apply(record, changes)
    record.updated_at = now
    applicant = applicant_of(check_in)
    assessment = assess(applicant, record, has_photo=has_photo(check_in))
    if submit and assessment.missing:
        # The request rolls back: a refused call changes nothing.
        raise DomainError(
            "application_incomplete",
            _l("The application cannot be handed in yet: record %(what)s first.",
               what=", ".join(str(MISSING_TEXTS[m]) for m in assessment.missing)),
            missing=assessment.missing,
        )
    newly_submitted = submit and not record.is_submitted
    if record.is_submitted or newly_submitted:
        # Corrections after handing in keep the delivery up to date.
        record.delivery = assessment.delivery
        record.delivery_reasons = assessment.reasons
    if newly_submitted:
        record.submitted_at = now
        record.submitted_by_id = actor.user.id if actor.user is not None else None
        check_in.is_application_submitted = True
        previous = applicant.holder.card_status
        record_card_application(applicant.holder, on=today or local_today(now), source="desk", user=actor.user)
    db.session.flush()
    person = check_in.person
    audit.record(
        "application.submitted" if newly_submitted else "application.recorded", actor=actor,
        target_type="dependent" if person.dependent is not None else "staff", target_id=applicant.holder.id,
        check_in_id=check_in.id, fields=changed or None,
        delivery=assessment.delivery if record.is_submitted else None,
        reasons=assessment.reasons if record.is_submitted else None,
        previous_status=previous if newly_submitted else None,
        status=applicant.holder.card_status if newly_submitted else None,
    )
    return record, assessment


# --- reports -------------------------------------------------------------------------------------


@dataclass
class DeliveryCounts:
    submitted: int = 0
    mail: int = 0
    counter: int = 0
    unknown: int = 0  # handed in before the desk recorded the delivery
    reasons: dict[str, int] | None = None

    def add(self, record: Application) -> None:
        self.submitted += 1
        if record.delivery == "mail":
            self.mail += 1
        elif record.delivery == "counter":
            self.counter += 1
            self.reasons = self.reasons or {}
            for reason in record.delivery_reasons:
                self.reasons[reason] = self.reasons.get(reason, 0) + 1
        else:
            self.unknown += 1
