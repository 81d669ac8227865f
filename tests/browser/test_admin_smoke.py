"""The browser harness itself: Chromium starts, the admin logs in, and a Kollus-free admin
page renders with no JavaScript errors."""


def test_admin_dashboard_loads_without_js_errors(admin_page, live_server):
    admin_page.goto(f"{live_server.url}/admin/")
    assert admin_page.locator("main").count() == 1
    assert admin_page.console_errors == []
