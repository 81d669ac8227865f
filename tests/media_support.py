"""Helpers of the media lifecycle tests: posting Kollus's callbacks to the plugin's endpoints
as the platform does, and where a sandbox media is. (Uploading to the sandbox:
``wagtail_kollus.testing.upload_to_sandbox``; callback rows already logged:
``tests.factories.deliver``.)"""

from __future__ import annotations

import requests
from django.test import Client
from django.urls import reverse

from tests.factories import SANDBOX_ACCOUNT
from wagtail_kollus.sandbox.testing import TEST_CALLBACK_TOKEN

TOKEN = TEST_CALLBACK_TOKEN  # tests/settings.py and the sandbox fixture use the same one

#: One well-formed form of each callback kind, about the media ``ufk-1``.
PAYLOADS = {
    "upload": {"filename": "intro", "full_filename": "intro.mp4", "upload_file_key": "ufk-1"},
    "transcoding": {
        "filename": "intro",
        "upload_file_key": "ufk-1",
        "transcoding_result": "success",
    },
    "content-update": {"filename": "intro", "upload_file_key": "ufk-1", "update_type": "title"},
    "channel-add": {
        "upload_file_key": "ufk-1",
        "media_content_key": "mck-1",
        "channel_key": "ch-1",
        "channel_name": "Main",
        "profile_key": "p1|p2",
        "update_type": "add",
    },
    "channel-delete": {
        "upload_file_key": "ufk-1",
        "media_content_key": "mck-1",
        "channel_key": "ch-1",
        "channel_name": "Main",
        "profile_key": "p1",
        "update_type": "delete",
    },
}


def url(kind: str, token: str = TOKEN) -> str:
    """The callback endpoint of ``kind`` (``upload``, ``content-update``…)."""
    return reverse(f"wagtail_kollus:callback-{kind}", kwargs={"token": token})


def post(
    client: Client, kind: str, *, token: str = TOKEN, account: str | None = SANDBOX_ACCOUNT, **extra
):
    """Post ``PAYLOADS[kind]`` (updated with ``extra``) as Kollus would."""
    data = dict(PAYLOADS[kind], **extra)
    if account is not None:
        data["content_provider_key"] = account
    return client.post(url(kind, token), data)


def sandbox_stage(sandbox, ufk: str) -> str:
    """Where the sandbox's media ``ufk`` is: ``transcoding``, ``completed`` or ``failed``."""
    return sandbox.state.media[ufk]["stage"]


def make_user(django_user_model, name: str, *codenames: str):
    """An admin user whose group has ``codenames`` (e.g. ``"view_kollusmedia"``)."""
    from django.contrib.auth.models import Group, Permission

    user = django_user_model.objects.create_user(name, f"{name}@example.com", "pw")
    group = Group.objects.create(name=f"{name}-group")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in codenames:
        group.permissions.add(Permission.objects.get(codename=codename))
    user.groups.add(group)
    return user


def seed_channel(sandbox, count: int) -> None:
    """The sandbox holds exactly ``count`` media (through its control API)."""
    answer = requests.post(sandbox.base_url + "/_sandbox/media", json={"count": count}, timeout=5)
    assert answer.status_code == 201, answer.text
    assert requests.get(sandbox.base_url + "/_sandbox", timeout=5).json()["media"] == count
