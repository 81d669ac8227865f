"""Helpers of the tests where a signed-in learner watches: a browser context of their own."""

from __future__ import annotations

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse
from wagtail.models import Page


def signed_in(browser, live_server, user):
    """A new browser (context) with its own session of ``user``: another device."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    context = browser.new_context()
    context.add_cookies(
        [{"name": "sessionid", "value": session.session_key, "url": live_server.url}]
    )
    return context


def lesson_page(sandbox_live, live_server, settings, title: str, slug: str):
    """A lesson page under the home page with one of the sandbox's videos, and this site's
    play callback set in the sandbox's "console" (so its player asks it, as Kollus would)."""
    from tests.testapp.models import VideoPage
    from wagtail_kollus.models import KollusVideo

    token = settings.WAGTAIL_KOLLUS["CALLBACK_TOKEN"]
    sandbox_live.set_callback_url(
        "play", live_server.url + reverse("wagtail_kollus:callback-play", kwargs={"token": token})
    )
    with sandbox_live.state.lock:
        media = next(m for m in sandbox_live.state.media.values() if m["channels"])
    video = KollusVideo.objects.create(
        title=media["title"], media_content_key=media["channels"][0]["media_content_key"]
    )
    home = Page.objects.get(depth=2)
    return home.add_child(
        instance=VideoPage(title=title, slug=slug, body=[("video", {"video": video})])
    )
