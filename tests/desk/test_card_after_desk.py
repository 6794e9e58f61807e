"""The card's life starts from the desk's record: the delivery decided when the application was
handed in (mail or counter) is what the office and the API see next to the applied card (issue 18)."""
from __future__ import annotations

from tests.desk.test_desk_applications import desk_api, everything_for_mail  # noqa: F401  (the fixture)


def test_the_desks_delivery_is_shown_beside_the_applied_card(app, client, world, desk_api, make_token):  # noqa: F811
    admin = {"Authorization": f"Bearer {make_token('admin', username='section')}"}
    desk_api.photo(desk_api.staff_check_in)
    assert desk_api.record(desk_api.staff_check_in, **everything_for_mail(), submitted=True).status_code == 200
    desk_api.photo(desk_api.spouse_check_in)
    handed_in = desk_api.record(desk_api.spouse_check_in, application_id="12345678901234567890124",
                                identity_documents=["health_insurance"], submitted=True)
    assert handed_in.get_json()["delivery"] == "counter"
    staff = client.get("/api/v1/staff/1001/card", headers=admin).get_json()
    assert (staff["card_status"], staff["card_stage"], staff["delivery"]) == ("applied", "applied", "mail")
    spouse = client.get(f"/api/v1/staff/1001/dependents/{world.dependent_id}/card", headers=admin).get_json()
    assert (spouse["card_stage"], spouse["delivery"]) == ("applied", "counter")
    # The section then records that the card was posted.
    mailed = client.post("/api/v1/staff/1001/card", json={"stage": "mailed"}, headers=admin).get_json()
    assert (mailed["card_status"], mailed["card_stage"]) == ("applied", "mailed")
