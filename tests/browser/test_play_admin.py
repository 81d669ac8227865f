"""Paid lessons in the admin, in headless Chromium: the refused plays report shows a refusal
the sandbox's player met on a real play callback, and the page editor's "Who can play" panel
says who can play a lesson's videos, following the privacy the editor sets."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import expect
from wagtail.models import PageViewRestriction

from tests.learner_support import lesson_page

pytestmark = pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")

FRAME = "iframe.kollus-player__frame"


@pytest.fixture
def public_lesson(sandbox_live, live_server, transactional_db, settings):
    """A public lesson page with one video; the play callback set in 'the console'."""
    return lesson_page(sandbox_live, live_server, settings, "Lesson 4", "lesson-4")


@pytest.mark.browser
def test_an_anonymous_refusal_in_the_player_is_listed_in_the_refused_plays_report(
    browser, admin_page, live_server, public_lesson
):
    # An anonymous visitor opens the lesson while it is public: the player plays.
    anonymous = browser.new_context()
    try:
        visitor = anonymous.new_page()
        visitor.goto(live_server.url + public_lesson.url)
        player = visitor.frame_locator(FRAME).locator("[data-sandbox-player]")
        expect(player).to_have_attribute("data-play", "full")
        player_url = visitor.locator(FRAME).get_attribute("src")

        # The lesson becomes members-only; the visitor's player, opened again, asks Kollus,
        # which asks this site's play callback: refused.
        PageViewRestriction.objects.create(
            page=public_lesson, restriction_type=PageViewRestriction.LOGIN
        )
        visitor.goto(player_url)
        refusal = visitor.locator("[data-sandbox-player]")
        expect(refusal).to_have_attribute("data-sandbox-player", "refused")
        expect(refusal.locator(".message")).to_contain_text("Log in to watch this video.")
    finally:
        anonymous.close()

    # The admin finds it under Reports.
    admin_page.goto(live_server.url + reverse("wagtailadmin_home"))
    admin_page.get_by_role("button", name="Reports").click()
    admin_page.get_by_role("link", name="Kollus refused plays").click()
    rows = admin_page.locator("[data-kollus-refused-play]")
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_have_attribute("data-reason", "login_required")
    expect(row.locator("[data-viewer]")).to_contain_text("anonymous")
    expect(row.locator("[data-page]")).to_have_text("Lesson 4")
    expect(row.locator("[data-reason-label]")).to_contain_text("Login required")
    expect(row.locator("[data-reason-label]")).to_contain_text("Log in to watch this video.")
    # Filtering by another reason leaves nothing; by this one, the row.
    admin_page.goto(
        live_server.url
        + reverse("wagtail_kollus_refused_plays:index")
        + "?reason=stream_limit"
    )
    expect(admin_page.locator("[data-kollus-refused-play]")).to_have_count(0)
    admin_page.goto(
        live_server.url + reverse("wagtail_kollus_refused_plays:index") + "?viewer=anonymous"
    )
    expect(admin_page.locator("[data-kollus-refused-play]")).to_have_count(1)


@pytest.mark.browser
def test_the_editor_panel_says_logged_in_users_then_the_groups_the_editor_sets(
    admin_page, live_server, public_lesson
):
    PageViewRestriction.objects.create(
        page=public_lesson, restriction_type=PageViewRestriction.LOGIN
    )
    Group.objects.create(name="Course 101 students")
    edit_url = live_server.url + reverse("wagtailadmin_pages:edit", args=(public_lesson.pk,))
    admin_page.goto(edit_url)
    panel = admin_page.locator("[data-kollus-who-can-play]")
    expect(panel).to_have_attribute("data-restrictions", "login")
    expect(panel).to_contain_text("The videos on this page play only for: logged-in users")

    # The editor restricts the page to a group in Wagtail's privacy dialog: the panel follows
    # without a reload.
    admin_page.locator('[data-side-panel-toggle="status"]').click()
    admin_page.locator('[data-a11y-dialog-show="set-privacy"]:visible').click()
    dialog = admin_page.locator("#set-privacy")
    dialog.get_by_label("Private, accessible to users in specific groups").check()
    dialog.get_by_label("Course 101 students").check()
    dialog.get_by_role("button", name="Save").click()
    expect(panel).to_have_attribute("data-restrictions", "groups")
    expect(panel.locator("[data-kollus-groups]")).to_have_text("Course 101 students")
    # And after a reload.
    admin_page.reload()
    expect(panel.locator("[data-kollus-groups]")).to_have_text("Course 101 students")
    assert "logged-in users" not in panel.inner_text()
