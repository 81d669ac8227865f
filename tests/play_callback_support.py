"""Talking to the play callback as Kollus does, for the tests of its answers and of the refused
plays it records: the form Kollus posts, the JWT it expects back, and the viewers and page
restrictions the policy decides from."""

from __future__ import annotations

import json

import jwt
from django.urls import reverse
from wagtail.models import PageViewRestriction

from wagtail_kollus.playback.viewer import Viewer, sign_play_context, user_viewer_id

TOKEN = "test-callback-token-0123456789"  # tests/settings.py
SECURITY_KEY = "sandbox-security-key"
MCKEY = "mck-lesson"


def restrict(page, kind, groups=(), password=""):
    restriction = PageViewRestriction.objects.create(
        page=page, restriction_type=kind, password=password
    )
    restriction.groups.set(groups)
    return restriction


def viewer_for(user=None, passed=()):
    if user is None:
        return Viewer(cuid="anon-0123456789abcdef", passed_passwords=frozenset(passed))
    return Viewer(cuid=user_viewer_id(user.pk), user_id=user.pk, passed_passwords=frozenset(passed))


def form(viewer, page, *, kind=1, device="device-1", context=None, mckey=MCKEY, by_path=True):
    if context is None:
        path = page.path if page and by_path else ""
        context = sign_play_context(viewer, page.pk if page else None, mckey, page_path=path)
    return {
        "kind": str(kind),
        "client_user_id": viewer.cuid,
        "player_id": "player-" + device,
        "hardware_id": device,
        "deviceName": "test",
        "media_content_key": mckey,
        "uservalues": json.dumps({"uservalue9": context}),
    }


def post(client, data, token=TOKEN):
    return client.post(reverse("wagtail_kollus:callback-play", kwargs={"token": token}), data)


def answer(response) -> dict:
    assert response.status_code == 200
    assert response["X-KOLLUS-USERKEY"] == "sandbox-custom-key"
    token = response.content.decode()
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    data = jwt.decode(token, SECURITY_KEY, algorithms=["HS256"])["data"]
    for name in ("kind", "result", "expiration_date", "expiration_playtime", "content_expired"):
        assert type(data[name]) is int, (name, data[name])
    return data
