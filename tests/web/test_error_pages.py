"""Browsers get HTML error pages in the user's language; API clients keep JSON errors."""

import pytest

HTML = {"Accept": "text/html,application/xhtml+xml"}


def _page(response):
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def test_forbidden_page_is_html_in_chinese(app, actors):
    headers = {**actors.header("grid_staff"), **HTML}
    response = app.test_client().get("/audit", headers=headers)
    assert response.status_code == 403
    html = _page(response)
    assert "您无权查看此页面" in html and 'data-status="403"' in html
    assert "返回首页" in html


def test_missing_page_is_html_and_english_when_chosen(app, actors):
    client = app.test_client()
    headers = {**actors.header("admin"), **HTML}
    response = client.get("/no/such/page?lang=en", headers=headers)
    assert response.status_code == 404
    assert "Page not found" in _page(response)


def test_api_errors_stay_json_even_for_browsers(app, actors):
    response = app.test_client().get("/api/v1/incidents/999999",
                                     headers={**actors.header("admin"), **HTML})
    assert response.status_code == 404 and response.is_json
    assert response.get_json()["error"]["code"] == "not_found"


def test_json_clients_of_pages_keep_json(app, actors):
    response = app.test_client().get(
        "/audit", headers={**actors.header("grid_staff"), "Accept": "application/json"})
    assert response.status_code == 403 and response.is_json


@pytest.fixture
def failing_app(database, db, tmp_path):
    from emergency import create_app
    from tests.conftest import app_config

    app = create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db))
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret /etc/path detail")

    return app


def test_server_error_page_shows_nothing_of_the_insides(failing_app):
    response = failing_app.test_client().get("/boom", headers=HTML)
    assert response.status_code == 500
    html = _page(response)
    assert "服务器出错" in html and "/etc/path" not in html and "RuntimeError" not in html
