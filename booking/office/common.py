"""What every office view shares: the audit helper, form errors from refusals, paging links."""
from __future__ import annotations

from flask import flash, request
from flask_wtf import FlaskForm

from ..extensions import db
from ..models import AuditEvent
from ..services import audit
from ..services.errors import DomainError, status_for
from ..web import request_actor


def remote_addr() -> str:
    return request.remote_addr or ""


def record(action: str, *, target_type: str = "", target_id: object = "", **details: object) -> AuditEvent:
    """An audit event for what the signed-in office user just did (committed with it)."""
    return audit.record(action, actor=request_actor(), target_type=target_type, target_id=target_id, **details)


def refused(error: DomainError, form: FlaskForm | None = None) -> int:
    """Undo the transaction, show the refusal and put field messages on the form; returns the status."""
    db.session.rollback()
    flash(str(error.message), "error")
    if form is not None:
        for name, message in error.fields.items():
            field = getattr(form, name, None)
            if field is not None and hasattr(field, "errors"):
                errors = list(field.errors) if isinstance(field.errors, (list, tuple)) else []
                field.errors = errors + [str(message)]
    return status_for(error.code)


def int_arg(name: str, default: int | None = None) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else default
