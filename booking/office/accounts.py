"""Signing in and out, and the admin's user management."""
from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

from flask import Response, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import HTTPException

from .. import navigation
from ..auth import role_required
from ..extensions import db, limiter, login_manager
from ..formatting import clock
from ..models import User
from ..services import accounts, audit, two_factor, users
from ..services.errors import DomainError
from ..web import local_path, request_actor
from . import bp
from .common import refused, remote_addr
from .forms import (
    CodeForm,
    ConfirmForm,
    LoginForm,
    PasswordResetForm,
    UserCreateForm,
    UserEditForm,
    opts,
)
from .units import unit_choices

navigation.register("office.list_users", _l("Users"), ("admin",), order=90, section="admin")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of a session ("id:version", User.get_id): none when the account is disabled or
    its sessions were ended since (services.accounts.end_sessions). A session made before
    versions existed (a bare id) is refused too: its user signs in once more."""
    id_text, _sep, version = user_id.partition(":")
    if not (id_text.isdigit() and version.isdigit() and len(id_text) <= 18 and len(version) <= 18):
        return None
    user = db.session.get(User, int(id_text))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def _failed_login(response: Response) -> bool:
    return response.status_code == 401


def _login_key() -> str:
    # Per address and username: an office behind one NAT address is not locked
    # out as a whole by one person's typos, while guessing one account stays slow.
    username = (request.form.get("username") or "").strip().lower()[:80]
    return f"{remote_addr()}|{username}"


def _next_url(user: User) -> str:
    """Where to go after signing in: the page asked for, on this site, else the role's start page."""
    return local_path(request.args.get("next")) or navigation.start_url(user.role)


#: The session key of a sign-in halfway: the password was right, the code is still to come.
#: It names the user and their session version, and grants no page: nobody is signed in yet.
HALFWAY = "two_factor_halfway"
#: Seconds the code may take after the password; then the sign-in starts over.
HALFWAY_SECONDS = 300


#: The per-address limit on failures, the same for both sign-in steps.
_per_address = limiter.limit(lambda: current_app.config.get("OFFICE_LOGIN_ADDRESS_LIMIT", "30 per 15 minutes"),
                             methods=["POST"], deduct_when=_failed_login)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("OFFICE_LOGIN_LIMIT", "5 per 15 minutes"), methods=["POST"],
               key_func=_login_key, deduct_when=_failed_login)
@_per_address
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        session.pop(HALFWAY, None)
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is None:
            # Kept although the answer is a refusal: written in a transaction of its own.
            audit.record_apart("login.failed", actor=replace(request_actor(), name=form.username.data[:80]),
                               target_type="user")
            flash(_("The username or password is wrong."), "error")
            return render_template("office/login.html", form=form), 401
        if user.two_factor_on:
            session[HALFWAY] = {"user": user.get_id(), "at": int(time.time()), "next": _next_url(user)}
            return redirect(url_for(".login_code"))
        accounts.signed_in(request_actor(), user)
        login_user(user)
        return redirect(_next_url(user))
    return render_template("office/login.html", form=form)


def _halfway_user() -> User | None:
    """The user whose password was right in this browser a moment ago, if nothing changed since."""
    halfway = session.get(HALFWAY)
    if not isinstance(halfway, dict) or not isinstance(halfway.get("at"), int):
        return None
    if time.time() - halfway["at"] > HALFWAY_SECONDS:
        return None
    user = load_user(str(halfway.get("user", "")))
    return user if user is not None and user.two_factor_on else None


def _code_key() -> str:
    # Per account whatever the address: guessing one account's codes stays slow.
    halfway = session.get(HALFWAY)
    user = str(halfway.get("user", "")) if isinstance(halfway, dict) else ""
    return f"code|{user.partition(':')[0]}"


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("OFFICE_CODE_LIMIT", "5 per 15 minutes"), methods=["POST"],
               key_func=_code_key, deduct_when=_failed_login)
@_per_address
def login_code() -> ResponseReturnValue:
    """The second step of signing in: a code from the authenticator app, or a recovery code."""
    user = _halfway_user()
    if user is None:
        session.pop(HALFWAY, None)
        if current_user.is_authenticated:
            return redirect(url_for(".overview"))
        flash(_("Sign in with your username and password first."), "error")
        return redirect(url_for(".login"))
    form = CodeForm()
    if form.validate_on_submit():
        method = two_factor.check_sign_in_code(user, form.code.data)
        if method is None:
            audit.record_apart("login.code_failed", actor=replace(request_actor(), name=user.username),
                               target_type="user", target_id=user.id)
            flash(_("The code is wrong or was already used. Type the code the app shows now."), "error")
            return render_template("office/login_code.html", form=form), 401
        halfway = session.pop(HALFWAY)
        left = two_factor.recovery_codes_left(user) if method == "recovery_code" else None
        accounts.signed_in(request_actor(), user, method=method, recovery_codes_left=left)
        login_user(user)
        if left is not None:
            flash(_("You signed in with a recovery code; %(n)s are left. Set up your phone again on the "
                    "two-step sign-in page to get new codes.", n=left), "warning")
        next_url = halfway.get("next")
        return redirect(local_path(next_url if isinstance(next_url, str) else None)
                        or navigation.start_url(user.role))
    return render_template("office/login_code.html", form=form), 422 if request.method == "POST" else 200


@bp.errorhandler(429)
def too_many_attempts(error: HTTPException) -> Response:
    """The login limit: say plainly when to try again (local time and minutes from now)."""
    current = limiter.current_limit
    reset_at = current.reset_at if current is not None and current.breached and current.reset_at else None
    retry_at = None
    minutes = 15
    if reset_at is not None:
        retry_at = datetime.fromtimestamp(reset_at, UTC)
        minutes = max(1, -(-int(reset_at - datetime.now(UTC).timestamp()) // 60))
    code_step = request.endpoint == "office.login_code"
    halfway = _halfway_user() if code_step else None
    username = halfway.username if halfway is not None else (request.form.get("username") or "")[:80]
    audit.record_apart("login.blocked", actor=replace(request_actor(), name=username), target_type="user")
    if retry_at is not None:
        message = _("Too many failed sign-ins. Try again after %(time)s (in about %(minutes)s minutes).",
                    time=clock(retry_at), minutes=minutes)
    else:
        message = _("Too many failed sign-ins. Try again in 15 minutes.")
    flash(message, "error")
    if code_step:
        page = render_template("office/login_code.html", form=CodeForm())
    else:
        form = LoginForm()
        form.username.data = username
        page = render_template("office/login.html", form=form)
    response = current_app.make_response((page, 429))
    if reset_at is not None:
        response.headers["Retry-After"] = str(max(1, int(reset_at - datetime.now(UTC).timestamp())))
    return response


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".overview"))
    accounts.signed_out(request_actor())
    logout_user()
    flash(_("You have signed out."), "success")
    response = redirect(url_for(".login"))
    # The offline desk keeps a roster and a queue on the device: signing out wipes them (issue 20).
    response.headers["Clear-Site-Data"] = '"storage"'
    return response


# --- user management (admin) ------------------------------------------------------------


def _user_form_choices(form: UserCreateForm | UserEditForm) -> None:
    form.unit_id.choices = opts([("", _("— none —")), *unit_choices()])


@bp.get("/users")
@role_required("admin")
def list_users() -> ResponseReturnValue:
    return render_template("office/users.html", users=users.list_users(request_actor()))


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def create_user() -> ResponseReturnValue:
    form = UserCreateForm()
    _user_form_choices(form)
    status = 200
    if form.validate_on_submit():
        try:
            user = users.create_user(
                request_actor(), username=form.username.data, display_name=form.display_name.data or "",
                role=form.role.data, unit_id=form.unit_id.data, password=form.password.data,
                email=form.email.data or "")
        except DomainError as error:
            status = refused(error, form)
        else:
            flash(_("User %(name)s was created.", name=user.username), "success")
            return redirect(url_for(".list_users"))
    elif request.method == "POST":
        status = 422
    return render_template("office/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_user(user_id: int) -> ResponseReturnValue:
    user = users.get_user(request_actor(), user_id)
    form = UserEditForm(obj=user)
    _user_form_choices(form)
    password_form = PasswordResetForm(prefix="reset")
    status = 200
    if form.validate_on_submit():
        try:
            users.update_user(request_actor(), user, display_name=form.display_name.data or "",
                              role=form.role.data, unit_id=form.unit_id.data, is_active=form.is_active.data,
                              email=form.email.data if "email" in request.form else None)
        except DomainError as error:
            status = refused(error, form)
        else:
            flash(_("The changes to %(name)s were saved.", name=user.username), "success")
            return redirect(url_for(".list_users"))
    elif request.method == "POST":
        status = 422
    return render_template("office/user_form.html", form=form, user=user, password_form=password_form), status


@bp.post("/users/<int:user_id>/password")
@role_required("admin")
def reset_password(user_id: int) -> ResponseReturnValue:
    user = users.get_user(request_actor(), user_id)
    password_form = PasswordResetForm(prefix="reset")
    form = UserEditForm(obj=user, formdata=None)
    _user_form_choices(form)
    status = 422
    if password_form.validate_on_submit():
        try:
            users.reset_password(request_actor(), user, password_form.password.data)
        except DomainError as error:
            status = refused(error, password_form)
        else:
            flash(_("The password of %(name)s was reset. Hand the new one over in person.", name=user.username),
                  "success")
            return redirect(url_for(".edit_user", user_id=user.id))
    return render_template("office/user_form.html", form=form, user=user, password_form=password_form), status
