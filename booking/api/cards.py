"""The card's life after the application (roles admin and chief; hq reads): API.md's fields beside
card_status."""
from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from ..models import Dependent, Staff
from ..services import card_life, directory
from ..web import request_actor
from . import bp, serialize
from .common import body, office, office_user
from .schemas import CardIn


def _person(staff_number: str, dependent_id: int | None) -> tuple[Staff | Dependent, Staff]:
    staff = directory.staff_by_number(staff_number)
    # A chief reaches the people of their units only (DESIGN.md rule 8).
    directory.require_reach(office_user(), staff.unit_id)
    if dependent_id is None:
        return staff, staff
    return directory.get_dependent(office_user(), staff, dependent_id), staff


def _answer(person: Staff | Dependent, staff: Staff) -> ResponseReturnValue:
    return jsonify(serialize.card(person, staff, card_life.delivery_of(person)))


@bp.get("/staff/<staff_number>/card")
@bp.get("/staff/<staff_number>/dependents/<int:dependent_id>/card")
@office("admin", "chief", "hq")
def show_card(staff_number: str, dependent_id: int | None = None) -> ResponseReturnValue:
    return _answer(*_person(staff_number, dependent_id))


@bp.post("/staff/<staff_number>/card")
@bp.post("/staff/<staff_number>/dependents/<int:dependent_id>/card")
@office("admin", "chief")
def change_card(staff_number: str, dependent_id: int | None = None) -> ResponseReturnValue:
    person, staff = _person(staff_number, dependent_id)
    data = body(CardIn)
    given = data.model_fields_set
    card_life.change_card(
        request_actor(), person, stage=data.stage, on=data.on,
        **{name: getattr(data, name) for name in ("card_expires_on", "certificates_expire_on") if name in given})
    return _answer(person, staff)
