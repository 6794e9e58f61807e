"""Every route of app.url_map, for every kind of caller: no 500 anywhere, and the forbidden get
401 (API), 403 (signed in, wrong role or unit) or a redirect to the sign-in page (anonymous).

The table below names who may use each endpoint; a route missing from it fails
test_every_route_is_in_the_matrix, so new routes are covered as they are added. Object-level
rules are exercised by filling paths with records of unit A (or its branch A1): chief_a may see
them, chief_b may not. The finer per-area matrices live in tests/office, tests/chiefs and tests/desk.
"""
from __future__ import annotations

from datetime import UTC

import pytest
from werkzeug.routing import Rule

from tests.office.conftest import sign_in

ANY = "any"            # everybody, anonymous included
TOKEN = "token"        # whoever holds the secret in the path
ADMIN = {"admin"}
DESK = {"admin", "clerk"}
CHIEF_A = {"admin", "chief_a"}           # chiefs and admin, records of unit A
STAFF = {"admin", "chief_a", "chief_b", "clerk"}
CHIEFS_ANY = {"admin", "chief_a", "chief_b"}

MATRIX: dict[str, object] = {
    "static": ANY, "healthz": ANY, "readyz": ANY, "public.identify": ANY, "office.login": ANY, "office.logout": STAFF,
    # The sign-in's code step: halfway signed in is nobody yet (tests/office/test_two_factor.py)
    "office.login_code": ANY,
    "office.two_factor": STAFF, "office.start_two_factor": STAFF, "office.confirm_two_factor": STAFF,
    "office.reset_two_factor": ADMIN,
    "api.openapi_document": ANY, "api.list_campaigns": ANY, "api.list_sessions": ANY,
    "api.create_reservation": ANY,
    "public.invitation": TOKEN, "public.choose_slot": TOKEN, "public.manage": TOKEN, "public.calendar": TOKEN,
    "public.change_email": TOKEN, "public.confirm_email": TOKEN,
    "public.cancel": TOKEN, "public.move": TOKEN, "public.move_to_slot": TOKEN, "public.qr": TOKEN,
    "api.show_reservation": TOKEN, "api.cancel_reservation": TOKEN, "api.reschedule_reservation": TOKEN,
    # the waiting list (issue 19): joining with the invitation code, the place's own link after
    "api.join_waitlist": ANY, "api.show_waitlist_entry": TOKEN, "api.leave_waitlist": TOKEN,
    "api.accept_waitlist_offer": TOKEN, "public.join_waitlist": TOKEN, "public.waitlist_entry": TOKEN,
    "public.accept_offer": TOKEN, "public.leave_waitlist": TOKEN, "office.session_waitlist": DESK,
    "chiefs.calendar_feed": TOKEN,
    # JSON API, office side
    "api.create_unit": ADMIN, "api.import_staff": ADMIN, "api.staff_invitation": ADMIN, "api.add_dependent": ADMIN,
    "api.create_venue": ADMIN, "api.create_campaign": ADMIN, "api.create_session": ADMIN,
    "api.list_messages": ADMIN,
    "api.create_check_in": DESK, "api.upload_check_in_photo": DESK, "api.download_check_in_photo": DESK,
    "api.check_in_application": DESK, "api.show_check_in_application": DESK, "api.identity_documents": DESK,
    "api.session_roster_csv": CHIEFS_ANY, "api.status_csv": CHIEFS_ANY,
    # the card's life of a person of unit A (staff 1001 and the spouse)
    "api.show_card": CHIEF_A, "api.change_card": CHIEF_A,
    # desk pages
    **{f"desk.{name}": DESK for name in (
        "index", "session_board", "board_json", "find", "mark_no_shows", "check_in_screen", "check_in",
        "application", "application_assess", "upload_photo", "show_photo", "scan", "walk_in")},
    "desk.no_shows": STAFF, "desk.photo_retention": ADMIN,
    "desk.print_photos": DESK, "desk.download_photos": DESK,
    # the desk that keeps working offline; its service worker and manifest hold no data
    "desk.offline_desk": DESK, "desk.offline_roster": DESK, "desk.offline_action": DESK,
    "desk.service_worker": ANY, "desk.manifest": ANY,
    # the section's settings for the application at the desk
    "office.list_municipalities": ADMIN, "office.list_identity_documents": ADMIN,
    "office.edit_identity_document": ADMIN,
    "reports.delivery": ADMIN, "reports.delivery_csv": ADMIN,
    # chiefs' pages (staff of unit A in the path)
    "chiefs.sessions": CHIEFS_ANY, "chiefs.session_roster": CHIEFS_ANY, "chiefs.day_roster": CHIEFS_ANY,
    "chiefs.unit_status": CHIEFS_ANY, "chiefs.slips": CHIEFS_ANY, "chiefs.print_slips": CHIEFS_ANY,
    "chiefs.calendar": CHIEFS_ANY, "chiefs.duty_approvals": CHIEFS_ANY,
    # Only the unit's chief answers a duty approval; the admin watches (services/approvals.decide).
    "chiefs.decide_duty_approval": {"chief_a", "chief_b"},
    "chiefs.staff_detail": CHIEF_A, "chiefs.change_reason": CHIEF_A, "chiefs.change_status": CHIEF_A,
    # reports
    "reports.dashboard": ADMIN, "reports.status_file": CHIEFS_ANY, "reports.ranking": STAFF,
    "reports.take_snapshot": ADMIN, "reports.status_import": ADMIN, "reports.confirm_status_import": ADMIN,
    "reports.upward": ADMIN, "reports.expiring": ADMIN, "reports.mark_upward_sent": ADMIN,
    "reports.sent_upward_file": ADMIN,
    # office (its own fine-grained matrix is tests/office/test_permissions.py)
    "office.overview": STAFF, "office.list_users": ADMIN, "office.create_user": ADMIN, "office.edit_user": ADMIN,
    "office.reset_password": ADMIN, "office.list_units": CHIEFS_ANY, "office.edit_unit": ADMIN,
    "office.edit_duty_calendar": ADMIN, "office.list_venues": ADMIN, "office.edit_venue": ADMIN,
    "office.list_staff": CHIEFS_ANY, "office.show_staff": CHIEF_A, "office.update_staff": ADMIN,
    "office.save_dependent": ADMIN, "office.delete_dependent": ADMIN, "office.reissue_invitation": CHIEF_A,
    "office.change_card": CHIEF_A,
    "office.export_staff": ADMIN, "office.import_staff": ADMIN, "office.preview_import": ADMIN,
    "office.confirm_import": ADMIN, "office.discard_import": ADMIN, "office.import_template": ADMIN,
    "office.import_progress": ADMIN, "office.import_progress_json": ADMIN, "office.import_departures": ADMIN,
    "office.show_campaign": STAFF, "office.edit_campaign": ADMIN, "office.create_session": ADMIN,
    "office.edit_session": ADMIN, "office.copy_session": ADMIN, "office.cancel_session": ADMIN,
    "office.preview_session": ADMIN, "office.session_contacts": ADMIN, "office.campaign_coverage": ADMIN,
    "office.add_coverage_sessions": ADMIN, "office.confirm_coverage_sessions": ADMIN, "office.set_duty_approval": ADMIN,
    "office.phone": DESK, "office.phone_staff": DESK, "office.phone_book": DESK, "office.phone_done": DESK,
    "office.phone_cancel": DESK, "office.audit_log": ADMIN,
    "office.messages_page": ADMIN, "office.message_page": ADMIN,
    # Personal data: disclosure, erasure and how long photos are kept
    "office.personal_data": ADMIN, "office.disclosure_print": ADMIN, "office.disclosure_json": ADMIN,
    "office.disclosure_erase": ADMIN, "office.retention_days": ADMIN,
}

CALLERS = ["anonymous", "booker", "clerk", "chief_a", "chief_b", "admin"]


def _values(sec, rule: Rule) -> dict:
    ids = sec.ids
    manage = sec.manage["staff_a"]
    token = sec.invitation["staff_a"][0] if rule.endpoint.startswith("public.") and "/i/" in rule.rule else manage
    if rule.endpoint == "chiefs.calendar_feed":
        token = "not-a-feed-token"
    return {
        "campaign_id": ids["campaign"], "session_id": ids["session"], "check_in_id": ids["check_in"],
        "approval_id": 999999, "answer": "approve", "token": token, "day": sec.office.session_day.isoformat(),
        "venue_id": ids["venue"], "staff_id": ids["staff_a"], "dependent_id": ids["spouse"],
        "reservation_id": ids["reservation_staff_a"], "event_id": 999999, "user_id": ids["user_clerk"],
        "unit_id": ids["A"], "batch_id": "nothing", "kind": "csv", "fmt": "csv", "staff_number": "1001",
        "filename": "css/app.css", "code": "drivers_license", "message_id": 999999, "report_id": 999999,
    }


def _requests(app, sec):
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
    gets, posts = [], []
    for rule in rules:
        path = rule.build(_values(sec, rule), append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            (gets if method == "GET" else posts).append((rule, method, path))
    # Changes after reads; signing out last of all.
    posts.sort(key=lambda item: item[0].endpoint == "office.logout")
    return gets + posts


def test_every_route_is_in_the_matrix(app):
    missing = {rule.endpoint for rule in app.url_map.iter_rules()} - set(MATRIX)
    assert missing == set(), f"add these endpoints to MATRIX: {sorted(missing)}"


def _forbidden(caller: str, allowed) -> bool:
    if allowed in (ANY, TOKEN):
        return False
    return caller not in allowed


@pytest.mark.parametrize("caller", CALLERS)
def test_every_route_answers_each_caller_without_500_and_refuses_the_forbidden(app, sec, caller):
    client = app.test_client()
    client.set_cookie("lang", "en")
    headers = {"Accept-Language": "en"}
    if caller in sec.tokens:
        assert sign_in(client, caller).status_code == 302
    problems = []
    for rule, method, path in _requests(app, sec):
        api = path.startswith("/api/")
        call_headers = dict(headers)
        if api and caller in sec.tokens:
            call_headers.update(sec.headers(caller))
        if caller == "booker" and api and MATRIX[rule.endpoint] not in (ANY, TOKEN):
            # A booker's only secret used as if it were an API token.
            call_headers["Authorization"] = f"Bearer {sec.manage['staff_a']}"
        kwargs = {"json": {}} if api and method == "POST" else {"data": {}}
        response = client.open(path, method=method, headers=call_headers, **kwargs)
        response.close()
        status, where = response.status_code, response.headers.get("Location", "")
        label = f"{caller} {method} {path} -> {status} {where}"
        if status >= 500:
            problems.append(label)
            continue
        allowed = MATRIX[rule.endpoint]
        if caller == "booker" and api and allowed not in (ANY, TOKEN):
            if status != 401:
                problems.append(label + " (expected 401)")
            continue
        if _forbidden(caller, allowed):
            if api:
                ok = status == (401 if caller in ("anonymous", "booker") else 403)
            elif caller in ("anonymous", "booker"):
                ok = status == 302 and "/office/login" in where
            else:
                ok = status == 403
            if not ok:
                problems.append(label + " (expected a refusal)")
        elif status in (401, 403) or (status == 302 and "/office/login" in where
                                      # The code step sends whoever gave no password yet back to it.
                                      and rule.endpoint not in ("office.logout", "office.login_code")):
            problems.append(label + " (expected to be let in)")
    assert problems == []


def test_a_tampered_manage_token_or_a_token_of_the_wrong_kind_opens_nothing(client, sec):
    manage, link = sec.manage["staff_a"], sec.invitation["staff_a"][0]
    tampered = manage[:-2] + ("AA" if manage[-2:] != "AA" else "BB")
    for path in (f"/r/{tampered}", f"/r/{link}", f"/i/{manage}", f"/api/v1/reservations/{tampered}",
                 f"/api/v1/reservations/{link}", f"/r/{tampered}/qr.png", f"/r/{tampered}/calendar.ics"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/r/{tampered}/cancel").status_code == 404
    assert client.post(f"/api/v1/reservations/{tampered}/cancel").status_code == 404


def test_a_booker_sees_only_their_own_reservation_with_their_token(client, sec):
    page = client.get(f"/r/{sec.manage['staff_a']}?lang=en").get_data(as_text=True)
    assert sec.codes["staff_a"].replace("", "")[:3] in page.replace("-", "")
    assert sec.codes["staff_b"][:3] + "-" + sec.codes["staff_b"][3:6] not in page
    answer = client.get(f"/api/v1/reservations/{sec.manage['staff_a']}").get_json()
    assert answer["code"] == sec.codes["staff_a"]


def test_a_manage_token_cannot_move_a_booking_into_another_campaigns_session(app, client, sec):
    from datetime import datetime, time, timedelta

    from booking.extensions import db
    from booking.services import campaigns, slots
    from booking.services.actor import Actor

    with app.test_request_context():
        other = campaigns.create_campaign(Actor.system(), title="別の",
                                          booking_opens_at=datetime.now(UTC) - timedelta(days=1),
                                          booking_closes_at=datetime.now(UTC) + timedelta(days=30), published=True)
        session = slots.create_session(other, sec.ids["venue"], sec.office.session_day, time(10), time(11), 10, 1)
        db.session.commit()
        session_id, slot_id = session.id, session.slots[0].id
    token = sec.manage["staff_a"]
    response = client.post(f"/r/{token}/move/{session_id}", data={"slot_id": slot_id})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/r/{token}")
    answer = client.post(f"/api/v1/reservations/{token}/reschedule", json={"slot_id": slot_id})
    assert answer.status_code in (404, 409, 422)
    assert client.get(f"/api/v1/reservations/{token}").get_json()["slot"]["id"] == sec.ids["slots"][0]
