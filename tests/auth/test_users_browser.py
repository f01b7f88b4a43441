"""Browser test: an admin creates a user on /users (phone width), deactivates them after the
confirmation, and the user's open session in another browser context is signed out."""

import pytest
from playwright.sync_api import expect

from tests.browser import RequestLog, axe_violations, chromium, live_server, sign_in
from tests.conftest import DEMO_SHELL, committed_app

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def users_app(backend, tmp_path):
    """An app on a fresh database with the demo areas and users."""
    with committed_app(backend, tmp_path, "usersbrowser", DEMO_SHELL) as app:
        yield app


@pytest.mark.browser
def test_admin_creates_and_deactivates_a_user_whose_session_ends(users_app):
    with live_server(users_app) as base, chromium() as browser:
        admin = browser.new_context(viewport=PHONE).new_page()
        log = RequestLog(admin)
        patches = []
        admin.on("request", lambda r: r.method == "PATCH" and patches.append(r.url))
        sign_in(admin, base, "admin", "demo-admin-2026")
        admin.goto(f"{base}/users")
        assert admin.inner_text("h1") == "用户管理"
        admin.click("#show-create")
        admin.fill("#new-username", "admin")  # taken: the server's answer names the field
        admin.fill("#new-display-name", "李四")
        admin.fill("#new-password", "li-si password 2026")
        admin.select_option("#new-role", "planner")
        # The district is picked by name (pinyin initials), not typed as a code.
        admin.fill("#new-area", "yzq")
        admin.locator("#create-form [role=option]", has_text="渝中区").first.click()
        assert admin.input_value("#create-form input[name=area_code]") == "500103"
        admin.click("#create-form button[type=submit]")
        admin.wait_for_selector("#create-error:not(:empty)")
        assert "用户名" in admin.inner_text("#create-error")  # the field by its label
        admin.fill("#new-username", "li.si")
        admin.click("#create-form button[type=submit]")
        row = admin.locator('[data-user="li.si"]')
        row.wait_for()
        assert "李四" in row.inner_text() and "启用" in row.inner_text()
        # The scope line names the district (looked up by its code), not the code.
        row.locator(".user-scope span[data-code='500103']", has_text="渝中区").wait_for()
        assert "500103" not in row.locator(".user-scope").inner_text()
        # Editing offers the same name pickers, each with its label.
        row.locator("[data-edit]").click()
        expect(row.locator("form.user-edit [data-picker] label")).to_have_count(3)
        # ... filled with the names the user knows, the codes only in the hidden fields.
        area = row.locator("form.user-edit [data-picker]").nth(2)
        expect(area.locator("input[role=combobox]")).to_have_value("渝中区")
        assert area.locator("input[type=hidden]").input_value() == "500103"
        row.locator("form.user-edit [data-cancel]").click()
        # Nothing overflows the phone's width.
        assert admin.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        # Search narrows the list.
        admin.fill("#user-search", "李四")
        expect(admin.locator("#user-list [data-user]")).to_have_count(1)

        # The new user signs in in a browser of their own.
        user = browser.new_context().new_page()
        sign_in(user, base, "li.si", "li-si password 2026")
        assert user.goto(f"{base}/").url == f"{base}/"

        # Declining the confirmation changes nothing; accepting it deactivates.
        admin.once("dialog", lambda dialog: dialog.dismiss())
        row.locator("[data-toggle-active]").click()
        assert patches == [] and row.locator(".user-state").inner_text() == "启用"
        admin.once("dialog", lambda dialog: dialog.accept())
        row.locator("[data-toggle-active]").click()
        admin.wait_for_selector('[data-user="li.si"] .user-state.text-bg-dark')
        assert admin.locator('[data-user="li.si"] .user-state').inner_text() == "已停用"

        # Their open session is over: the next page goes to the sign-in form.
        user.goto(f"{base}/")
        assert "/login" in user.url
        sign_in(user, base, "li.si", "li-si password 2026")
        assert "/login" in user.url

        # Reactivated, they can sign in again.
        admin.once("dialog", lambda dialog: dialog.accept())
        admin.locator('[data-user="li.si"] [data-toggle-active]').click()
        admin.wait_for_selector('[data-user="li.si"] .user-state.text-bg-success')
        sign_in(user, base, "li.si", "li-si password 2026")
        assert user.goto(f"{base}/").url == f"{base}/"

        # Once in English: the page, and a refusal naming the field by its English label.
        admin.goto(f"{base}/users?lang=en")
        assert admin.inner_text("h1") == "Users"
        admin.click("#show-create")
        admin.fill("#new-username", "admin")
        admin.fill("#new-password", "another password 2026")
        admin.click("#create-form button[type=submit]")
        admin.wait_for_selector("#create-error:not(:empty)")
        assert "User name: taken" in admin.inner_text("#create-error")
        assert "用户名" not in admin.inner_text("#create-error")
        assert axe_violations(admin) == []
        assert log.foreign() == []
