"""status.csv's columns after API.md's (issue 18): who holds a valid card on the day, and whose card
or certificates expire within N months — at the edges: the expiry day itself, month ends, leap years."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import update

from booking.extensions import db
from booking.models import Dependent, Staff
from booking.services import card_life

API_COLUMNS = ["unit_code", "unit", "staff", "staff_applied", "staff_received", "dependents",
               "dependents_applied", "dependents_received", "application_rate", "acquisition_rate"]
CARD_COLUMNS = ["staff_valid_card", "staff_card_expiring", "staff_certificates_due",
                "dependents_valid_card", "dependents_card_expiring", "dependents_certificates_due"]


def _rows(client, headers, as_of: str, **params) -> dict[str, dict[str, str]]:
    query = "&".join(f"{k}={v}" for k, v in {"as_of": as_of, **params}.items())
    response = client.get(f"/api/v1/reports/status.csv?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    reader = csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
    assert reader.fieldnames == API_COLUMNS + CARD_COLUMNS
    return {row["unit_code"]: row for row in reader}


def _card(client, headers, number: str, **body) -> None:
    answer = client.post(f"/api/v1/staff/{number}/card", json=body, headers=headers)
    assert answer.status_code == 200, answer.get_json()


def _a(client, headers, as_of: str, column: str, **params) -> int:
    return int(_rows(client, headers, as_of, **params)["A"][column])


def joined_long_ago(app) -> None:
    """Counts as of a past day take only the people who belonged then: everyone here joined in 2010."""
    with app.app_context():
        db.session.execute(update(Staff).values(joined_on=date(2010, 4, 1)))
        db.session.execute(update(Dependent).values(joined_on=date(2010, 4, 1)))
        db.session.commit()


@pytest.fixture(autouse=True)
def _members(app, world):
    joined_long_ago(app)


@pytest.fixture
def holder(client, world, admin_headers):
    """Staff 1001 of station A received a card on 2016-01-10 that expires on 29 February 2024."""
    _card(client, admin_headers, "1001", stage="received", on="2016-01-10", card_expires_on="2024-02-29",
          certificates_expire_on="2021-02-28")
    return admin_headers


def test_a_card_is_valid_through_its_expiry_day_and_not_the_day_after(client, holder):
    assert _a(client, holder, "2024-02-29", "staff_valid_card") == 1
    assert _a(client, holder, "2024-02-29", "staff_card_expiring") == 1  # expires on the day itself
    assert _a(client, holder, "2024-03-01", "staff_valid_card") == 0
    assert _a(client, holder, "2024-03-01", "staff_card_expiring") == 0
    # API.md's columns keep their meaning: an expired card still counts as received.
    assert _rows(client, holder, "2024-03-01")["A"]["staff_received"] == "1"


def test_the_window_ends_on_the_same_day_n_months_later(client, holder):
    assert _a(client, holder, "2023-11-29", "staff_card_expiring") == 1   # + 3 months = 2024-02-29
    assert _a(client, holder, "2023-11-28", "staff_card_expiring") == 0   # + 3 months = 2024-02-28
    # No 30 February: the window of 30 November ends on the month's last day, 29 February.
    assert _a(client, holder, "2023-11-30", "staff_card_expiring") == 1
    assert _a(client, holder, "2023-08-31", "staff_card_expiring", expiring_months=6) == 1
    assert _a(client, holder, "2023-08-28", "staff_card_expiring", expiring_months=6) == 0


def test_in_a_common_year_the_window_of_30_november_ends_on_28_february(app, client, world, admin_headers):
    world.add_staff(2, start=5000)
    joined_long_ago(app)
    for number, expires in (("5000", "2023-02-28"), ("5001", "2023-03-01")):
        _card(client, admin_headers, number, stage="received", on="2016-01-10", card_expires_on=expires)
    assert _a(client, admin_headers, "2022-11-30", "staff_card_expiring") == 1
    assert _a(client, admin_headers, "2022-11-30", "staff_valid_card") == 2


def test_someone_who_had_left_by_the_day_holds_no_card_of_the_department(app, client, holder):
    with app.app_context():
        db.session.execute(update(Staff).where(Staff.staff_number == "1001").values(left_on=date(2023, 4, 1)))
        db.session.commit()
    assert _a(client, holder, "2023-03-31", "staff_valid_card") == 1
    assert _a(client, holder, "2023-04-01", "staff_valid_card") == 0
    assert _a(client, holder, "2023-04-01", "staff_card_expiring", expiring_months=12) == 0


def test_a_card_not_yet_received_on_the_day_is_not_held(client, world, admin_headers):
    _card(client, admin_headers, "1001", stage="applied", on="2024-01-05")
    _card(client, admin_headers, "1001", stage="received", on="2024-02-01", card_expires_on="2034-01-31")
    assert _a(client, admin_headers, "2024-01-31", "staff_valid_card") == 0
    assert _a(client, admin_headers, "2024-02-01", "staff_valid_card") == 1


def test_certificates_expired_or_expiring_are_due_while_the_card_is_valid(client, holder):
    assert _a(client, holder, "2020-11-28", "staff_certificates_due") == 1   # 2021-02-28 is within 3 months
    assert _a(client, holder, "2020-11-27", "staff_certificates_due") == 0
    assert _a(client, holder, "2022-06-01", "staff_certificates_due") == 1   # expired, the card still valid


def test_a_card_without_an_expiry_date_counts_as_valid(client, world, admin_headers):
    _card(client, admin_headers, "1001", stage="received", on="2020-04-01")
    assert _a(client, admin_headers, "2024-04-01", "staff_valid_card") == 1
    assert _a(client, admin_headers, "2024-04-01", "staff_card_expiring") == 0


def test_dependents_are_counted_in_their_own_columns(client, world, admin_headers):
    answer = client.post(f"/api/v1/staff/1001/dependents/{world.dependent_id}/card", headers=admin_headers,
                         json={"stage": "received", "on": "2019-05-01", "card_expires_on": "2024-02-29"})
    assert answer.status_code == 200
    row = _rows(client, admin_headers, "2024-01-15")["A"]
    assert (row["dependents_valid_card"], row["dependents_card_expiring"], row["staff_valid_card"]) == ("1", "1", "0")


def test_the_window_is_a_setting_and_a_query_parameter(app, client, holder):
    assert _a(client, holder, "2023-10-01", "staff_card_expiring") == 0
    app.config["CARD_EXPIRY_WINDOW_MONTHS"] = 6
    assert _a(client, holder, "2023-10-01", "staff_card_expiring") == 1
    assert _a(client, holder, "2023-10-01", "staff_card_expiring", expiring_months=4) == 0
    for wrong in ("0", "121", "x", "-1"):
        answer = client.get(f"/api/v1/reports/status.csv?as_of=2023-10-01&expiring_months={wrong}", headers=holder)
        assert answer.status_code == 422 and "expiring_months" in answer.get_json()["fields"], wrong


@pytest.mark.parametrize(("issued", "born", "card", "certificates"), [
    # 29 February + 10 years is a common year: the anniversary falls on 28 February.
    (date(2016, 2, 29), None, date(2026, 2, 28), date(2021, 2, 28)),
    (date(2028, 2, 29), None, date(2038, 2, 28), date(2033, 2, 28)),
    (date(2020, 2, 29), None, date(2030, 2, 28), date(2025, 2, 28)),
    # An adult born on 29 February: the 10th birthday after issue, 28 February in a common year.
    (date(2020, 6, 1), date(2000, 2, 29), date(2030, 2, 28), date(2025, 2, 28)),
    # ...and 29 February when that year is a leap year.
    (date(2022, 6, 1), date(2000, 2, 29), date(2032, 2, 29), date(2027, 2, 28)),
    # Under 18 on the day of issue: 5 years for the card too.
    (date(2020, 3, 1), date(2010, 2, 28), date(2025, 2, 28), date(2025, 2, 28)),
    # Issued on the birthday: that birthday is not one "after" issue.
    (date(2026, 5, 10), date(1990, 5, 10), date(2036, 5, 10), date(2031, 5, 10)),
    (date(2026, 5, 9), date(1990, 5, 10), date(2035, 5, 10), date(2030, 5, 10)),
])
def test_the_expiry_suggested_for_a_card_issued_on_a_day(issued, born, card, certificates):
    """A pure rule (no database): the page suggests it beside the expiry fields."""
    assert card_life.expiry_estimate(issued, born) == (card, certificates)
