"""The sync report looks and filters like Wagtail's own reports."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from wagtail_kollus.models import PageContentLink

pytestmark = pytest.mark.django_db

REPORT = "wagtail_kollus_sync:report"


@pytest.fixture
def links():
    from wagtail.models import Page

    home = Page.objects.get(depth=2)
    rows = [
        ("testapp.coursepage", "failed", "Failing course"),
        ("testapp.videopage", "pending", "Waiting video page"),
        ("testapp.coursepage", "synced", "Synced course"),
        ("gone.oldpage", "failed", "Page of a removed type"),
    ]
    return [
        PageContentLink.objects.create(
            page=home if index == 0 else None,
            page_key=1000 + index,
            page_type=page_type,
            page_title=title,
            state=state,
        )
        for index, (page_type, state, title) in enumerate(rows)
    ]


def test_the_report_has_wagtails_header_and_filters(admin_client, links):
    html = admin_client.get(reverse(REPORT)).content.decode()

    # Wagtail's slim header with its title and the filter drawer's toggle (not an inline form).
    assert 'class="w-slim-header' in html or "w-header" in html
    assert "<h1" in html and "Contents sync" in html
    assert 'data-w-dropdown-target="toggle"' in html
    assert "data-kollus-sync-filters" not in html
    # Page types by their verbose names; the raw label only for a type that no longer exists.
    assert "Course page" in html and "Video page" in html
    assert "testapp.coursepage" not in html.replace('value="testapp.coursepage"', "")
    assert "gone.oldpage" in html
    # Pending and failed only.
    assert "Failing course" in html and "Waiting video page" in html
    assert "Synced course" not in html


def test_filters_narrow_the_results_in_place(admin_client, links):
    results = reverse("wagtail_kollus_sync:report_results")

    failed = admin_client.get(results, {"state": "failed"}).content.decode()
    courses = admin_client.get(results, {"page_type": "testapp.coursepage"}).content.decode()

    assert "<html" not in failed
    assert "Failing course" in failed and "Waiting video page" not in failed
    assert "Failing course" in courses and "Page of a removed type" not in courses
    # The bulk retry form posts to the report itself.
    assert "data-kollus-sync-bulk-retry" in failed


def test_nothing_waiting_says_so(admin_client):
    html = admin_client.get(reverse(REPORT)).content.decode()
    assert "Nothing is waiting" in html


def test_errors_read_as_the_panel_tells_them(admin_client, links):
    # The report used to print the API's raw keys ("__all__:", "featured_image:") and say the
    # summary twice; it now reads like the page editor's sync panel (sync/problems.py).
    PageContentLink.objects.filter(page_title="Failing course").update(
        last_error="Contents API: The given data was invalid.",
        field_errors={
            "__all__": ["The given data was invalid."],
            "featured_image": ["The featured image field is required."],
        },
    )
    html = admin_client.get(reverse(REPORT)).content.decode()
    assert "__all__" not in html
    assert "featured_image:" not in html and "<strong>featured_image</strong>" not in html
    # Told with the page field's label, as the panel does ("The “Image” field is required.").
    assert re.search(r"The “[^”]+” field is required\.", html)
    assert html.count("The given data was invalid.") == 1
