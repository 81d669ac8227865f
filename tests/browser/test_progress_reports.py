"""The learner progress report of a page and the page editor's panel, in Chromium: figures,
the daily charts and their accessible labels, the per-video table, the completion filter, the
link to a learner, and the panel's figures and link. Screenshots go to tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model

from tests.factories import make_page, make_progress, make_video

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def _lesson():
    make_video(1, title="Intro video")
    make_video(2, title="Second video")
    page = make_page([], title="Lesson one")
    User = get_user_model()
    ann = User.objects.create_user("ann", "ann@example.com", "pw", first_name="Ann")
    bob = User.objects.create_user("bob", "bob@example.com", "pw")
    make_progress(ann, page, "mckey0001", percent=100, completed=True)
    make_progress(ann, page, "mckey0002", percent=92, completed=True)
    make_progress(bob, page, "mckey0001", percent=40, days_ago=3)
    return page


def test_the_page_report_and_the_editor_panel(admin_page, live_server):
    page = admin_page
    lesson = _lesson()
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{live_server.url}/admin/pages/{lesson.pk}/edit/")
    panel = page.locator("[data-kollus-progress-panel]")
    panel.wait_for()
    assert panel.locator('[data-figure="learners"]').inner_text() == "2"
    assert panel.locator('[data-figure="completed"]').inner_text() == "1"
    panel.screenshot(path=str(ARTIFACTS / "progress-editor-panel.png"))
    panel.get_by_role("link", name="Learner progress report").click()
    page.wait_for_url(f"**/admin/kollus/progress/page/{lesson.pk}/")

    figures = page.locator("[data-kollus-progress-figures]")
    assert figures.locator('[data-figure="started"]').inner_text() == "2"
    assert figures.locator('[data-figure="average"]').inner_text() == f"{(96 + 20) / 2} %"
    # Three videos started (two by Ann, one by Bob), two completed (Ann's).
    for chart_id, total in (("kollus-progress-started", 3), ("kollus-progress-completed", 2)):
        svg = page.locator(f'svg[data-chart="{chart_id}"]')
        assert svg.get_attribute("role") == "img"
        assert f"total {total}" in svg.get_attribute("aria-label")
        assert svg.locator("rect").count() == 30  # one bar per day of the last 30
        assert page.locator(f"#{chart_id} table.w-sr-only tbody tr").count() == 30
    videos = page.locator("[data-kollus-progress-videos] tbody tr")
    assert videos.count() == 2 and "Intro video" in videos.first.inner_text()
    learners = page.locator("table.listing:not([data-kollus-progress-videos]) tbody tr")
    assert learners.count() == 2
    page.locator(".kollus-stats").first.screenshot(path=str(ARTIFACTS / "progress-page-report.png"))

    page.get_by_label("Completion").select_option("completed")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**state=completed**")
    assert learners.count() == 1 and "Ann" in learners.first.inner_text()

    learners.first.get_by_role("link", name="Ann").click()
    page.wait_for_url("**/admin/kollus/progress/learner/**")
    assert page.locator("table.listing tbody tr").count() == 2
    assert page.console_errors == []
