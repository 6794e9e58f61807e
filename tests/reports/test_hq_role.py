"""The ``hq`` role, HQ general affairs (issue 16 item 7; API.md "Bootstrap"; DESIGN.md rule 8):
every unit's reports and rosters, read-only, no photos, in the pages, the API and the command line.
Before it existed HQ general affairs needed the admin role to see 本部集計 (a chief of HQ got 403)."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from booking.extensions import db
from booking.models import AuditEvent, Reservation, Staff, User
from tests.desk.desk_images import encoded, photo_like

HQ_PAGES = [
    "/reports/",
    "/reports/ranking",
    "/reports/upward",
    "/reports/status.csv",
    "/reports/status.xlsx",
    "/reports/delivery",
    "/reports/delivery.csv",
    "/chiefs/",
    "/chiefs/unit",
    "/chiefs/sessions/{session}/roster",
    "/chiefs/sessions/{session}/roster?format=csv",
    "/chiefs/sessions/{session}/roster?format=xlsx",
    "/chiefs/venues/{venue}/{day}/roster",
    "/chiefs/staff/{staff_b}",
    "/office/",
]

HQ_REFUSED_PAGES = [
    "/reports/status-import",
    "/chiefs/slips",
    "/chiefs/slips?staff={staff_b}",
    "/chiefs/calendar",
    "/chiefs/approvals",
    "/desk/",
    "/desk/sessions/{session}",
    "/desk/no-shows",
    "/desk/photo-retention",
    "/office/users",
    "/office/staff",
    "/office/phone",
    "/office/audit",
    "/office/personal-data",
]

HQ_REFUSED_CHANGES = [
    "/reports/snapshot",
    "/reports/status-import",
    "/reports/status-import/confirm",
    "/chiefs/staff/{staff_b}/status",
    "/chiefs/staff/{staff_b}/reason",
    "/chiefs/calendar",
    "/desk/sessions/{session}/no-shows",
    "/desk/reservations/{reservation}/check-in",
    "/office/campaigns/new",
    "/office/staff/{staff_b}/invitation",
]


def _ids(dept, world) -> dict:
    return {"session": world.session_id, "venue": world.venue_id, "day": world.session_day.isoformat(),
            "staff_b": dept.staff_ids["4001"], "reservation": dept.reservation_ids["4001"]}


def test_hq_opens_every_units_reports_and_rosters(client, dept, world, login):
    login("hq")
    ids = _ids(dept, world)
    for template in HQ_PAGES:
        url = template.format(**ids)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    # Every unit's people, not one subtree: 北消防署 (B) and 東出張所 (A1) side by side.
    roster = client.get(f"/chiefs/sessions/{world.session_id}/roster?format=csv").get_data(as_text=True)
    for name in ("佐藤", "山田", "鈴木", "高橋"):
        assert name in roster
    unit_page = client.get("/chiefs/unit").get_data(as_text=True)
    assert "鈴木" in unit_page and "山田" in unit_page


def test_a_chief_of_hq_is_still_refused_the_hq_dashboard_while_hq_opens_it(client, dept, login):
    login("chief", unit_code="HQ")
    assert client.get("/reports/").status_code == 403
    client.post("/office/logout")
    login("hq")
    assert client.get("/reports/").status_code == 200


def test_hq_pages_offer_nothing_to_change(client, dept, world, login):
    login("hq")
    dashboard = client.get("/reports/").get_data(as_text=True)
    assert "/reports/snapshot" not in dashboard and "/reports/status-import" not in dashboard
    staff = client.get(f"/chiefs/staff/{dept.staff_ids['4001']}").get_data(as_text=True)
    assert "鈴木" in staff and 'action="/chiefs/staff/' not in staff and "csrf_token" not in staff.split(
        "office-nav__user")[0]
    assert "/chiefs/slips" not in staff
    unit_page = client.get("/chiefs/unit").get_data(as_text=True)
    assert "/chiefs/slips" not in unit_page


def test_hq_is_refused_every_change_and_every_page_that_changes(app, client, dept, world, login):
    login("hq")
    ids = _ids(dept, world)
    for template in HQ_REFUSED_PAGES:
        url = template.format(**ids)
        assert client.get(url).status_code == 403, url
    with app.app_context():
        before = db.session.scalar(select(Staff.card_status).where(Staff.id == dept.staff_ids["4001"]))
    for template in HQ_REFUSED_CHANGES:
        url = template.format(**ids)
        response = client.post(url, data={"key": "staff", "staff-card_status": "received", "reason": "busy",
                                          "title": "X"})
        assert response.status_code == 403, (url, response.status_code)
    with app.app_context():
        after = db.session.scalar(select(Staff.card_status).where(Staff.id == dept.staff_ids["4001"]))
    assert before == after


@pytest.fixture
def photographed(app, client, dept, world, make_token):
    """The world's booker checked in and photographed by a clerk through the API; the check-in id."""
    clerk = {"Authorization": f"Bearer {make_token('clerk', username='desk-hq-test')}"}
    with app.app_context():
        code = db.session.get(Reservation, dept.reservation_ids["1001"]).code
    response = client.post("/api/v1/checkins", json={"code": code}, headers=clerk)
    assert response.status_code == 201, response.get_json()
    check_in_id = response.get_json()["check_ins"][0]["id"]
    boundary, body = encode_multipart({"photo": FileStorage(io.BytesIO(encoded(photo_like(1200, 1600), "JPEG")),
                                                            "photo.jpg", content_type="image/jpeg")})
    response = client.post(f"/api/v1/checkins/{check_in_id}/photo", data=body, headers=clerk,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code in (200, 201), response.get_json()
    return check_in_id


def test_hq_sees_no_photo_on_a_page_or_through_the_api(app, client, dept, photographed, login, bearer):
    assert client.get(f"/api/v1/checkins/{photographed}/photo", headers=bearer("clerk")).status_code == 200
    assert client.get(f"/api/v1/checkins/{photographed}/photo", headers=bearer("hq")).status_code == 403
    login("hq")
    assert client.get(f"/desk/check-ins/{photographed}/photo.jpg").status_code == 403
    # The roster says who was photographed, and shows no photo.
    roster = client.get(f"/chiefs/sessions/{dept.world.session_id}/roster").get_data(as_text=True)
    assert "photo.jpg" not in roster
    with app.app_context():
        viewed = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("photo.%"))).all()
    assert viewed.count("photo.download") == 1  # the clerk's, above; the refusals showed nothing


def test_hq_reads_every_units_files_through_the_api(client, dept, world, bearer):
    hq = bearer("hq")
    roster = client.get(f"/api/v1/sessions/{world.session_id}/roster.csv", headers=hq)
    assert roster.status_code == 200
    assert all(name in roster.get_data(as_text=True) for name in ("佐藤", "山田", "鈴木", "高橋"))
    status = client.get("/api/v1/reports/status.csv", headers=hq)
    assert status.status_code == 200
    assert "北消防署" in status.get_data(as_text=True) and "東出張所" in status.get_data(as_text=True)


def test_hq_changes_nothing_through_the_api(client, dept, world, bearer):
    hq = bearer("hq")
    calls = [
        ("post", "/api/v1/units", {"code": "C", "name": "南消防署"}),
        ("post", "/api/v1/venues", {"name": "x", "address": "y"}),
        ("post", "/api/v1/campaigns", {"title": "x", "booking_opens_at": "2030-01-01T00:00:00+09:00",
                                       "booking_closes_at": "2030-02-01T00:00:00+09:00", "published": False}),
        ("post", f"/api/v1/campaigns/{world.campaign_id}/sessions", {}),
        ("post", "/api/v1/checkins", {"code": "ABCD-EFGH"}),
        ("get", "/api/v1/staff/4001/invitation", None),
    ]
    for method, url, body in calls:
        response = getattr(client, method)(url, json=body, headers=hq)
        assert response.status_code == 403, (url, response.status_code, response.get_json())
        assert response.get_json()["error"] == "forbidden"


def test_create_api_token_makes_an_hq_user_whose_token_reads_reports(app, client, dept, runner):
    result = runner.invoke(args=["create-api-token", "--username", "soumu", "--role", "hq"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "soumu"))
        assert user.role == "hq" and user.unit_id is None
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/reports/status.csv", headers=headers).status_code == 200
    assert client.post("/api/v1/units", json={"code": "C", "name": "南"}, headers=headers).status_code == 403


def test_create_user_makes_an_hq_user_who_lands_on_the_reports(app, client, dept, runner):
    result = runner.invoke(args=["create-user", "--username", "soumu2", "--role", "hq",
                                 "--password", "correct horse battery"])
    assert result.exit_code == 0, result.output
    response = client.post("/office/login", data={"username": "soumu2", "password": "correct horse battery"})
    assert response.status_code == 302 and response.headers["Location"] == "/reports/"


def test_the_admin_creates_an_hq_user_on_the_users_page(app, client, dept, login):
    login("admin")
    form = client.get("/office/users/new").get_data(as_text=True)
    assert 'value="hq"' in form
    response = client.post("/office/users/new", data={
        "username": "soumu3", "display_name": "総務課", "role": "hq", "unit_id": "",
        "password": "correct horse battery", "password_again": "correct horse battery"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    with app.app_context():
        assert db.session.scalar(select(User.role).where(User.username == "soumu3")) == "hq"
    listing = client.get("/office/users").get_data(as_text=True)
    assert "本部総務" in listing  # the role, in the Japanese the office reads by default


@pytest.mark.parametrize(("role", "unit", "start"), [
    ("admin", None, "/office/"),
    ("clerk", None, "/desk/"),
    ("chief", "A", "/chiefs/"),
    ("hq", None, "/reports/"),
])
def test_each_role_lands_on_its_own_start_page_after_signing_in(app, client, dept, role, unit, start):
    from booking.services import accounts

    with app.app_context():
        accounts.ensure_user(f"start-{role}", role, unit_code=unit, password="correct horse battery")
        db.session.commit()
    response = client.post("/office/login", data={"username": f"start-{role}", "password": "correct horse battery"})
    assert response.status_code == 302 and response.headers["Location"] == start
    assert client.get(start).status_code == 200


def test_a_page_asked_for_before_signing_in_still_wins_over_the_start_page(app, client, dept):
    from booking.services import accounts

    with app.app_context():
        accounts.ensure_user("start-clerk2", "clerk", password="correct horse battery")
        db.session.commit()
    response = client.post("/office/login?next=/office/phone",
                           data={"username": "start-clerk2", "password": "correct horse battery"})
    assert response.headers["Location"] == "/office/phone"


def test_the_menu_of_hq_holds_the_reports_and_rosters_only(client, dept, login):
    login("hq")
    page = client.get("/reports/").get_data(as_text=True)
    nav = page.split('class="office-nav', 1)[1].split("</nav>", 1)[0]
    for url in ("/reports/", "/reports/ranking", "/reports/upward", "/chiefs/", "/chiefs/unit"):
        assert f'href="{url}"' in nav, url
    for url in ("/desk/", "/office/phone", "/office/users", "/reports/status-import", "/chiefs/calendar"):
        assert f'href="{url}"' not in nav, url
