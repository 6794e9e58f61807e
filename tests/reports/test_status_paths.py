"""Every path that changes a card status leaves a dated event: the staff import and the office's staff edit."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from booking.extensions import db
from booking.models import CardStatusEvent, Dependent, Staff, User
from booking.services import accounts, card_status, directory, staff_import
from booking.services.actor import Actor

HEADER = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code,crew,email,phone,card_status"


def test_the_staff_import_records_a_changed_card_status_as_an_event(app, ctx, dept):
    staff_import.import_staff(f"{HEADER}\n2001,高橋,大輔,タカハシ,ダイスケ,A,1部,,,received\n")
    db.session.commit()
    event = db.session.scalar(select(CardStatusEvent))
    assert (event.staff_id, event.from_status, event.to_status, event.source) == (
        dept.staff_ids["2001"], "none", "received", "import")
    assert db.session.get(Staff, dept.staff_ids["2001"]).card_status == "received"


def test_the_office_staff_edit_records_the_status_with_its_date(app, ctx, dept):
    admin = accounts.ensure_user("hq-admin", "admin")
    staff = db.session.get(Staff, dept.staff_ids["2001"])
    day = card_status.today() - timedelta(days=5)
    changed = directory.update_staff(
        Actor("system", user=admin), staff, family_name=staff.family_name, given_name=staff.given_name,
        family_name_kana=staff.family_name_kana, given_name_kana=staff.given_name_kana, unit_id=staff.unit_id,
        crew=staff.crew, email="", phone="", card_status="applied", card_status_on=day)
    db.session.commit()
    assert "card_status" in changed
    event = db.session.scalar(select(CardStatusEvent))
    assert (event.to_status, event.effective_on, event.source, event.user_id) == ("applied", day, "edit", admin.id)
    assert card_status.timeline_of(staff).on(day - timedelta(days=1)) == "none"


def test_the_office_dependent_edit_records_the_status(app, ctx, dept):
    admin = db.session.get(User, accounts.ensure_user("hq-admin", "admin").id)
    spouse = db.session.get(Dependent, dept.world.dependent_id)
    directory.update_dependent(Actor("system", user=admin), spouse, family_name=spouse.family_name,
                               given_name=spouse.given_name, family_name_kana=spouse.family_name_kana,
                               given_name_kana=spouse.given_name_kana, relation=spouse.relation,
                               card_status="applied")
    db.session.commit()
    event = db.session.scalar(select(CardStatusEvent))
    assert (event.dependent_id, event.to_status) == (spouse.id, "applied")
