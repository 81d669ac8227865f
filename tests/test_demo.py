"""``make demo`` as a new user runs it: the script migrates, seeds, starts the sandbox, a
django-q2 cluster and the site, prints the admin URL and login, and the site then serves the
admin, pages with signed players from the sandbox, and a course page the cluster synced."""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.demo_stack import ADMIN_PASSWORD, admin_session, demo_stack

pytestmark = pytest.mark.xdist_group("demo")


@pytest.fixture
def demo(tmp_path):
    with demo_stack(tmp_path) as stack:
        yield stack.base, stack.log(), stack.sandbox_port


def test_make_demo_serves_the_admin_and_sandbox_data(demo):
    base, output, sandbox_port = demo
    assert f"{base}/admin/" in output
    assert f"admin / {ADMIN_PASSWORD}" in output
    admin_session(base)  # the printed login works

    videos = requests.get(base + "/videos/")
    assert videos.status_code == 200
    players = re.findall(r'<iframe[^>]+src="([^"]+)"', videos.text)
    assert players and all(f":{sandbox_port}/player/s?jwt=" in src for src in players)
    played = requests.get(players[0].replace("&amp;", "&"))
    assert "data-sandbox-player='ok'" in played.text

    cached = requests.get(base + "/cached-videos/")
    assert "data-kollus-reference" in cached.text and "jwt=" not in cached.text

    # The seed published a course page; the demo's django-q2 cluster synced it to the sandbox.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = requests.get(
            f"http://127.0.0.1:{sandbox_port}/api/public/v1/contents",
            params={"search": "Course synced to the shop"},
            headers={"Authorization": "Bearer sandbox-server-key", "Accept": "application/json"},
        ).json()["data"]
        if found:
            break
        time.sleep(1)
    assert [c["title"] for c in found] == ["Course synced to the shop"]
