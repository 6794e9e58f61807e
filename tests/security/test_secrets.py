"""Secrets handed out (API tokens, invitation links and codes, manage links, QR) are never stored
as such, can be revoked, are ≥128 bits and reveal no id."""
from __future__ import annotations

import base64
import re

from sqlalchemy import text

from booking.extensions import db
from booking.services import tokens
from tests.office.conftest import sign_in


def _all_cells(app) -> str:
    """Every value of every table, as one text: what a stolen database dump would show."""
    with app.app_context():
        out = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(text(f"SELECT * FROM {table.name}")):
                out.extend(str(value) for value in row)
        return "\n".join(out)


def test_api_tokens_are_stored_only_as_hashes(app, sec):
    dump = _all_cells(app)
    for token in sec.tokens.values():
        assert token not in dump
        assert tokens.digest(token) in dump


def test_invitation_links_and_codes_and_manage_tokens_are_not_in_the_database(app, sec):
    dump = _all_cells(app)
    for link, code, _number in sec.invitation.values():
        assert link not in dump and tokens.digest(link) in dump
        assert code not in dump
    for token in sec.manage.values():
        assert token not in dump and tokens.digest(token) in dump


def test_a_revoked_api_token_is_refused_at_once(app, sec, runner):
    headers = sec.headers("admin")
    assert app.test_client().get("/api/v1/reports/status.csv", headers=headers).status_code == 200
    result = runner.invoke(args=["revoke-api-token", "--token", sec.tokens["admin"]])
    assert result.exit_code == 0 and "Revoked 1" in result.output
    assert app.test_client().get("/api/v1/reports/status.csv", headers=headers).status_code == 401


def test_revoking_by_user_ends_all_their_tokens_and_leaves_others(app, sec, runner, make_token):
    second = make_token("clerk", username="clerk")
    result = runner.invoke(args=["revoke-api-token", "--username", "clerk"])
    assert result.exit_code == 0 and "Revoked 2" in result.output
    client = app.test_client()
    for token in (sec.tokens["clerk"], second):
        assert client.post("/api/v1/checkins", json={"code": "X"},
                           headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/api/v1/reports/status.csv", headers=sec.headers("admin")).status_code == 200


def test_revoking_is_audited_and_an_unknown_token_exits_non_zero(app, sec, runner):
    assert runner.invoke(args=["revoke-api-token", "--token", "nope"]).exit_code == 1
    assert runner.invoke(args=["revoke-api-token"]).exit_code != 0
    runner.invoke(args=["revoke-api-token", "--username", "chief_a"])
    assert "api_token.revoke" in _all_cells(app)


def test_a_reissued_invitation_stops_the_old_link_and_code_at_once(app, client, sec):
    link, code, number = sec.invitation["staff_a"]
    assert client.get(f"/i/{link}").status_code in (200, 302)
    sign_in(client, "admin")
    assert client.post(f"/office/staff/{sec.ids['staff_a']}/invitation").status_code == 302
    assert client.get(f"/i/{link}").status_code == 404
    assert client.post("/", data={"staff_number": number, "invitation_code": code}).status_code == 403
    answer = client.post("/api/v1/reservations", json={"slot_id": sec.ids["slots"][3], "staff_number": number,
                                                        "invitation_code": code})
    assert answer.status_code == 403 and answer.get_json()["error"] == "invalid_invitation"


def _bits(token: str) -> int:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    return len(raw) * 8


def test_manage_and_invitation_tokens_are_128_bits_and_reveal_no_id(sec):
    for key, token in sec.manage.items():
        assert _bits(token) >= 128
        assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", token)
        reservation_id, staff_id = sec.ids[f"reservation_{key}"], sec.ids[key]
        # No id in the token, in plain text or at the start of its decoded bytes (the token is an
        # HMAC, not an encoding). A one- or two-digit id, or a one-byte one, turns up in 16 random
        # bytes by chance (about 1 run in 100 failed on that): only longer ones can be checked.
        raw = base64.urlsafe_b64decode(token + "==")
        for value in (reservation_id, staff_id):
            if value >= 100:
                assert str(value) not in token
            if value >= 256:
                assert value.to_bytes(4, "big").lstrip(b"\0") not in raw[:2]
        assert sec.qr[key].rsplit("/", 1)[-1] == token
        assert sec.codes[key] not in sec.qr[key]
    for link, _code, number in sec.invitation.values():
        assert _bits(link) >= 128 and number not in link


def test_tokens_of_two_reservations_share_nothing_guessable(sec):
    a, b = sec.manage["staff_a"], sec.manage["staff_b"]
    assert len(a) == len(b) and sum(x == y for x, y in zip(a, b)) < len(a) // 2


def test_the_api_answer_and_qr_carry_the_token_but_no_internal_id_in_the_url(app, sec):
    answer = app.test_client().get(f"/api/v1/reservations/{sec.manage['staff_a']}").get_json()
    for url in (answer["manage_url"], answer["ics_url"], answer["qr_url"]):
        assert f"/{answer['id']}/" not in url and not url.endswith(f"/{answer['id']}")
