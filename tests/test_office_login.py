def test_admin_signs_in_and_sees_the_campaign_overview(app, client, world):
    from booking.extensions import db
    from booking.services import accounts

    with app.app_context():
        accounts.ensure_user("admin", "admin", password="correct horse")
        db.session.commit()
    response = client.post("/office/login", data={"username": "admin", "password": "correct horse"})
    assert response.status_code == 302
    page = client.get("/office/").get_data(as_text=True)
    assert "中央消防署 会議室" in page


def test_wrong_password_is_refused(app, client):
    response = client.post("/office/login", data={"username": "nobody", "password": "x"})
    assert response.status_code == 401
