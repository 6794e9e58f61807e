"""What every office view shares: the audit helper, form errors from refusals, paging links."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import Forbidden, HTTPException, NotFound, default_exceptions

from ..extensions import db
from ..models import AuditEvent
from ..services import audit
from ..services.errors import DomainError
from ..web import status_for
from . import bp


def remote_addr() -> str:
    return request.remote_addr or ""


def record(action: str, *, target_type: str = "", target_id: object = "", actor: str = "",
           **details: object) -> AuditEvent:
    """An audit event for what the signed-in office user just did (committed with it).

    ``actor`` names who acted when nobody is signed in (the username typed at a failed sign-in).
    """
    user = current_user if current_user.is_authenticated else None
    return audit.record(action, user=user, actor=actor[:100], target_type=target_type, target_id=target_id,
                        remote_addr=remote_addr(), **details)


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


@bp.errorhandler(DomainError)
def domain_error(error: DomainError):
    """A refusal no view caught: outside the user's reach is 403, missing is 404, else back with a message."""
    db.session.rollback()
    if error.code == "forbidden":
        return render_template("errors/error.html", error=Forbidden(description=str(error.message))), 403
    if error.code == "not_found":
        return render_template("errors/error.html", error=NotFound()), 404
    flash(str(error.message), "error")
    if request.method == "POST":
        return redirect(_same_site(request.referrer) or url_for("office.overview"))
    status = status_for(error.code)
    exception = default_exceptions.get(status, HTTPException)(description=str(error.message))
    return render_template("errors/error.html", error=exception), status


def _same_site(url: str | None) -> str | None:
    if not url or not url.startswith(request.host_url):
        return None
    return url
