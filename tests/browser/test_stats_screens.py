"""The statistics screens in Chromium: dashboard panel, report, range change, charts and their
accessible labels; screenshots (light and dark theme) go to tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache

from tests.stats_support import FAST_LIMITS

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture
def stats_page(admin_page, sandbox_live, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, **FAST_LIMITS}
    cache.clear()
    yield admin_page
    cache.clear()


def _assert_accessible_chart(page, chart_id: str) -> None:
    svg = page.locator(f'svg[data-chart="{chart_id}"]')
    assert svg.count() == 1
    assert svg.get_attribute("role") == "img"
    label = svg.get_attribute("aria-label")
    assert label and "total" in label
    assert svg.locator("title").count() >= 1
    # The hidden data table follows the chart, for screen readers.
    table = page.locator(f"#{chart_id} table.w-sr-only")
    assert table.count() == 1 and table.locator("tbody tr").count() > 0


def test_dashboard_panel_and_report(stats_page, live_server):
    page = stats_page
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{live_server.url}/admin/")
    panel = page.locator("#kollus-statistics-section")
    panel.wait_for()
    assert "36 hours" in panel.inner_text()
    _assert_accessible_chart(page, "kollus-panel-visitors")
    assert panel.locator("table.kollus-stats-top").count() == 2
    panel.screenshot(path=str(ARTIFACTS / "stats-dashboard-panel.png"))

    page.goto(f"{live_server.url}/admin/kollus/statistics/")
    _assert_accessible_chart(page, "kollus-report-visitors")
    _assert_accessible_chart(page, "kollus-report-transfer")
    assert page.locator("svg[data-chart=kollus-report-visitors] rect").count() == 30

    page.get_by_label("Last 90 days").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**range=90**")
    assert "(90 days, UTC)" in page.locator(".kollus-stats-range__current").inner_text()
    assert page.locator("svg[data-chart=kollus-report-visitors] rect").count() == 90
    assert page.locator("table.listing tbody tr").count() > 0
    page.locator(".kollus-stats-charts").screenshot(path=str(ARTIFACTS / "stats-report-light.png"))

    # A year is drawn as a line (bars would be thinner than a pixel).
    page.get_by_label("Last 365 days").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**range=365**")
    assert page.locator("svg[data-chart=kollus-report-visitors] polyline").count() >= 1

    page.emulate_media(color_scheme="dark")
    page.reload()
    page.locator(".kollus-stats-charts").screenshot(path=str(ARTIFACTS / "stats-report-dark.png"))
    assert page.console_errors == []


def test_custom_range_and_the_video_view(stats_page, live_server):
    page = stats_page
    page.goto(f"{live_server.url}/admin/kollus/statistics/")
    page.get_by_label("Custom range").check()
    page.locator("input[name=start]").fill("2026-01-01")
    page.locator("input[name=end]").fill("2026-01-10")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**range=custom**")
    # Whatever today is, a custom range of ten days draws ten bars or reports missing days.
    bars = page.locator("svg[data-chart=kollus-report-visitors] rect").count()
    assert bars == 10 or page.locator(".kollus-stats-missing").count() == 1

    page.goto(f"{live_server.url}/admin/kollus/statistics/?range=7")
    page.locator("table.listing tbody tr td.title a").first.click()
    page.wait_for_url("**/statistics/video/**")
    _assert_accessible_chart(page, "kollus-video-views")
    page.locator(".kollus-stats").screenshot(path=str(ARTIFACTS / "stats-video.png"))


# Runs in the page before the click: while the next page is on its way Playwright waits for
# the navigation before it reads anything, so the page notes what it shows in sessionStorage
# (kept across the navigation) each time the button changes.
WATCH_THE_BUTTON = """() => {
    const button = document.querySelector('[data-kollus-stats-show]');
    const loading = document.querySelector('[data-kollus-stats-loading]');
    new MutationObserver(() => sessionStorage.setItem('kollus-loading', JSON.stringify({
        label: button.innerText.trim(),
        spinning: button.classList.contains('button-longrunning-active'),
        note: getComputedStyle(loading).display !== 'none',
    }))).observe(button, {attributes: true, childList: true, subtree: true});
}"""


def test_a_slow_period_shows_that_it_is_loading(stats_page, live_server, sandbox_live):
    page = stats_page
    page.goto(f"{live_server.url}/admin/kollus/statistics/?range=7")
    assert not page.locator("[data-kollus-stats-loading]").is_visible()
    sandbox_live.faults.set("kollus.stats_summary_daily", latency=0.5)
    page.evaluate(WATCH_THE_BUTTON)

    page.get_by_label("Last 365 days").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**range=365**")

    # While Kollus took its time: Wagtail's spinner on the button, and a line that says why.
    seen = page.evaluate("JSON.parse(sessionStorage.getItem('kollus-loading'))")
    assert seen == {"label": "Loading…", "spinning": True, "note": True}
    assert not page.locator("[data-kollus-stats-loading]").is_visible()


def test_the_dashboard_panel_is_inset_and_shows_a_placeholder_poster(stats_page, live_server):
    page = stats_page
    page.goto(f"{live_server.url}/admin/")
    panel = page.locator("#kollus-statistics-section")
    panel.wait_for()

    # The totals do not touch the panel's edge; they line up with the tables' cells.
    edge = panel.bounding_box()["x"]
    totals = panel.locator(".kollus-stats-totals").bounding_box()["x"]
    cell = panel.locator("td.title .kollus-stats-video__inner").first.bounding_box()["x"]
    assert totals - edge >= 12
    assert abs(totals - cell) <= 8
    # Videos not in the library (the sandbox's, here) get a video icon, not an empty box.
    placeholder = panel.locator(".kollus-stats-video__poster--none").first
    icon = placeholder.locator("svg").bounding_box()
    assert icon and icon["width"] >= 12
    assert placeholder.get_attribute("title") == "Not in the library"
