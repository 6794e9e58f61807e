"""The mail messages (admin): what was sent to whom, what failed and why; each message's text on
its own page, every read of it recorded (it holds personal data)."""
from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from .. import navigation
from ..auth import role_required
from ..services import messages
from ..web import request_actor
from . import bp

navigation.register("office.messages_page", _l("Mail"), ("admin",), order=92, section="admin")


@bp.get("/messages")
@role_required("admin")
def messages_page() -> ResponseReturnValue:
    filters = messages.MessageFilter(
        kind=request.args.get("kind", ""), status=request.args.get("status", ""),
        reservation_code=request.args.get("code", "").strip())
    found = messages.search(request_actor(), filters)
    args = {k: v for k, v in request.args.items() if v}
    return render_template("office/messages.html", messages=found, filters=filters, args=args,
                           kinds=messages.KIND_LABELS, statuses=messages.STATUS_LABELS)


@bp.get("/messages/<int:message_id>")
@role_required("admin")
def message_page(message_id: int) -> ResponseReturnValue:
    message = messages.read(request_actor(), message_id)
    return render_template("office/message.html", message=message,
                           kinds=messages.KIND_LABELS, statuses=messages.STATUS_LABELS)


@bp.app_template_global()
def mail_kind_label(kind: str) -> str:
    return str(messages.KIND_LABELS.get(kind, kind))


@bp.app_template_global()
def mail_status_label(status: str) -> str:
    return str(messages.STATUS_LABELS.get(status, status))
