"""The staff import's optional municipality_code column (住民登録地コード): five digits get their
check digit, an invalid or unlisted code refuses the file with its line and field, an empty
cell clears it, and a file without the column keeps what staff have."""
from __future__ import annotations

from sqlalchemy import select

from booking.extensions import db
from booking.models import Staff
from booking.services import directory, municipalities
from booking.services.actor import Actor

HEADER = "staff_number,family_name,given_name,family_name_kana,given_name_kana,unit_code"


def towns(app) -> None:
    with app.test_request_context():
        municipalities.save(Actor.system(), code="072010", name="福島市", is_home=True)
        municipalities.save(Actor.system(), code="073016", name="伊達市")
        db.session.commit()


def send(client, headers, text: str):
    return client.post("/api/v1/staff/import", data=text.encode("utf-8"), content_type="text/csv",
                       headers={**headers, "Accept-Language": "en"})


def code_of(app, number: str) -> str | None:
    with app.app_context():
        return directory.staff_by_number(number).municipality_code


def test_the_column_sets_where_staff_are_registered(app, client, world, admin_headers):
    towns(app)
    response = send(client, admin_headers, HEADER + ",municipality_code\n"
                    "5001,鈴木,一郎,スズキ,イチロウ,A,07301\n5002,鈴木,二郎,スズキ,ジロウ,A,\n")
    assert response.status_code == 200, response.get_json()
    assert code_of(app, "5001") == "073016"
    assert code_of(app, "5002") is None


def test_the_japanese_heading_is_read_and_an_empty_cell_clears(app, client, world, admin_headers):
    towns(app)
    header = "職員番号,姓,名,セイ,メイ,所属コード,住民登録地コード\n"
    assert send(client, admin_headers, header + "5001,鈴木,一郎,スズキ,イチロウ,A,072010\n").status_code == 200
    assert code_of(app, "5001") == "072010"
    assert send(client, admin_headers, HEADER + "\n5001,鈴木,一郎,スズキ,イチロウ,A\n").status_code == 200
    assert code_of(app, "5001") == "072010"  # no column: kept
    assert send(client, admin_headers, header + "5001,鈴木,一郎,スズキ,イチロウ,A,\n").status_code == 200
    assert code_of(app, "5001") is None


def test_a_wrong_check_digit_or_an_unlisted_town_refuses_the_file(app, client, world, admin_headers):
    towns(app)
    response = send(client, admin_headers, HEADER + ",municipality_code\n"
                    "5001,鈴木,一郎,スズキ,イチロウ,A,072011\n5002,鈴木,二郎,スズキ,ジロウ,A,013005\n")
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [(2, "municipality_code"), (3, "municipality_code")]
    assert "six-digit" in errors[0]["message"] and "013005" in errors[1]["message"]
    response = send(client, admin_headers, HEADER + ",municipality_code\n5002,鈴木,二郎,スズキ,ジロウ,A,013005\n")
    assert response.status_code == 422
    assert [(e["line"], e["field"]) for e in response.get_json()["errors"]] == [(2, "municipality_code")]
    with app.app_context():
        assert db.session.scalar(select(Staff).where(Staff.staff_number == "5002")) is None
