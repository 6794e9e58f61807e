"""The section's list of identity documents (本人確認書類): the built-in list
(applications.STANDARD_DOCUMENTS) renamed, regrouped or switched off, and the section's own.

A change is an IdentityDocument row; ``applications.identity_documents()`` merges the rows into
the built-in list. Codes recorded on applications stay meaningful: a document is switched off,
never deleted, so an application that named it still reads.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import DOCUMENT_GROUPS, IdentityDocument
from . import audit
from .accounts import require_role
from .actor import Actor
from .applications import STANDARD_DOCUMENTS, Document, identity_documents
from .errors import NotFound, invalid
from .guard import refuse_individual_numbers

_STANDARD = {document.code: document for document in STANDARD_DOCUMENTS}
#: The section's own documents get codes own_1, own_2 …: stable, never reused.
OWN_PREFIX = "own_"


def all_documents() -> list[tuple[Document, bool, bool]]:
    """Every document with whether it is switched on and whether it is a built-in one."""
    active = {document.code for document in identity_documents()}
    return [(document, document.code in active, document.code in _STANDARD)
            for document in identity_documents(active_only=False)]


def _checked(name: str, group: str) -> tuple[str, str]:
    name = (name or "").strip()
    refuse_individual_numbers({"name": name})
    if not name or len(name) > 100:
        raise invalid(name=_l("Enter the document's name (at most 100 characters)."))
    if group not in DOCUMENT_GROUPS:
        raise invalid(group=_l("Choose group A, B or the notification card."))
    return name, group


def _position_of(code: str) -> int:
    """Where a built-in document stands in the list (its place in the built-in order)."""
    return [document.code for document in STANDARD_DOCUMENTS].index(code)


def update_document(actor: Actor, code: str, *, name: str, group: str, is_active: bool) -> Document:
    """Rename, regroup or switch a document on or off (built-in or the section's own)."""
    require_role(actor, "admin")
    name, group = _checked(name, group)
    row = db.session.get(IdentityDocument, code)
    if row is None:
        if code not in _STANDARD:
            raise NotFound(_l("No such identity document."))
        row = IdentityDocument(code=code, position=_position_of(code))
        db.session.add(row)
    row.name, row.document_group, row.is_active = name, group, bool(is_active)
    db.session.flush()
    audit.record("identity_document.updated", actor=actor, target_type="identity_document", target_id=code,
                 name=name, group=group, active=bool(is_active))
    return Document(code, name, group)


def add_document(actor: Actor, *, name: str, group: str) -> Document:
    """A document of the section's own, listed after the built-in ones."""
    require_role(actor, "admin")
    name, group = _checked(name, group)
    own = list(db.session.scalars(select(IdentityDocument.code).where(IdentityDocument.code.like(OWN_PREFIX + "%"))))
    number = max((int(code[len(OWN_PREFIX):]) for code in own if code[len(OWN_PREFIX):].isdigit()), default=0) + 1
    last = db.session.scalar(select(func.max(IdentityDocument.position))) or 0
    code = f"{OWN_PREFIX}{number}"
    db.session.add(IdentityDocument(code=code, name=name, document_group=group, is_active=True,
                                    position=max(last, 1000) + 1))
    db.session.flush()
    audit.record("identity_document.created", actor=actor, target_type="identity_document", target_id=code,
                 name=name, group=group)
    return Document(code, name, group)
