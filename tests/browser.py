"""Helpers for browser tests: a live server in a thread and headless Debian Chromium."""

import contextlib
import threading
from pathlib import Path
from urllib.parse import urlparse

from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
# --accept-lang: the browser of a user in China asks for Chinese (Chromium's own default is
# en-US, and pages follow Accept-Language); tests of English pages choose ?lang=en.
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--accept-lang=zh-CN"]


@contextlib.contextmanager
def live_server(app):
    """Serve ``app`` on a free loopback port in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        # Open live event streams end and the events hub's thread stops before the test
        # drops the database that thread follows.
        hub = app.extensions.get("emergency.events", {}).get("hub")
        if hub is not None:
            hub.stop()
        server.shutdown()
        thread.join(5)


# One browser per test process, started on first use and shared by the tests of the main thread
# (launching Playwright and Chromium costs a second or two of CPU a time). Each test gets it
# through ``chromium()`` and every context the test opened is closed when the test is done, so
# no cookie, storage or page outlives its test. A thread (the accessibility sweep runs three)
# gets a browser of its own: Playwright's sync API belongs to the thread that started it.
_SHARED = {}


def _shared_browser():
    """The main thread's browser, launched on first use and closed when the process exits."""
    if "browser" not in _SHARED or not _SHARED["browser"].is_connected():
        import atexit

        from playwright.sync_api import sync_playwright

        if "playwright" not in _SHARED:
            _SHARED["playwright"] = sync_playwright().start()
            atexit.register(_stop_shared)
        _SHARED["browser"] = _SHARED["playwright"].chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    return _SHARED["browser"]


def _stop_shared():
    """Close the shared browser and Playwright (at exit)."""
    browser, playwright = _SHARED.pop("browser", None), _SHARED.pop("playwright", None)
    try:
        if browser is not None:
            browser.close()
    finally:
        if playwright is not None:
            playwright.stop()


class _ReducedMotion:
    """A browser whose new contexts and pages prefer reduced motion unless told otherwise.

    Bootstrap scrolls smoothly when the user has no such preference, and Playwright 1.56
    scrolls an element into view natively when it retries a click: on a loaded machine that
    scroll was still animating when the click landed, so the click missed its button (a form
    never submitted; Playwright issue 42625, fixed after 1.56). Tests that want the motion
    pass ``reduced_motion="no-preference"``."""

    def __init__(self, browser):
        self._browser = browser

    def __getattr__(self, name):
        return getattr(self._browser, name)

    def new_context(self, **options):
        options.setdefault("reduced_motion", "reduce")
        return self._browser.new_context(**options)

    def new_page(self, **options):
        options.setdefault("reduced_motion", "reduce")
        return self._browser.new_page(**options)


@contextlib.contextmanager
def chromium():
    """A headless Chromium browser driven by Playwright (never a downloaded browser)."""
    if threading.current_thread() is not threading.main_thread():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield _ReducedMotion(browser)
            finally:
                browser.close()
        return
    browser = _shared_browser()
    try:
        yield _ReducedMotion(browser)
    finally:
        for context in list(browser.contexts):
            context.close()


class RequestLog:
    """Records every request a page makes, to prove none leaves the machine."""

    def __init__(self, page):
        self.urls = []
        page.on("request", lambda request: self.urls.append(request.url))

    def foreign(self):
        """Requests to any host other than the loopback server."""
        return [u for u in self.urls if urlparse(u).scheme in ("http", "https", "ws", "wss")
                and urlparse(u).hostname not in ("127.0.0.1", "localhost")]


def sign_in(page, base, username, password):
    """Sign in through the login form."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


AXE_SOURCE = Path(__file__).resolve().parent.parent / "node_modules/axe-core/axe.min.js"


def axe_violations(page, impacts=("serious", "critical")):
    """WCAG 2.1 A/AA violations axe-core finds on the page as it is now, of the given
    impacts: a list of (rule id, impact, first offending element's selector, help text).

    axe-core comes from the npm registry (package.json) and is evaluated through the
    DevTools protocol, which the pages' Content-Security-Policy does not govern.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => [v.id, v.impact, "
        "v.nodes.length ? v.nodes[0].target.join(' ') : '', v.help]))")
    return [tuple(v) for v in result if v[1] in impacts]


def horizontal_overflow(page):
    """How many CSS pixels the page is wider than the viewport (0 when nothing overflows)."""
    return page.evaluate("Math.max(0, document.documentElement.scrollWidth - "
                         "document.documentElement.clientWidth)")
