"""A session ends when its account changes: a sign-out, a password change or reset, a role change
or disabling refuses every session signed in before, cookies copied elsewhere included (issue 17).
API tokens are not sessions and are unaffected."""
from __future__ import annotations

from booking.extensions import db
from booking.models import User
from tests.office.conftest import PASSWORD, sign_in


def signed_in_cookie(app, username: str) -> str:
    """The session cookie of a fresh sign-in, as someone who copied it would keep it."""
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client.get_cookie("session").value


def opens_desk(app, cookie: str) -> bool:
    """Whether a browser holding only this cookie gets the desk page (else the sign-in page)."""
    client = app.test_client()
    client.set_cookie("session", cookie)
    response = client.get("/desk/")
    if response.status_code == 302:
        assert "/office/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def test_a_cookie_copied_before_sign_out_opens_nothing_afterwards(app, client, office):
    assert sign_in(client, "clerk").status_code == 302
    copied = client.get_cookie("session").value
    assert opens_desk(app, copied)
    assert client.post("/office/logout").status_code == 302
    assert not opens_desk(app, copied)
    # Signing in again makes a new session that works; the copied one stays dead.
    fresh = signed_in_cookie(app, "clerk")
    assert opens_desk(app, fresh) and not opens_desk(app, copied)


def test_signing_out_ends_the_accounts_other_sessions_too(app, client, office):
    other_device = signed_in_cookie(app, "clerk")
    assert sign_in(client, "clerk").status_code == 302
    client.post("/office/logout")
    assert not opens_desk(app, other_device)


def test_a_password_reset_by_an_admin_ends_the_clerks_sessions(app, client, office, login):
    clerk = signed_in_cookie(app, "clerk")
    colleague = signed_in_cookie(app, "admin")  # another account's session is untouched
    login("admin")
    response = client.post(f"/office/users/{office.ids['user_clerk']}/password", data={
        "reset-password": "brand new secret", "reset-password_again": "brand new secret"})
    assert response.status_code == 302
    assert not opens_desk(app, clerk)
    assert opens_desk(app, colleague)
    assert client.get("/office/users").status_code == 200  # the admin who reset it stays in


def test_a_refused_password_reset_ends_nothing(app, client, office, login):
    clerk = signed_in_cookie(app, "clerk")
    login("admin")
    response = client.post(f"/office/users/{office.ids['user_clerk']}/password", data={
        "reset-password": "short", "reset-password_again": "short"})
    assert response.status_code == 422
    assert opens_desk(app, clerk)


def test_a_password_changed_on_the_command_line_ends_the_sessions(app, runner, office):
    clerk = signed_in_cookie(app, "clerk")
    result = runner.invoke(args=["create-user", "--username", "clerk", "--role", "clerk",
                                 "--password", "another long secret"])
    assert result.exit_code == 0, result.output
    assert not opens_desk(app, clerk)


def test_a_role_change_ends_the_sessions(app, client, office, login):
    chief = signed_in_cookie(app, "chief_a")
    login("admin")
    response = client.post(f"/office/users/{office.ids['user_chief_a']}", data={
        "display_name": "", "role": "clerk", "unit_id": "", "is_active": "y"})
    assert response.status_code == 302
    assert not opens_desk(app, chief)
    # Signed in again, the same person gets the new role's pages.
    assert opens_desk(app, signed_in_cookie(app, "chief_a"))


def test_a_change_of_name_alone_keeps_the_sessions(app, client, office, login):
    clerk = signed_in_cookie(app, "clerk")
    login("admin")
    response = client.post(f"/office/users/{office.ids['user_clerk']}", data={
        "display_name": "窓口 花子", "role": "clerk", "unit_id": "", "is_active": "y"})
    assert response.status_code == 302
    assert opens_desk(app, clerk)


def test_disabling_ends_the_sessions_and_enabling_again_does_not_bring_them_back(app, client, office, login):
    clerk = signed_in_cookie(app, "clerk")
    login("admin")
    url = f"/office/users/{office.ids['user_clerk']}"
    assert client.post(url, data={"display_name": "", "role": "clerk", "unit_id": ""}).status_code == 302
    assert not opens_desk(app, clerk)
    assert client.post(url, data={"display_name": "", "role": "clerk", "unit_id": "",
                                  "is_active": "y"}).status_code == 302
    assert not opens_desk(app, clerk)
    assert opens_desk(app, signed_in_cookie(app, "clerk"))


def test_a_session_from_before_versions_is_refused(app, office):
    """A cookie signed before the upgrade names the bare user id: its user signs in again."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(office.ids["user_clerk"])
        session["_fresh"] = True
    assert client.get("/desk/").status_code == 302


def test_api_tokens_outlive_a_sign_out_and_a_password_reset(app, client, office, make_token):
    token = make_token("clerk", username="clerk")
    headers = {"Authorization": f"Bearer {token}"}
    sign_in(client, "clerk")
    client.post("/office/logout")
    with app.app_context():
        user = db.session.get(User, office.ids["user_clerk"])
        from booking.services import users
        from booking.services.actor import Actor

        users.reset_password(Actor.command_line(), user, PASSWORD + "!")
        db.session.commit()
    checked = client.post("/api/v1/checkins", headers=headers, json={})
    assert checked.status_code in (400, 404, 422)  # let in (the body is refused), not 401
