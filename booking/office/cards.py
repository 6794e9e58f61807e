"""The card's life on the staff page: one form per person (the staff member and each dependent)
for the card's next step and its expiry dates (services.card_life)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import role_required
from ..models import Dependent, Staff
from ..services import card_life, directory
from ..services.errors import DomainError
from ..web import request_actor
from . import bp
from .common import refused
from .forms import CardForm, opts


@dataclass
class CardPanel:
    """What the page shows of one person's card, and their form."""

    key: str  # "staff" or "dep<id>": the form's prefix and the section's anchor
    person: Staff | Dependent
    delivery: str | None
    estimate: tuple[date, date]
    form: CardForm | None
    action: str

    @property
    def stage_label(self) -> str:
        return str(card_life.STAGE_LABELS[self.person.card_stage_now])


def _form(person: Staff | Dependent, key: str) -> CardForm:
    form = CardForm(prefix=f"card-{key}", formdata=None, data={
        "card_expires_on": person.card_expires_on, "certificates_expire_on": person.certificates_expire_on})
    _choices(form, person)
    return form


def _choices(form: CardForm, person: Staff | Dependent) -> None:
    stage = person.card_stage_now
    form.stage.choices = opts([("", _("No change")), *[
        (s, card_life.STAGE_LABELS[s]) for s in card_life.NEXT[stage]]])


def panels(staff: Staff, edited: tuple[str, CardForm] | None = None) -> list[CardPanel]:
    """The staff member's panel, then each dependent's; ``edited`` is a form sent back with errors."""
    may_edit = current_user.role in ("admin", "chief")
    today = card_life.card_status.today()
    people: list[tuple[str, Staff | Dependent, str]] = [
        ("staff", staff, url_for("office.change_card", staff_id=staff.id))]
    people += [(f"dep{d.id}", d, url_for("office.change_card", staff_id=staff.id, dependent_id=d.id))
               for d in staff.dependents]
    result = []
    for key, person, action in people:
        form = None
        if may_edit:
            form = edited[1] if edited and edited[0] == key else _form(person, key)
        birth = person.birth_date if isinstance(person, Dependent) else None
        result.append(CardPanel(key, person, card_life.delivery_of(person),
                                card_life.expiry_estimate(today, birth), form, action))
    return result


@bp.post("/staff/<int:staff_id>/card")
@bp.post("/staff/<int:staff_id>/dependents/<int:dependent_id>/card")
@role_required("admin", "chief")
def change_card(staff_id: int, dependent_id: int | None = None) -> ResponseReturnValue:
    from .staff import _staff_page  # staff.py builds the page with these panels: imported late

    staff = directory.get_staff(current_user, staff_id)
    person: Staff | Dependent = directory.get_dependent(current_user, staff, dependent_id) if dependent_id else staff
    key = f"dep{person.id}" if dependent_id else "staff"
    form = CardForm(prefix=f"card-{key}")
    _choices(form, person)
    if not form.validate_on_submit():
        flash(_("Check the card's fields."), "error")
        return _staff_page(staff, status=422, card_edit=(key, form))
    try:
        changed = card_life.change_card(
            request_actor(), person, stage=form.stage.data or None, on=form.on.data,
            card_expires_on=form.card_expires_on.data, certificates_expire_on=form.certificates_expire_on.data)
    except DomainError as error:
        status = refused(error, form)
        staff = directory.get_staff(current_user, staff_id)
        return _staff_page(staff, status=status, card_edit=(key, form))
    if changed:
        flash(_("The card of %(name)s was saved.", name=person.name), "success")
    return redirect(url_for(".show_staff", staff_id=staff.id) + f"#card-{key}")
