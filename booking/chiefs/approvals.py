"""The chief's answer to bookings made during duty hours (職務専念義務の免除)."""
from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import navigation
from ..auth import role_required
from ..office.common import refused
from ..services import approvals
from ..services.errors import DomainError
from ..web import request_actor
from . import bp

navigation.register("chiefs.duty_approvals", _l("Duty approvals"), ("chief", "admin"), order=42, section="units")


@bp.app_context_processor
def _pending_duty_approvals() -> dict[str, Callable[[], int]]:
    """``pending_duty_approvals()`` for the chief's unit page: how many bookings wait (0 for others)."""
    return {"pending_duty_approvals": lambda: approvals.pending_count(current_user)}


@bp.get("/approvals")
@role_required("chief", "admin")
def duty_approvals() -> ResponseReturnValue:
    pending, decided = approvals.lines_for(current_user)
    return render_template("chiefs/duty_approvals.html", pending=pending, decided=decided,
                           can_decide=current_user.role == "chief", status_labels=approvals.STATUS_LABELS)


@bp.post("/approvals/<int:approval_id>/<any(approve, decline):answer>")
@role_required("chief")
def decide_duty_approval(approval_id: int, answer: str) -> ResponseReturnValue:
    try:
        approval = approvals.decide(request_actor(), approval_id, approve=answer == "approve")
    except DomainError as error:
        if error.code in ("forbidden", "not_found"):
            raise  # the app's refusal page (403, 404)
        refused(error)  # e.g. already answered: back to the list, which shows the answer
        return redirect(url_for(".duty_approvals"))
    reservation = approval.reservation
    if approval.status == "withdrawn":
        flash(_("%(name)s had already cancelled this booking; nothing was changed.",
                name=reservation.staff.name), "info")
    elif approval.status == "approved":
        flash(_("Approved: %(name)s may apply during duty hours.", name=reservation.staff.name), "success")
    else:
        flash(_("Declined: the booking of %(name)s was cancelled and its seat freed.",
                name=reservation.staff.name), "success")
    return redirect(url_for(".duty_approvals"))

