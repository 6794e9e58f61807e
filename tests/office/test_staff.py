"""The staff directory: search, filters, paging over 20,000 staff, editing, dependents, invitations."""
from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, insert, select, text

from booking.extensions import db
from booking.models import AuditEvent, Dependent, Staff, Unit, Venue, kana_key
from booking.services import invitations
from tests.conftest import PG_URL

MY_NUMBER = "1234 5678 9018"  # passes the individual-number check digit


@pytest.fixture
def admin(client, office, login):
    return login("admin")


def names(page) -> list[str]:
    return re.findall(r'<td><a href="/office/staff/\d+">([^<]*\s[^<]*)</a></td>', page.get_data(as_text=True))


def test_kana_is_folded_the_same_way_for_storing_and_searching():
    assert kana_key("さとう しょうた") == kana_key("ｻﾄｳ ｼｮｳﾀ") == kana_key("サトウ　ショウタ") == "サトウショウタ"


@pytest.mark.parametrize("q", ["さとう", "サトウ", "ｻﾄｳ", "サトウ ショ", "1001", "１００１"])
def test_staff_are_found_by_staff_number_or_kana_in_any_form(admin, q):
    assert names(admin.get("/office/staff", query_string={"q": q})) == ["佐藤 翔太"]


def test_a_staff_number_prefix_finds_every_match(admin):
    assert names(admin.get("/office/staff?q=100")) == ["佐藤 翔太", "鈴木 大輔"]


def test_a_unit_filter_includes_the_units_under_it(admin, office):
    assert names(admin.get(f"/office/staff?unit={office.ids['A']}")) == ["佐藤 翔太", "鈴木 大輔"]
    assert names(admin.get(f"/office/staff?unit={office.ids['A1']}")) == ["鈴木 大輔"]


def test_crew_and_card_status_filters_combine(admin):
    assert names(admin.get("/office/staff?crew=1部")) == ["佐藤 翔太", "高橋 健一"]
    assert names(admin.get("/office/staff?crew=1部&card=applied")) == ["高橋 健一"]


def test_an_admin_edits_a_staff_member_and_the_change_is_audited(app, admin, office):
    response = admin.post(f"/office/staff/{office.ids['staff_a']}", data={
        "family_name": "佐藤", "given_name": "翔太", "family_name_kana": "さとう", "given_name_kana": "しょうた",
        "unit_id": office.ids["A1"], "crew": "2部", "email": "sato@example.jp", "phone": "",
        "card_status": "received", "card_status_on": "2026-01-05"})
    assert response.status_code == 302
    with app.app_context():
        staff = db.session.get(Staff, office.ids["staff_a"])
        assert (staff.unit.code, staff.crew, staff.card_status, staff.search_kana) == ("A1", "2部", "received",
                                                                                        "サトウショウタ")
        event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.update"))
        assert set(event_.details["changed"]) >= {"unit_id", "crew", "card_status", "email", "phone"}
        assert "sato@example.jp" not in str(event_.details)  # names and numbers only


def test_an_individual_number_in_a_staff_field_is_refused(app, admin, office):
    response = admin.post(f"/office/staff/{office.ids['staff_a']}", data={
        "family_name": "佐藤", "given_name": "翔太", "family_name_kana": "サトウ", "given_name_kana": "ショウタ",
        "unit_id": office.ids["A"], "crew": MY_NUMBER, "card_status": "none"})
    assert response.status_code == 422
    assert "individual number" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Staff, office.ids["staff_a"]).crew == "1部"


def test_dependents_are_added_changed_and_removed(app, admin, office):
    staff_id = office.ids["staff_a"]
    response = admin.post(f"/office/staff/{staff_id}/dependents", data={
        "dep-family_name": "佐藤", "dep-given_name": "陽向", "dep-family_name_kana": "サトウ",
        "dep-given_name_kana": "ヒナタ", "dep-relation": "長男", "dep-card_status": "none"})
    assert response.status_code == 302
    with app.app_context():
        child = db.session.scalar(select(Dependent).where(Dependent.given_name == "陽向"))
        child_id = child.id
    response = admin.post(f"/office/staff/{staff_id}/dependents/{child_id}", data={
        f"dep{child_id}-family_name": "佐藤", f"dep{child_id}-given_name": "陽向",
        f"dep{child_id}-family_name_kana": "サトウ", f"dep{child_id}-given_name_kana": "ヒナタ",
        f"dep{child_id}-relation": "長男", f"dep{child_id}-card_status": "applied"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Dependent, child_id).card_status == "applied"
    assert admin.post(f"/office/staff/{staff_id}/dependents/{child_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Dependent, child_id) is None
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"dependent.create", "dependent.update", "dependent.delete"} <= actions


def test_a_dependent_on_a_reservation_is_kept(app, admin, client, office):
    with app.test_request_context():
        from booking.services import reservations

        reservations.reserve(office.ids["slots"][0], db.session.get(Staff, office.ids["staff_a"]),
                             dependent_ids=[office.ids["spouse"]])
        db.session.commit()
    response = admin.post(f"/office/staff/{office.ids['staff_a']}/dependents/{office.ids['spouse']}/delete")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Dependent, office.ids["spouse"]) is not None


def test_reissuing_an_invitation_revokes_the_old_code(app, client, office, login):
    with app.test_request_context():
        old_code = invitations.code(db.session.get(Staff, office.ids["staff_a"]))
    login("chief_a")
    response = client.post(f"/office/staff/{office.ids['staff_a']}/invitation")
    assert response.status_code == 302
    with app.test_request_context():
        assert invitations.staff_for_code("1001", old_code) is None
        staff = db.session.get(Staff, office.ids["staff_a"])
        assert invitations.staff_for_code("1001", invitations.code(staff)) is not None
        assert db.session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "invitation.reissue")) == "chief_a"


def test_the_staff_page_shows_the_invitation_to_hand_over(app, admin, office):
    page = admin.get(f"/office/staff/{office.ids['staff_a']}").get_data(as_text=True)
    with app.test_request_context():
        code = invitations.code(db.session.get(Staff, office.ids["staff_a"]))
    assert f"{code[:3]}-{code[3:6]}-{code[6:]}" in page


# --- units and venues ---------------------------------------------------------------------------


def test_an_admin_adds_a_branch_office_under_a_station(app, admin, office):
    response = admin.post("/office/units/new", data={"code": "B1", "name": "北消防署 西出張所",
                                                      "parent_id": office.ids["B"]})
    assert response.status_code == 302
    page = admin.get("/office/units").get_data(as_text=True)
    assert "o-tree__row--2" in page and "北消防署 西出張所" in page


def test_a_unit_cannot_be_moved_under_its_own_branch(admin, office):
    response = admin.post(f"/office/units/{office.ids['A']}", data={"code": "A", "name": "中央消防署",
                                                                   "parent_id": office.ids["A1"]})
    assert response.status_code == 422
    assert "cannot be placed under itself" in response.get_data(as_text=True)


def test_a_unit_code_is_unique(admin, office):
    response = admin.post("/office/units/new", data={"code": "A", "name": "x", "parent_id": ""})
    assert response.status_code == 409


def test_an_admin_records_a_venue_with_access_notes(app, admin, office):
    response = admin.post("/office/venues/new", data={"name": "南消防署", "address": "福島市黒岩",
                                                       "unit_id": "", "notes": "裏口から"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Venue.notes).where(Venue.name == "南消防署")) == "裏口から"


def test_an_individual_number_in_venue_notes_is_refused(admin, office):
    response = admin.post(f"/office/venues/{office.ids['venue']}", data={
        "name": "x", "address": "y", "unit_id": "", "notes": f"担当 {MY_NUMBER}"})
    assert response.status_code == 422


# --- 20,000 staff -----------------------------------------------------------------------------


@pytest.fixture
def many_staff(app, office):
    """20,000 staff spread over the units, inserted in bulk."""
    kana = ["サトウ", "スズキ", "タカハシ", "タナカ", "ワタナベ", "イトウ", "ヤマモト", "ナカムラ"]
    now = datetime.now(UTC)
    with app.app_context():
        unit_ids = list(db.session.scalars(select(Unit.id)))
        rows = [{
            "staff_number": f"5{n:05d}", "family_name": "職員", "given_name": str(n),
            "family_name_kana": kana[n % len(kana)], "given_name_kana": "タロウ",
            "search_kana": kana_key(kana[n % len(kana)] + "タロウ"), "unit_id": unit_ids[n % len(unit_ids)],
            "crew": f"{n % 3 + 1}部", "email": "", "phone": "", "card_status": ("none", "applied", "received")[n % 3],
            "invitation_nonce": f"{n:032d}", "invitation_link_hash": f"{n:064d}", "created_at": now,
        } for n in range(20_000)]
        db.session.execute(insert(Staff), rows)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE staff"))
        else:
            db.session.execute(text("ANALYZE"))
        db.session.commit()
        assert db.session.scalar(select(func.count(Staff.id))) == 20_003


def _capture(app):
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    return statements, before


def _plan(app, statement: str, parameters) -> str:
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name == "sqlite":
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            return "\n".join(str(r[-1]) for r in rows)
        rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
        return "\n".join(r[0] for r in rows)


@pytest.mark.parametrize("query", ["page=250", "q=たなか&page=20", "q=5012"])
def test_a_deep_page_of_twenty_thousand_staff_reads_one_page_through_an_index(app, admin, many_staff, query):
    statements, before = _capture(app)
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        started = time.perf_counter()
        response = admin.get(f"/office/staff?{query}")
        elapsed = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert response.status_code == 200
    assert len(names(response)) <= 50 and names(response)
    page_queries = [(s, p) for s, p in statements if re.search(r"FROM staff\b", s) and "LIMIT" in s
                    and "count(" not in s.lower()]
    assert len(page_queries) == 1, statements
    statement, parameters = page_queries[0]
    assert "OFFSET" in statement
    plan = _plan(app, statement, parameters)
    if PG_URL:
        assert "Index" in plan and "Seq Scan on staff" not in plan, plan
    else:
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan or "search_kana" in plan, plan
    # Nothing else reads staff rows wholesale: only counts and the distinct crews.
    for s, _p in statements:
        if re.search(r"FROM staff\b", s) and "LIMIT" not in s:
            assert "count(" in s.lower() or "DISTINCT staff.crew" in s or "WHERE staff.id" in s, s
    print(f"\n/office/staff?{query}: {elapsed * 1000:.0f} ms with 20,003 staff\n{plan}")
    assert elapsed < 2.0


# --- dates of birth on the dependent form ----------------------------------------------------


def _child(prefix: str, **extra: str) -> dict:
    return {f"{prefix}-family_name": "佐藤", f"{prefix}-given_name": "陽向", f"{prefix}-family_name_kana": "サトウ",
            f"{prefix}-given_name_kana": "ヒナタ", f"{prefix}-relation": "長男", f"{prefix}-card_status": "none",
            **{f"{prefix}-{k}": v for k, v in extra.items()}}


def _birthday_years_ago(years: int):
    from booking.localtime import local_today

    today = local_today()
    # Yesterday's date that many years ago: the birthday has just passed (29 February aside).
    day = today - timedelta(days=1)
    return day.replace(year=day.year - years) if (day.month, day.day) != (2, 29) else day.replace(
        year=day.year - years, day=28)


def test_a_dependent_s_date_of_birth_is_saved_and_listed_with_the_age_today(app, admin, office):
    staff_id = office.ids["staff_a"]
    born = _birthday_years_ago(9)
    page = admin.get(f"/office/staff/{staff_id}").get_data(as_text=True)
    assert 'type="date"' in page and 'name="dep-birth_date"' in page and "Date of birth" in page

    response = admin.post(f"/office/staff/{staff_id}/dependents", data=_child("dep", birth_date=born.isoformat()))
    assert response.status_code == 302
    with app.app_context():
        child = db.session.scalar(select(Dependent).where(Dependent.given_name == "陽向"))
        assert child.birth_date == born
        child_id = child.id
    page = admin.get(f"/office/staff/{staff_id}").get_data(as_text=True)
    assert "(age 9)" in page
    assert f'name="dep{child_id}-birth_date" type="date" value="{born.isoformat()}"' in page
    # The spouse has none on record, and the list says so rather than guessing.
    assert "Not recorded" in page

    japanese = admin.get(f"/office/staff/{staff_id}?lang=ja").get_data(as_text=True)
    assert "生年月日" in japanese and f"{born:%Y/%m/%d}（9歳）" in japanese


def test_a_date_of_birth_typed_with_slashes_is_taken(app, admin, office):
    response = admin.post(f"/office/staff/{office.ids['staff_a']}/dependents",
                          data=_child("dep", birth_date="2015/4/1"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Dependent.birth_date).where(Dependent.given_name == "陽向")) == date(2015, 4, 1)


@pytest.mark.parametrize("typed", ["2999-01-01", "1899-12-31", "2015-02-30", "heisei 27"])
def test_a_date_of_birth_that_cannot_be_is_refused_on_its_field(app, admin, office, typed):
    response = admin.post(f"/office/staff/{office.ids['staff_a']}/dependents", data=_child("dep", birth_date=typed))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    # The directory's own words, under the field, whether the date is out of range or no date at all.
    assert re.search(r'<p class="o-field__error" id="dep-birth_date-error">Enter the date of birth as it is on a '
                     r"document, e.g. 2015-04-01.</p>", page), page[-3000:]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Dependent)) == 1  # the spouse only


def test_editing_a_dependent_sets_keeps_or_clears_the_date_of_birth(app, admin, office):
    staff_id, spouse_id = office.ids["staff_a"], office.ids["spouse"]
    fields = {"family_name": "佐藤", "given_name": "陽子", "family_name_kana": "サトウ", "given_name_kana": "ヨウコ",
              "relation": "妻", "card_status": "none"}
    edit = {f"dep{spouse_id}-{k}": v for k, v in fields.items()}
    path = f"/office/staff/{staff_id}/dependents/{spouse_id}"

    assert admin.post(path, data={**edit, f"dep{spouse_id}-birth_date": "1990-06-15"}).status_code == 302
    with app.app_context():
        assert db.session.get(Dependent, spouse_id).birth_date == date(1990, 6, 15)

    # A date ahead of today: the edit opens again with the message on its field, nothing changed.
    refused = admin.post(path, data={**edit, f"dep{spouse_id}-birth_date": "2999-06-15"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert '<details class="o-inline-edit" open>' in page
    assert f'id="dep{spouse_id}-birth_date-error">Enter the date of birth' in page
    assert 'value="2999-06-15"' in page  # what was typed is shown again
    with app.app_context():
        assert db.session.get(Dependent, spouse_id).birth_date == date(1990, 6, 15)

    assert admin.post(path, data={**edit, f"dep{spouse_id}-birth_date": ""}).status_code == 302
    with app.app_context():
        assert db.session.get(Dependent, spouse_id).birth_date is None
