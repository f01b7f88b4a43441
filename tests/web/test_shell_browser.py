"""Browser smoke test: sign in, open the districts map, see Chongqing's 38 districts drawn,
and no request leaves the machine."""

from pathlib import Path

import pytest

from tests.browser import RequestLog, chromium, live_server, sign_in
from tests.conftest import DEMO_SHELL, committed_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def demo_app(backend, tmp_path):
    """An app on a fresh database of the backend with the demo areas and users."""
    with committed_app(backend, tmp_path, "browser", DEMO_SHELL) as app:
        yield app


@pytest.mark.browser
def test_sign_in_and_see_the_districts(demo_app, backend):
    ARTIFACTS.mkdir(exist_ok=True)
    with live_server(demo_app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        log = RequestLog(page)
        sign_in(page, base, "admin", "demo-admin-2026")
        assert page.url.rstrip("/") == base
        assert "应急管理" in page.title() or "应急管理" in page.content()
        page.goto(f"{base}/maps/districts")
        page.wait_for_selector("path.leaflet-interactive")
        drawn = page.locator(".leaflet-overlay-pane path.leaflet-interactive").count()
        page.screenshot(path=str(ARTIFACTS / f"districts-{backend}.png"))
        assert drawn == 38
        assert log.foreign() == []
        failed = [u for u in log.urls if "/static/" in u]
        assert failed, "the page loaded its scripts from the app"


@pytest.mark.browser
def test_api_docs_page_works_offline(demo_app):
    with live_server(demo_app) as base, chromium() as browser:
        page = browser.new_page()
        log = RequestLog(page)
        page.goto(f"{base}/api/v1/docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=20000)
        assert page.locator(".opblock-summary-path").count() >= 6
        assert log.foreign() == []
