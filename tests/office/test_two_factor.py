"""Two-step sign-in (TOTP) for office accounts: enrolment with a QR code and a key, the code after
the password, replayed and wrong codes, recovery codes, the code limit, an admin's and the command
line's reset, and REQUIRE_TOTP_FOR_ADMINS (issue 17). pyotp makes the codes as the phone would."""
from __future__ import annotations

import html
import re
import time

import pyotp
import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEvent, RecoveryCode, User
from tests.office.conftest import sign_in

ENROL = "/office/account/two-factor"


def step_now() -> int:
    return int(time.time()) // 30


def enrol(client) -> tuple[pyotp.TOTP, list[str]]:
    """Set up two-step sign-in for the signed-in client: the key read off the page, the code
    typed from it; returns the phone's TOTP and the recovery codes shown."""
    assert client.post(f"{ENROL}/start").status_code == 302
    page = client.get(ENROL)
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    secret = "".join(re.findall(r"<span>([A-Z2-7]{1,4})</span>", text.split('class="o-totp__secret"')[1].split("</p>")[0]))
    assert len(secret) == 32
    totp = pyotp.TOTP(secret)
    # The code of the present step: sign-ins after it take the next one (a code is taken once).
    done = client.post(f"{ENROL}/confirm", data={"code": totp.generate_otp(step_now())})
    assert done.status_code == 200, done.get_data(as_text=True)[:2000]
    assert done.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([A-Z0-9-]+)</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    return totp, codes


def code_sign_in(client, username: str, code: str):
    first = sign_in(client, username)
    assert first.status_code == 302 and first.headers["Location"].endswith("/office/login/code")
    return client.post("/office/login/code", data={"code": code})


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def enrolled(app, client, office, login):
    """The clerk with two-step sign-in on, signed out again: (phone, recovery codes)."""
    login("clerk")
    phone, codes = enrol(client)
    client.post("/office/logout")
    return phone, codes


def test_enrolment_shows_a_qr_code_and_the_key_and_turns_on_only_with_a_right_code(app, client, office, login):
    login("admin")
    page = client.get(ENROL).get_data(as_text=True)
    assert "Set up two-step sign-in" in page and "o-totp__qr" not in page
    client.post(f"{ENROL}/start")
    page = client.get(ENROL).get_data(as_text=True)
    assert '<svg class="o-totp__qr"' in page and 'aria-label="QR code for your authenticator app"' in page
    secret = "".join(re.findall(r"<span>([A-Z2-7]{4})</span>", page))
    wrong = client.post(f"{ENROL}/confirm", data={"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert wrong.status_code == 422
    assert "This code does not match" in html.unescape(wrong.get_data(as_text=True))
    with app.app_context():
        user = db.session.get(User, office.ids["user_admin"])
        assert not user.two_factor_on and user.totp_pending_secret
        assert secret not in user.totp_pending_secret  # encrypted at rest
    right = client.post(f"{ENROL}/confirm", data={"code": pyotp.TOTP(secret).now()})
    assert right.status_code == 200
    assert "They are shown this once." in right.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, office.ids["user_admin"])
        assert user.two_factor_on and user.totp_pending_secret is None and secret not in user.totp_secret
        hashes = [c.code_hash for c in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id))]
        assert len(hashes) == 10
    # Once on, the key is never shown again.
    page = client.get(ENROL).get_data(as_text=True)
    assert secret not in re.sub(r"<[^>]+>", "", page) and "o-totp__qr" not in page
    assert "10 recovery codes left" in page
    assert [e.details["username"] for e in events(app, "user.two_factor_on")] == ["admin"]


def test_sign_in_asks_for_the_code_after_the_password_and_grants_nothing_halfway(app, client, enrolled):
    phone, _codes = enrolled
    response = sign_in(client, "clerk")
    assert response.status_code == 302 and response.headers["Location"].endswith("/office/login/code")
    for path in ("/desk/", "/office/", ENROL, "/office/phone"):
        halfway = client.get(path)
        assert halfway.status_code == 302 and "/office/login" in halfway.headers["Location"], path
    assert client.post(f"{ENROL}/start").status_code == 302
    page = client.get("/office/login/code").get_data(as_text=True)
    assert "Type the code from your app" in page and 'autocomplete="one-time-code"' in page
    wrong = client.post("/office/login/code", data={"code": "12345"})
    assert wrong.status_code == 401
    [failed] = events(app, "login.code_failed")
    assert failed.actor == "clerk" and failed.user_id is None
    right = client.post("/office/login/code", data={"code": phone.generate_otp(step_now() + 1)})
    assert right.status_code == 302 and right.headers["Location"].endswith("/desk/")  # a clerk starts at the desk
    assert client.get("/desk/").status_code == 200
    assert events(app, "login")[-1].details["method"] == "totp"


def test_a_code_is_taken_once(app, client, enrolled):
    phone, _codes = enrolled
    # The enrolment took the present step's code: it does not sign in.
    assert code_sign_in(client, "clerk", phone.generate_otp(step_now())).status_code == 401
    code = phone.generate_otp(step_now() + 1)
    assert client.post("/office/login/code", data={"code": code}).status_code == 302
    client.post("/office/logout")
    # Replayed (seen over a shoulder, or typed twice): refused, as is an earlier step's.
    assert code_sign_in(client, "clerk", code).status_code == 401
    assert client.post("/office/login/code", data={"code": phone.generate_otp(step_now() - 1)}).status_code == 401
    assert client.get("/desk/").status_code == 302


def test_a_recovery_code_signs_in_once(app, client, enrolled):
    _phone, codes = enrolled
    response = code_sign_in(client, "clerk", codes[0])
    assert response.status_code == 302
    page = client.get("/office/").get_data(as_text=True)
    assert "You signed in with a recovery code; 9 are left." in html.unescape(page)
    assert events(app, "login")[-1].details == {"method": "recovery_code", "recovery_codes_left": 9}
    client.post("/office/logout")
    assert code_sign_in(client, "clerk", codes[0]).status_code == 401
    # Typed by hand: lower case, without hyphens, with spaces.
    typed = " ".join(codes[1].replace("-", "").lower()[i:i + 3] for i in range(0, 12, 3))
    assert client.post("/office/login/code", data={"code": typed}).status_code == 302


def test_wrong_codes_pause_the_code_step_of_the_account(app, client, enrolled):
    phone, _codes = enrolled
    sign_in(client, "clerk")
    for _ in range(5):
        assert client.post("/office/login/code", data={"code": "99999x"}).status_code == 401
    blocked = client.post("/office/login/code", data={"code": phone.generate_otp(step_now() + 1)})
    assert blocked.status_code == 429
    assert re.search(r"Try again after \d\d:\d\d", blocked.get_data(as_text=True))
    assert int(blocked.headers["Retry-After"]) > 0
    assert events(app, "login.blocked")[-1].actor == "clerk"
    # From another address and browser, the same account's code step stays paused.
    other = app.test_client()
    other.set_cookie("lang", "en")
    sign_in(other, "clerk")
    assert other.post("/office/login/code", data={"code": phone.generate_otp(step_now() + 1)},
                      environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 429


def test_the_halfway_state_expires_and_ends_with_a_password_reset(app, client, enrolled, office):
    phone, _codes = enrolled
    sign_in(client, "clerk")
    with client.session_transaction() as session:
        halfway = session["two_factor_halfway"]
        session["two_factor_halfway"] = {**halfway, "at": halfway["at"] - 301}
    late = client.post("/office/login/code", data={"code": phone.generate_otp(step_now() + 1)})
    assert late.status_code == 302 and late.headers["Location"].endswith("/office/login")

    sign_in(client, "clerk")
    admin = app.test_client()
    assert sign_in(admin, "admin").status_code == 302
    admin.post(f"/office/users/{office.ids['user_clerk']}/password", data={
        "reset-password": "brand new secret", "reset-password_again": "brand new secret"})
    stale = client.post("/office/login/code", data={"code": phone.generate_otp(step_now() + 1)})
    assert stale.status_code == 302 and stale.headers["Location"].endswith("/office/login")
    assert client.get("/desk/").status_code == 302


def test_turning_it_on_ends_the_other_sessions_and_keeps_this_one(app, client, office, login):
    other = app.test_client()
    assert sign_in(other, "clerk").status_code == 302
    login("clerk")
    enrol(client)
    assert client.get("/desk/").status_code == 200
    assert other.get("/desk/").status_code == 302


def test_a_new_phone_replaces_the_old_one_only_once_confirmed(app, client, enrolled):
    old_phone, old_codes = enrolled
    assert code_sign_in(client, "clerk", old_phone.generate_otp(step_now() + 1)).status_code == 302
    client.post(f"{ENROL}/start")
    page = client.get(ENROL).get_data(as_text=True)
    assert "the old phone and the old recovery codes keep working" in page
    new_secret = "".join(re.findall(r"<span>([A-Z2-7]{4})</span>", page))
    assert client.post(f"{ENROL}/confirm", data={"code": pyotp.TOTP(new_secret).now()}).status_code == 200
    client.post("/office/logout")
    assert code_sign_in(client, "clerk", old_codes[2]).status_code == 401
    assert client.post("/office/login/code", data={"code": old_phone.generate_otp(step_now() + 1)}).status_code == 401
    new = pyotp.TOTP(new_secret).generate_otp(step_now() + 1)
    assert client.post("/office/login/code", data={"code": new}).status_code == 302


def test_an_admin_resets_another_users_second_step(app, client, enrolled, office):
    phone, _codes = enrolled
    clerk = app.test_client()
    assert code_sign_in(clerk, "clerk", phone.generate_otp(step_now() + 1)).status_code == 302
    assert sign_in(client, "admin").status_code == 302
    page = client.get(f"/office/users/{office.ids['user_clerk']}").get_data(as_text=True)
    assert "Reset two-step sign-in" in page
    response = client.post(f"/office/users/{office.ids['user_clerk']}/two-factor/reset")
    assert response.status_code == 302
    assert clerk.get("/desk/").status_code == 302  # signed out everywhere
    assert sign_in(app.test_client(), "clerk").headers["Location"].endswith("/desk/")  # password alone
    [event] = events(app, "user.two_factor_reset")
    assert (event.actor, event.channel, event.target_id, event.details["was_on"]) == (
        "admin", "page", str(office.ids["user_clerk"]), True)
    # Not their own (they move to a new phone on their page), and not by a non-admin.
    assert client.post(f"/office/users/{office.ids['user_admin']}/two-factor/reset").status_code == 403
    assert sign_in(clerk, "clerk").status_code == 302
    assert clerk.post(f"/office/users/{office.ids['user_admin']}/two-factor/reset").status_code == 403


def test_the_command_line_resets_a_locked_out_admin(app, client, runner, office, login):
    login("admin")
    enrol(client)
    client.post("/office/logout")
    result = runner.invoke(args=["reset-two-factor", "--username", "admin"])
    assert result.exit_code == 0, result.output
    assert sign_in(client, "admin").headers["Location"].endswith("/office/")
    assert events(app, "user.two_factor_reset")[-1].channel == "cli"
    missing = runner.invoke(args=["reset-two-factor", "--username", "nobody"])
    assert missing.exit_code == 1 and "No user is called nobody" in missing.output


def test_required_for_admins_makes_them_enrol_before_any_page(app, client, office, login, admin_headers):
    app.config["REQUIRE_TOTP_FOR_ADMINS"] = True
    login("admin")
    for path in ("/office/", "/desk/", "/office/users", "/reports/"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith(ENROL), path
    assert client.post("/office/users/new", data={}).headers["Location"].endswith(ENROL)
    page = client.get(ENROL).get_data(as_text=True)
    assert "Your section requires two-step sign-in for admins" in page
    # API tokens are unaffected; other roles too.
    assert app.test_client().post("/api/v1/units", headers=admin_headers, json={}).status_code == 422
    clerk = app.test_client()
    sign_in(clerk, "clerk")
    assert clerk.get("/desk/").status_code == 200
    enrol(client)
    assert client.get("/office/").status_code == 200
    client.post("/office/logout")
    assert client.get("/office/").headers["Location"].startswith("/office/login")


def test_the_code_step_is_japanese_by_default(app, enrolled):
    client = app.test_client()
    sign_in(client, "clerk")
    page = client.get("/office/login/code").get_data(as_text=True)
    assert '<html lang="ja">' in page and "認証アプリ" in page
