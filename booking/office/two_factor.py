"""Two-step sign-in pages: each user's enrolment (QR code, confirming code, recovery codes), the
admin's reset of another user's, and, with REQUIRE_TOTP_FOR_ADMINS, admins enrolling first.

The sign-in's own second step is in accounts.py, beside the password step."""
from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from .. import qr
from ..auth import role_required
from ..services import two_factor, users
from ..services.errors import DomainError
from ..web import request_actor
from . import bp
from .common import refused
from .forms import CodeForm, ConfirmForm

#: What an admin who must enrol first may still open: the enrolment itself and signing out.
_OPEN_BEFORE_ENROLMENT = {
    "office.two_factor", "office.start_two_factor", "office.confirm_two_factor", "office.logout",
    "office.login", "office.login_code", "static", "healthz", "readyz",
}


@bp.before_app_request
def enrol_first() -> ResponseReturnValue | None:
    """With REQUIRE_TOTP_FOR_ADMINS, an admin without a second step gets the enrolment page
    instead of any other page. The JSON API (tokens) and the bookers' pages are not concerned."""
    if not current_app.config.get("REQUIRE_TOTP_FOR_ADMINS"):
        return None
    if request.endpoint is None or request.endpoint in _OPEN_BEFORE_ENROLMENT or request.blueprint in ("api", "public"):
        return None
    if not current_user.is_authenticated or current_user.two_factor_on or not two_factor.required_for(current_user):
        return None
    return redirect(url_for("office.two_factor"))


def _no_store(body: str, status: int = 200) -> ResponseReturnValue:
    """A page with a secret on it (the QR code, recovery codes): never kept by a cache."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _enrolment_page(form: CodeForm, status: int = 200) -> ResponseReturnValue:
    user = current_user._get_current_object()
    secret = two_factor.pending_secret(user)
    qr_code = None
    if secret is not None:
        qr_code = qr.svg(two_factor.provisioning_uri(user, secret), label=_("QR code for your authenticator app"),
                         css_class="o-totp__qr")
    return _no_store(render_template(
        "office/two_factor.html", user=user, secret=secret, qr_code=qr_code, form=form, start_form=ConfirmForm(),
        codes_left=two_factor.recovery_codes_left(user) if user.two_factor_on else None,
        required=two_factor.required_for(user),
        # The secret in groups of four, as authenticator apps show it when typed by hand.
        secret_groups=[secret[i:i + 4] for i in range(0, len(secret), 4)] if secret else []), status)


@bp.get("/account/two-factor", endpoint="two_factor")
@login_required
def two_factor_page() -> ResponseReturnValue:
    return _enrolment_page(CodeForm())


@bp.post("/account/two-factor/start")
@login_required
def start_two_factor() -> ResponseReturnValue:
    if ConfirmForm().validate_on_submit():
        two_factor.start_enrolment(request_actor())
    return redirect(url_for(".two_factor"))


@bp.post("/account/two-factor/confirm")
@login_required
def confirm_two_factor() -> ResponseReturnValue:
    form = CodeForm()
    if not form.validate_on_submit():
        return _enrolment_page(form, 422)
    try:
        codes = two_factor.confirm_enrolment(request_actor(), form.code.data)
    except DomainError as error:
        status = refused(error, form)
        return _enrolment_page(form, status)
    # The act ended every session of the account; this one goes on, signed in afresh.
    login_user(current_user._get_current_object())
    flash(_("Two-step sign-in is on. From now on you type a code from the app after your password."), "success")
    return _no_store(render_template("office/two_factor_codes.html", codes=codes))


@bp.post("/users/<int:user_id>/two-factor/reset")
@role_required("admin")
def reset_two_factor(user_id: int) -> ResponseReturnValue:
    user = users.get_user(request_actor(), user_id)
    if ConfirmForm().validate_on_submit():
        two_factor.reset(request_actor(), user)
        flash(_("Two-step sign-in of %(name)s was reset: they sign in with the password alone until they set it "
                "up again, and were signed out everywhere.", name=user.username), "success")
    return redirect(url_for(".edit_user", user_id=user.id))
