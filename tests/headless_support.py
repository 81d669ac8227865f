"""Helpers of the headless tests (API v2, GraphQL, JSON-LD): a course seller's playback policy,
and reading a minted player URL's claims."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jwt

from wagtail_kollus.playback.policy import Decision, PlaybackPolicy

SECURITY_KEY = "sandbox-security-key"  # tests/settings.py
PREVIEW_SECONDS = 30
BUYERS_ONLY = "tests.headless_support.BuyersOnly"


class BuyersOnly(PlaybackPolicy):
    """A course seller's policy: buyers watch, signed-in others are refused, anonymous
    viewers get a preview; a page whose slug starts with "free-" plays for everyone. A player
    asked for without its page is refused, so these tests see that the page reaches it."""

    def decide(self, viewer, page, media_content_key):
        if page is None:
            return Decision.refuse("No page given.")
        if page.slug.startswith("free-"):
            return Decision.allow()
        if not viewer.is_authenticated:
            return Decision.preview(PREVIEW_SECONDS)
        if viewer.user.groups.filter(name="buyers").exists():
            return Decision.allow()
        return Decision.refuse("Buy this course to watch it.")


def claims_of(url: str) -> tuple[dict, dict]:
    query = parse_qs(urlsplit(url).query)
    return jwt.decode(query["jwt"][0], SECURITY_KEY, algorithms=["HS256"]), query
