"""The price anomaly journey in headless Chromium on a phone (390x844, Chinese): import a
sheet of prices whose last day trips an alert, see the alert, acknowledge it in the dialog,
open its trend chart (uPlot, served by the app), record a complaint on the map; every page
axe-clean, no horizontal overflow, nothing loaded from elsewhere."""

import pytest

from emergency.db import new_session
from tests.browser import (
    RequestLog,
    axe_violations,
    chromium,
    horizontal_overflow,
    live_server,
    sign_in,
)
from tests.conftest import committed_app
from tests.prices.conftest import day

PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def served(backend, tmp_path):
    """The app on a committed database with a district and an administrator."""
    with committed_app(backend, tmp_path, "pricebrowser") as app:
        with app.app_context():
            from shapely.geometry import shape

            from emergency.auth import service as auth
            from emergency.geo import service as geo
            from tests.conftest import square

            session = new_session()
            geo.create_area(session, "990000", "测试市", "city", shape(square(106, 29, 1)))
            geo.create_area(session, "990101", "测试区", "district",
                            shape(square(106.4, 29.4, 0.4)), "990000")
            auth.create_user(session, "price-admin", "admin", PASSWORD)
            session.commit()
            session.close()
        with live_server(app) as base:
            yield app, base


def _wait(page, condition, timeout_s=30):
    """Poll a JS condition (the page's CSP forbids the eval behind wait_for_function)."""
    for _ in range(int(timeout_s * 10)):
        if page.evaluate(f"() => Boolean({condition})"):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {condition}")


def _clean(page, what):
    assert axe_violations(page) == [], what
    assert not horizontal_overflow(page), what


def _sheet():
    """A CSV of seven days of rice prices at one market, the last 60 % up."""
    prices = ["5.00", "5.10", "4.90", "5.00", "5.20", "5.00", "8.00"]
    lines = ["商品,单位,市场,区县代码,日期,价格"]
    for i, price in enumerate(prices):
        lines.append(f"大米,kg,解放碑菜市场,990101,{day(len(prices) - 1 - i)},{price}")
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.mark.browser
def test_prices_that_trip_an_alert_are_seen_acknowledged_and_charted(served):
    _app, base = served
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE, locale="zh-CN")
        page = context.new_page()
        log = RequestLog(page)
        sign_in(page, base, "price-admin", PASSWORD)
        page.goto(f"{base}/prices/observations/new")
        assert page.locator("h1").inner_text() == "录入价格"
        _clean(page, "entry page")
        page.set_input_files("#i-file", files=[{"name": "价格.csv", "mimeType": "text/csv",
                                                "buffer": _sheet()}])
        page.click("#import-submit")
        page.wait_for_url(f"{base}/prices")
        assert "已导入 7 行" in page.inner_text("body")
        assert "新发出 1 条价格异常预警" in page.inner_text("body")
        item = page.locator("#alert-list li").first
        assert "大米 · 测试区" in item.inner_text()
        assert "+60.0%" in item.inner_text()
        assert item.locator(".alert-status").inner_text() == "待处置"
        _clean(page, "alerts page")

        item.locator("button[data-step=acknowledged]").click()
        _wait(page, "document.getElementById('step-dialog').open")
        assert page.locator("#step-dialog-title").inner_text() == "确认这条价格预警？"
        page.click("#step-confirm")
        page.wait_for_load_state("networkidle")
        item = page.locator("#alert-list li").first
        assert item.locator(".alert-status").inner_text() == "已确认"
        assert item.locator("button[data-step=referred]").count() == 1

        item.locator("a.series-link").click()
        page.wait_for_url(lambda u: "/prices/series?" in u)
        _wait(page, "document.getElementById('price-chart').dataset.ready === '1' && "
                    "document.querySelector('#price-chart canvas') !== null")
        box = page.locator("#price-chart canvas").first.bounding_box()
        assert box["width"] > 200 and box["height"] > 100
        assert page.locator("#series-alert").count() == 1
        _clean(page, "series page")

        # The complaint map: a point placed by tapping the map, recorded, listed.
        page.goto(f"{base}/prices/complaints")
        _wait(page, "document.querySelector('#complaint-map .leaflet-pane') !== null")
        box = page.locator("#complaint-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        _wait(page, "document.getElementById('c-lon').value !== ''")
        page.select_option("#c-form-kind", "hoarding")
        page.fill("#c-description", "瓶装水囤积不上架")
        _clean(page, "complaints page")
        page.click("#complaint-submit")
        page.wait_for_url(f"{base}/prices/complaints")
        assert "瓶装水囤积不上架" in page.inner_text("#complaint-list")
        page.goto(f"{base}/prices/commodities")
        _clean(page, "commodities page")
        assert log.foreign() == []
        context.close()
