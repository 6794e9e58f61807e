"""Office views: sign-in and the campaign overview."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db, limiter, login_manager
from ..models import Campaign, DeskSession, User
from ..services import accounts, audit
from .. import navigation
from . import bp
from .forms import LoginForm

navigation.register("office.overview", _l("Campaigns"), ("admin", "chief", "clerk"), order=10)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.is_active else None


def _failed_login(response) -> bool:
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per 15 minutes", methods=["POST"], deduct_when=_failed_login)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is None:
            audit.record("login.failed", actor=form.username.data[:80], remote_addr=request.remote_addr or "")
            db.session.commit()
            flash(_("The username or password is wrong."), "error")
            return render_template("office/login.html", form=form), 401
        login_user(user)
        audit.record("login", user=user, remote_addr=request.remote_addr or "")
        db.session.commit()
        next_url = request.args.get("next", "")
        if not next_url.startswith("/") or next_url.startswith("//"):
            next_url = url_for(".overview")
        return redirect(next_url)
    return render_template("office/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You have signed out."), "success")
    return redirect(url_for(".login"))


@bp.get("/")
@login_required
def overview():
    campaigns = db.session.scalars(
        select(Campaign)
        .options(selectinload(Campaign.sessions).joinedload(DeskSession.venue),
                 selectinload(Campaign.sessions).selectinload(DeskSession.slots))
        .order_by(Campaign.booking_opens_at.desc())
    ).all()
    rows = []
    for campaign in campaigns:
        sessions = []
        for session in campaign.sessions:
            capacity = sum(s.capacity for s in session.slots)
            taken = sum(s.seats_taken for s in session.slots)
            sessions.append({"session": session, "capacity": capacity, "taken": taken,
                             "percent": round(100 * taken / capacity) if capacity else 0})
        rows.append({"campaign": campaign, "sessions": sessions})
    return render_template("office/overview.html", rows=rows, user=current_user)
