"""The audit log page (admin): who did what to which record, when and from where."""
from __future__ import annotations

from datetime import time, timedelta

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import navigation
from ..auth import role_required
from ..localtime import at_tokyo
from ..services import audit
from . import bp
from .common import int_arg
from .forms import AuditFilterForm, opts

navigation.register("office.audit_log", _l("Audit log"), ("admin",), order=95, section="admin")

GROUP_LABELS = {
    "login": _l("Sign-ins (and failed ones)"),
    "user": _l("User changes"),
    "import": _l("Imports"),
    "staff": _l("Staff, units and venues"),
    "booking": _l("Bookings made by the office"),
    "session": _l("Campaign and session changes"),
    "export": _l("Exports"),
}


@bp.get("/audit")
@role_required("admin")
def audit_log() -> ResponseReturnValue:
    form = AuditFilterForm(request.args)
    form.group.choices = opts([("", _("Everything"))] + [(k, str(v)) for k, v in GROUP_LABELS.items()])
    filters = audit.AuditFilter(
        group=form.group.data or "",
        action=request.args.get("action", ""),
        username=form.username.data or "",
        target_type=form.target_type.data or "",
        target_id=form.target_id.data or "",
        remote_addr=form.remote_addr.data or "",
        since=at_tokyo(form.since.data, time(0)) if form.since.data else None,
        until=at_tokyo(form.until.data + timedelta(days=1), time(0)) if form.until.data else None,
    )
    page = audit.search(current_user, filters, page=int_arg("page", 1))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("office/audit.html", form=form, page=page, args=args,
                           actions=audit.action_choices(), action_label=audit.action_label,
                           target_label=audit.target_label, readable_details=audit.DetailReader(page.rows),
                           actor_label=audit.actor_label)
