"""live.js in headless Chromium: the navbar indicator goes live and an event committed from
outside the app fires live:<type> and live:any on document; a phone sees no overflow."""

import pytest

from tests.browser import RequestLog, chromium, sign_in


@pytest.mark.browser
@pytest.mark.both_backends
def test_indicator_goes_live_and_events_fire_on_document(live):
    live.user("events-page", "dispatcher")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        log = RequestLog(page)
        sign_in(page, live.base, "events-page", "correct horse battery")
        indicator = page.locator("#live-indicator")
        page.wait_for_selector("#live-indicator[data-state='live']", timeout=10000)
        assert indicator.inner_text() == "实时"
        page.evaluate("""() => {
            window.seen = [];
            document.addEventListener('live:dispatch.updated',
                e => window.seen.push(['typed', e.detail.id, e.detail.status]));
            document.addEventListener('live:any', e => window.seen.push(['any', e.detail.type]));
        }""")
        live.publish("dispatch.updated", 41, status="on_scene")
        page.wait_for_function("() => window.seen.length >= 2", timeout=5000)
        seen = page.evaluate("() => window.seen")
        assert ["typed", 41, "on_scene"] in seen
        assert ["any", "dispatch.updated"] in seen
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        assert log.foreign() == []
        page.close()


@pytest.mark.browser
@pytest.mark.both_backends
def test_a_refused_stream_shows_offline_then_reconnects_without_losing_events(live):
    live.user("events-retry", "planner")
    live.app.config["EVENTS_MAX_STREAMS_PER_WORKER"] = 0  # every stream refused (503)
    try:
        with chromium() as browser:
            page = browser.new_page()
            sign_in(page, live.base, "events-retry", "correct horse battery")
            page.wait_for_selector("#live-indicator[data-state='offline']", timeout=10000)
            assert page.locator("#live-indicator").inner_text() == "离线"
            page.evaluate("""() => {
                window.seen = [];
                document.addEventListener('live:any', e => window.seen.push(e.detail.id));
            }""")
            live.publish("incident.updated", 501)  # while refused: must still arrive
            live.app.config["EVENTS_MAX_STREAMS_PER_WORKER"] = 200
            page.wait_for_selector("#live-indicator[data-state='live']", timeout=15000)
            page.wait_for_function("() => window.seen.includes(501)", timeout=5000)
            page.close()
    finally:
        live.app.config["EVENTS_MAX_STREAMS_PER_WORKER"] = 200


@pytest.mark.browser
def test_the_stream_waits_for_a_slow_request_of_the_page(live):
    """A layer still loading when the page has been quiet for a while keeps the stream closed
    (the CI failure of 4 Dec: a 3-second layer let the stream open first, so the page never
    had no request in flight); the stream opens once that answer has come."""
    live.user("events-slow", "planner")
    with chromium() as browser:
        page = browser.new_page()
        sign_in(page, live.base, "events-slow", "correct horse battery")
        held = []
        page.route("**/held-for-test", lambda route: held.append(route))
        page.add_init_script(
            "document.addEventListener('DOMContentLoaded', () => fetch('/held-for-test'));")
        streams = []
        page.on("request", lambda r: streams.append(r.url) if "/api/v1/events" in r.url
                else None)
        page.goto(live.base + "/", wait_until="load")
        for _ in range(100):  # the router hands the request over while Playwright waits
            if held:
                break
            page.wait_for_timeout(100)
        assert held, "the page's slow request was not made"
        assert page.evaluate("() => EmergencyPages.requestsInFlight()") >= 1
        page.wait_for_timeout(3000)  # twice live.js's quiet time
        assert streams == []
        assert page.locator("#live-indicator").get_attribute("data-state") == "reconnecting"
        held[0].fulfill(status=204)
        page.wait_for_selector("#live-indicator[data-state='live']", timeout=10000)
        assert len(streams) == 1
        page.close()
