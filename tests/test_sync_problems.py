"""A failed push as the editor reads it: sentences with the page's field labels, said once, and
markup that Wagtail does not count as a validation error of the form."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import make_course
from tests.sync_support import SYNC_TEST_SETTINGS, configure, push_now
from wagtail_kollus.sync.problems import explain_failure

COURSE = "testapp.coursepage"


def test_a_field_error_names_the_page_field_the_record_field_comes_from():
    summary, problems = explain_failure(
        "Contents API: The featured_image field is required.",
        {"featured_image": ["The featured_image field is required."]},
        COURSE,
    )
    assert summary == "The contents API refused this page's record:"
    assert problems == ["The “Image” field is required."]  # CourseMapping.image_field


def test_laravel_spelling_and_messages_that_do_not_name_the_field():
    _summary, problems = explain_failure(
        "Contents API: The given data was invalid.",
        {
            "description_html": ["The description html field is required."],
            "base_price": ["Must be at least 100."],
            "status": ["Unknown status."],
        },
        COURSE,
    )
    assert problems == [
        "The “Intro” field is required.",  # CourseMapping.description_field
        "Base price: Must be at least 100.",  # an extra field read from the page field
        "Status: Unknown status.",
    ]


def test_nested_errors_say_which_chapter_and_video():
    _summary, problems = explain_failure(
        "Contents API: The given data was invalid.",
        {"chapters.0.items.1.media_url": ["The chapters.0.items.1.media_url field is required."]},
        COURSE,
    )
    assert problems == ["The “Videos (chapter 1, video 2, media url)” field is required."]


def test_a_message_is_never_shown_twice_and_no_raw_key_appears():
    message = "Contents API: Sandbox fault: HTTP 422."
    summary, problems = explain_failure(message, {"__all__": ["Sandbox fault: HTTP 422."]}, COURSE)
    assert (summary, problems) == (message, [])
    summary, problems = explain_failure(message, {"__all__": ["Something else."]}, "gone.model")
    assert problems == ["Something else."]


@pytest.mark.django_db
def test_the_panel_explains_a_refused_record_without_wagtails_error_markup(
    admin_client, sandbox, settings, django_capture_on_commit_callbacks
):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, **SYNC_TEST_SETTINGS}
    configure(settings, SYNC_DEFAULT_FEATURED_IMAGE="")  # the course has no image either
    page = make_course()
    assert push_now(page, django_capture_on_commit_callbacks).state == "failed"
    html = admin_client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    panel = re.search(r"<div data-kollus-sync-body>.*?data-kollus-sync-retry", html, re.S).group(0)
    assert "The “Image” field is required." in panel
    assert "featured_image" not in panel and "__all__" not in panel
    # Wagtail counts these into the tab's and minimap's error badges (CountController,
    # Minimap): the form itself is valid, so none may appear.
    assert "error-message" not in panel and "help-critical" not in panel
    assert "aria-invalid" not in panel
