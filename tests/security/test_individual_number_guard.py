"""The individual-number guard on every free-text field of every form and API call, field by field.

Form fields are found by walking the WTForms classes (StringField / TextAreaField), so a new field
fails test_every_free_text_form_field_is_guarded_or_exempt until it is listed. Each listed field is
sent once with a harmless value (must succeed, so the base data is valid) and once holding a
12-digit number that passes the individual-number check digit (must be refused, nothing saved).
API bodies are checked from the pydantic input models in the same way.
"""
from __future__ import annotations

import importlib
import inspect
import typing

import pytest
from flask_wtf import FlaskForm
from pydantic import BaseModel
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.fields.core import UnboundField

from booking.api import schemas
from booking.services.guard import is_individual_number
from tests.office.conftest import sign_in


def _an_individual_number() -> str:
    for n in range(123456789010, 123456789999):
        if is_individual_number(str(n)):
            return str(n)
    raise AssertionError


NUMBER = _an_individual_number()
WRITTEN = {"plain": NUMBER, "spaced": f"{NUMBER[:4]} {NUMBER[4:8]} {NUMBER[8:]}",
           "full-width in text": "番号" + NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "です"}

FORM_MODULES = ["booking.public.forms", "booking.office.forms", "booking.desk.forms", "booking.chiefs.forms",
                "booking.reports.forms"]

#: Fields that are looked up, never stored (search boxes, sign-in, filters): no guard needed.
EXEMPT = {
    ("IdentifyForm", "staff_number"), ("IdentifyForm", "invitation_code"), ("FindForm", "code"),
    ("WalkInSearchForm", "q"), ("LoginForm", "username"), ("StaffFilterForm", "q"), ("PhoneSearchForm", "q"),
    ("AuditFilterForm", "username"), ("AuditFilterForm", "target_type"), ("AuditFilterForm", "target_id"),
    ("AuditFilterForm", "remote_addr"),
    # The sign-in's and the enrolment's code: compared with the secret, never stored or logged.
    ("CodeForm", "code"),
    # A 申請書ID is 23 digits, checked for that shape; an age group is one of three words.
    ("ApplicationForm", "application_id"), ("ApplicationForm", "age_group"),
    # The desk's panel keeps a refused draft and redirects back to the person (not a 422 page):
    # tests/desk/test_desk_applications.py checks that these are refused and nothing is saved.
    ("ApplicationForm", "representative_name"), ("ApplicationForm", "representative_relation"),
    # The booker's address: refused by services.addresses (tests/mail/test_addresses.py).
    ("EmailForm", "email"),
    # A local government code: six digits with a check digit, refused unless it is one.
    ("MunicipalityForm", "code"),
}


def _text_fields() -> set[tuple[str, str]]:
    found = set()
    for module_name in FORM_MODULES:
        module = importlib.import_module(module_name)
        for form in vars(module).values():
            if not (inspect.isclass(form) and issubclass(form, FlaskForm) and form.__module__ == module_name):
                continue
            if form.__name__.startswith("_"):
                continue
            for name in dir(form):
                unbound = getattr(form, name, None)
                if (isinstance(unbound, UnboundField)
                        and issubclass(unbound.field_class, (StringField, TextAreaField))
                        and not issubclass(unbound.field_class, (PasswordField, HiddenField))):
                    found.add((form.__name__, name))
    return found


def _submissions(sec) -> dict:
    """(form, field) -> (role, url, valid data, prefix)"""
    ids = sec.ids
    staff = {"family_name": "佐藤", "given_name": "翔太", "family_name_kana": "サトウ", "given_name_kana": "ショウタ",
             "unit_id": str(ids["A"]), "crew": "1部", "email": "sato@example.jp", "phone": "090-1111-2222",
             "card_status": "none"}
    dependent = {"dep-family_name": "佐藤", "dep-given_name": "花子", "dep-family_name_kana": "サトウ",
                 "dep-given_name_kana": "ハナコ", "dep-relation": "長女", "dep-card_status": "none"}
    user_new = {"username": "newclerk", "display_name": "窓口", "role": "clerk", "unit_id": "",
                "password": "long enough password", "password_again": "long enough password"}
    user_edit = {"display_name": "窓口", "role": "clerk", "unit_id": "", "is_active": "y"}
    unit = {"code": "Z9", "name": "西消防署", "parent_id": str(ids["HQ"])}
    venue = {"name": "西消防署 講堂", "address": "福島市西", "unit_id": "", "notes": "正面玄関から"}
    campaign = {"title": "追加申請", "booking_opens_at": "2030-01-01T09:00", "booking_closes_at": "2030-02-01T17:00",
                "cutoff_minutes": "60", "what_to_bring": "本人確認書類"}
    walk_in = {"staff_id": str(ids["staff_free"]), "over_capacity": "y", "override_reason": "団体で来所"}
    reason = {"reason": "", "note": "後日申請予定"}
    rows = {}
    for field in ("family_name", "given_name", "family_name_kana", "given_name_kana", "crew", "email", "phone"):
        rows[("StaffForm", field)] = ("admin", f"/office/staff/{ids['staff_a']}", staff, "")
    for field in ("family_name", "given_name", "family_name_kana", "given_name_kana", "relation"):
        rows[("DependentForm", field)] = ("admin", f"/office/staff/{ids['staff_a']}/dependents", dependent, "dep-")
    rows[("UserCreateForm", "username")] = ("admin", "/office/users/new", user_new, "")
    rows[("UserCreateForm", "display_name")] = ("admin", "/office/users/new", user_new, "")
    rows[("UserEditForm", "display_name")] = ("admin", f"/office/users/{ids['user_clerk']}", user_edit, "")
    rows[("UserCreateForm", "email")] = ("admin", "/office/users/new", user_new, "")
    rows[("UserEditForm", "email")] = ("admin", f"/office/users/{ids['user_clerk']}", user_edit, "")
    rows[("UnitForm", "code")] = ("admin", "/office/units/new", unit, "")
    rows[("UnitForm", "name")] = ("admin", "/office/units/new", unit, "")
    for field in ("name", "address", "notes"):
        rows[("VenueForm", field)] = ("admin", "/office/venues/new", venue, "")
    rows[("CampaignForm", "title")] = ("admin", "/office/campaigns/new", campaign, "")
    rows[("CampaignForm", "what_to_bring")] = ("admin", "/office/campaigns/new", campaign, "")
    rows[("CampaignForm", "contact_phone")] = ("admin", "/office/campaigns/new", campaign, "")
    rows[("WalkInForm", "override_reason")] = ("clerk", f"/desk/sessions/{ids['session']}/walk-in", walk_in, "")
    rows[("ReasonForm", "note")] = ("chief_a", f"/chiefs/staff/{ids['staff_a']}/reason", reason, "")
    rows[("MunicipalityForm", "name")] = ("admin", "/office/municipalities", {"code": "072010", "name": "福島市"}, "")
    rows[("IdentityDocumentForm", "name")] = ("admin", "/office/identity-documents",
                                              {"name": "消防団員証", "group": "A", "is_active": "y"}, "")
    return rows


def test_every_free_text_form_field_is_guarded_or_exempt(app):
    from tests.security.conftest import Secured

    fake = Secured(office=type("O", (), {"session_day": None})(), ids=dict.fromkeys(
        ["A", "HQ", "staff_a", "staff_free", "user_clerk", "session"], 1))
    covered = set(_submissions(fake)) | EXEMPT
    assert _text_fields() - covered == set()


def _cases():
    from tests.security.conftest import Secured

    fake = Secured(office=type("O", (), {"session_day": None})(), ids=dict.fromkeys(
        ["A", "HQ", "staff_a", "staff_free", "user_clerk", "session"], 1))
    return sorted(_submissions(fake))


@pytest.mark.parametrize("form_field", _cases(), ids=lambda c: f"{c[0]}.{c[1]}")
def test_each_form_field_refuses_an_individual_number(app, client, sec, form_field):
    role, url, data, prefix = _submissions(sec)[form_field]
    key = prefix + form_field[1]
    sign_in(client, role)
    client.set_cookie("lang", "en")
    # The same data with the field holding an individual number: refused, with the field named.
    for how, text in WRITTEN.items():
        if form_field[1] == "email":
            text = f"{NUMBER}@example.jp" if how == "plain" else f"a{NUMBER[:4]}-{NUMBER[4:8]}-{NUMBER[8:]}@example.jp"
        response = client.post(url, data={**data, key: text})
        page = response.get_data(as_text=True)
        assert response.status_code == 422, (form_field, how, response.status_code, response.headers.get("Location"))
        assert "individual number" in page, (form_field, how)
    # The base data is valid: a harmless value goes through.
    response = client.post(url, data=data)
    assert response.status_code in (200, 302) and "individual number" not in response.get_data(as_text=True), \
        (form_field, response.status_code)


def _str_fields(model: type[BaseModel]) -> list[str]:
    names = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        args = typing.get_args(annotation)
        if annotation is str or str in args or any(typing.get_args(a) == (str,) for a in args) \
                or typing.get_args(annotation) == (str,):
            names.append(name)
    return names


API_BODIES = {
    schemas.UnitIn: ("/api/v1/units", {"code": "Z9", "name": "西"}),
    schemas.DependentIn: ("/api/v1/staff/1001/dependents", {
        "family_name": "佐藤", "given_name": "花子", "family_name_kana": "サトウ", "given_name_kana": "ハナコ",
        "relation": "長女"}),
    schemas.VenueIn: ("/api/v1/venues", {"name": "西", "address": "福島市", "notes": ""}),
    schemas.CampaignIn: ("/api/v1/campaigns", {"title": "t", "booking_opens_at": "2030-01-01T09:00",
                                               "booking_closes_at": "2030-02-01T09:00", "what_to_bring": "",
                                               "target_unit_codes": []}),
    schemas.ReservationIn: ("/api/v1/reservations", {"slot_id": 1, "staff_number": "1001"}),
    schemas.WaitlistIn: ("/api/v1/waitlist", {"session_id": 1, "staff_number": "1001"}),
    schemas.CheckInIn: ("/api/v1/checkins", {"code": "X"}),
}


#: Bodies sent to a check-in, which this module's data does not have: the application at the desk is
#: checked in tests/desk/test_desk_applications.py (its 申請書ID is an identifier, never refused).
CHECKED_WITH_THE_DESK = {schemas.ApplicationIn, schemas.LegalRepresentativeIn}


def test_every_api_input_model_is_checked():
    inputs = {m for m in vars(schemas).values()
              if inspect.isclass(m) and issubclass(m, schemas.Body) and m is not schemas.Body and _str_fields(m)}
    assert inputs - set(API_BODIES) - CHECKED_WITH_THE_DESK == set()


@pytest.mark.parametrize("model,field", [(m, f) for m in API_BODIES for f in _str_fields(m)],
                         ids=lambda v: v.__name__ if inspect.isclass(v) else v)
def test_each_api_text_field_refuses_an_individual_number(app, client, sec, model, field):
    url, body = API_BODIES[model]
    for how, text in WRITTEN.items():
        value = [text] if isinstance(body.get(field), list) else text
        answer = client.post(url, json={**body, field: value}, headers=sec.headers("admin"))
        assert answer.status_code == 422, (field, how)
        problem = answer.get_json()
        assert problem["error"] == "individual_number_refused" and any(field in k for k in problem["fields"])


def test_the_staff_csv_import_refuses_an_individual_number_in_any_column(app, client, sec):
    header = ("staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,"
              "card_status")
    good = ["3001", "田中", "一郎", "タナカ", "イチロウ", "A", "1部", "t@example.jp", "090-0000-0000", "none"]
    for column in (1, 2, 6, 8):
        row = list(good)
        row[column] = NUMBER
        answer = client.post("/api/v1/staff/import", data=(header + "\n" + ",".join(row)).encode(),
                             headers={**sec.headers("admin"), "Content-Type": "text/csv"})
        assert answer.status_code == 422, column
        assert "individual number" in str(answer.get_json()["errors"]).lower()
