"""What every office view shares: form errors from refusals, paging links."""
from __future__ import annotations

from typing import overload

from flask import flash, request
from flask_wtf import FlaskForm

from ..converters import bounded_int
from ..extensions import db
from ..services.errors import DomainError, status_for


def remote_addr() -> str:
    return request.remote_addr or ""


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


@overload
def int_arg(name: str, default: int) -> int: ...
@overload
def int_arg(name: str, default: None = None) -> int | None: ...
def int_arg(name: str, default: int | None = None) -> int | None:
    return request.args.get(name, default, type=bounded_int)
