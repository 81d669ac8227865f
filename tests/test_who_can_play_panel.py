"""The page editor's "Who can play" panel: what it says for each privacy and policy, where it
is placed, how it is turned off, and that hostile titles and group names stay text."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from wagtail.models import Page, PageViewRestriction

from tests.testapp.models import CoursePage, VideoPage
from wagtail_kollus.playback.panels import PlaybackAccessPanel, add_access_panel
from wagtail_kollus.playback.policy import Decision, PagePrivacyPolicy, PlaybackPolicy

from .security_support import hostile_title, html_of, unsafe_markup

pytestmark = pytest.mark.django_db


class CoursePolicy(PlaybackPolicy):
    verbose_name = "Course purchases"
    description = "learners who bought the course play; others watch a preview."

    def decide(self, viewer, page, media_content_key):
        return Decision.allow()


class SilentPolicy(PagePrivacyPolicy):
    def decide(self, viewer, page, media_content_key):
        return super().decide(viewer, page, media_content_key)


@pytest.fixture
def lesson():
    home = Page.objects.get(depth=2)
    return home.add_child(instance=VideoPage(title="Lesson 1", slug="lesson-1"))


@pytest.fixture
def editor(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    return client


def panel_of(client, page) -> str:
    response = client.get(reverse("wagtailadmin_pages:edit", args=(page.pk,)))
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r"<div class=\"w-kollus-who-can-play\".*?</div>\s*<script>", html, re.S)
    assert match, "no Who can play panel in the editor"
    return match.group(0)


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_a_public_page_says_everyone(editor, lesson):
    panel = panel_of(editor, lesson)
    assert 'data-decided-by="privacy"' in panel and 'data-restrictions=""' in panel
    assert "Everyone can play the videos on this page: it is public." in text_of(panel)


def test_a_login_restricted_page_says_logged_in_users(editor, lesson):
    PageViewRestriction.objects.create(page=lesson, restriction_type=PageViewRestriction.LOGIN)
    text = text_of(panel_of(editor, lesson))
    assert "The videos on this page play only for: logged-in users" in text
    assert "Other viewers see a message instead of the video." in text


def test_a_group_restriction_names_the_groups_and_the_preview(editor, lesson, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_PREVIEW_SECONDS": 30}
    restriction = PageViewRestriction.objects.create(
        page=lesson, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.set([Group.objects.create(name="Students"), Group.objects.create(name="Staff")])
    text = text_of(panel_of(editor, lesson))
    assert "members of these groups: Staff, Students" in text
    assert "Other viewers watch the first 30 seconds only." in text


def test_an_ancestors_password_counts_and_says_where_it_is_set(editor, lesson):
    PageViewRestriction.objects.create(
        page=lesson, restriction_type=PageViewRestriction.PASSWORD, password="sesame"
    )
    child = lesson.add_child(instance=VideoPage(title="Part 2", slug="part-2"))
    text = text_of(panel_of(editor, child))
    assert "visitors who enter the page's password (set on “Lesson 1”)" in text
    # A new page under it: the same, before it is ever saved.
    create = reverse("wagtailadmin_pages:add", args=("testapp", "videopage", lesson.pk))
    html = editor.get(create).content.decode()
    assert "visitors who enter the page" in text_of(html) and "(set on “Lesson 1”)" in html


def test_the_panel_follows_a_privacy_change_on_reload(editor, lesson):
    assert 'data-restrictions=""' in panel_of(editor, lesson)
    PageViewRestriction.objects.create(page=lesson, restriction_type=PageViewRestriction.LOGIN)
    assert 'data-restrictions="login"' in panel_of(editor, lesson)


def test_a_site_policy_is_named_with_its_description(editor, lesson, settings):
    PageViewRestriction.objects.create(page=lesson, restriction_type=PageViewRestriction.LOGIN)
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "PLAYBACK_POLICY": f"{__name__}.CoursePolicy",
    }
    text = text_of(panel_of(editor, lesson))
    assert (
        "Decided by the site's policy “Course purchases”: learners who bought the course play; "
        "others watch a preview." in text
    )
    assert "logged-in users" not in text  # this policy does not read the page's privacy
    # A policy built on the page's privacy, without a description: its class, and the privacy.
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "PLAYBACK_POLICY": f"{__name__}.SilentPolicy",
    }
    text = text_of(panel_of(editor, lesson))
    assert "Decided by the site's policy “SilentPolicy”." in text
    assert "This page's privacy: logged-in users" in text


def test_allow_everyone_says_everyone(editor, lesson, settings):
    PageViewRestriction.objects.create(page=lesson, restriction_type=PageViewRestriction.LOGIN)
    settings.WAGTAIL_KOLLUS = {
        **settings.WAGTAIL_KOLLUS,
        "PLAYBACK_POLICY": "wagtail_kollus.playback.policy.AllowEveryone",
    }
    panel = panel_of(editor, lesson)
    assert 'data-decided-by="everyone"' in panel and "Everyone can play" in panel


def test_a_setting_turns_it_off(editor, lesson, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_ACCESS_PANEL": False}
    html = editor.get(reverse("wagtailadmin_pages:edit", args=(lesson.pk,))).content.decode()
    assert "data-kollus-who-can-play" not in html and "Who can play" not in html


def test_it_is_placed_before_the_video_stream_field_only_on_types_with_videos():
    for model in (VideoPage, CoursePage):
        panels = model.content_panels
        (index,) = [i for i, p in enumerate(panels) if isinstance(p, PlaybackAccessPanel)]
        assert panels[index + 1] == "body", model
    assert not any(isinstance(p, PlaybackAccessPanel) for p in Page.content_panels)
    # Not twice.
    assert add_access_panel(VideoPage) is False


def test_hostile_titles_and_group_names_are_escaped(editor, lesson):
    lesson.title = lesson.draft_title = hostile_title("parent")
    lesson.save()
    restriction = PageViewRestriction.objects.create(
        page=lesson, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.set([Group.objects.create(name=hostile_title("group")[:150])])
    child = lesson.add_child(instance=VideoPage(title="Part 2", slug="part-2"))
    response = editor.get(reverse("wagtailadmin_pages:edit", args=(child.pk,)))
    html = html_of(response)
    assert not unsafe_markup(html), unsafe_markup(html)[:3]
    panel = panel_of(editor, child)
    assert panel.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2  # the group and the title


def test_a_broken_policy_setting_is_a_message_not_a_500(editor, lesson, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "PLAYBACK_POLICY": "myshop.nowhere.Policy"}
    panel = panel_of(editor, lesson)
    assert "data-kollus-audience-error" in panel
    assert "the site's playback policy setting is wrong" in text_of(panel)
    assert "myshop.nowhere.Policy" in panel
