"""``make demo`` as a new user runs it: the script migrates, seeds, starts the sandbox, a
django-q2 cluster and the site, prints the admin URL and login, and the site then serves the
admin, pages with signed players from the sandbox, and a course page the cluster synced."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.xdist_group("demo")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("demo")
    site_port, sandbox_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        EXAMPLE_SITE_DB=str(tmp_path / "demo.sqlite3"),
        SANDBOX_STATE_FILE=str(tmp_path / "sandbox-state.json"),
        DEMO_ADMIN_PASSWORD="demo-test-password",
    )
    log = (tmp_path / "demo.log").open("w+")
    proc = subprocess.Popen(
        ["bash", "scripts/demo.sh", str(site_port), str(sandbox_port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{site_port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            log.seek(0)
            text = log.read()
            if "Admin:" in text:
                try:
                    requests.get(base + "/admin/login/", timeout=2)
                    break
                except requests.ConnectionError:
                    pass
            assert proc.poll() is None, f"make demo exited early:\n{text[-3000:]}"
            time.sleep(0.5)
        else:
            pytest.fail(f"make demo did not come up in time:\n{text[-3000:]}")
        yield base, text, sandbox_port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def admin_session(base: str) -> requests.Session:
    """Logged in with the login the demo printed."""
    session = requests.Session()
    login = session.get(base + "/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    response = session.post(
        base + "/admin/login/",
        data={"username": "admin", "password": "demo-test-password",
              "csrfmiddlewaretoken": token},
        headers={"Referer": base + "/admin/login/"},
    )
    assert response.url.rstrip("/").endswith("/admin"), "the printed login does not work"
    return session


def test_make_demo_serves_the_admin_and_sandbox_data(demo):
    base, output, sandbox_port = demo
    assert f"{base}/admin/" in output
    assert "admin / demo-test-password" in output
    admin_session(base)

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


def test_the_first_hour_of_the_demo(demo):
    """What a new user meets: an English admin they can switch, a library already holding the
    sandbox's videos, a sandbox URL that explains itself, one callback token everywhere, and
    an upload that is ready within seconds because the callbacks reach the site."""
    base, output, sandbox_port = demo
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    session = admin_session(base)

    # The banner's callback targets carry the demo's token, and no other token is printed.
    assert f"callbacks ->  {base}/kollus/callbacks/{{kind}}/demo-callback-token-0123456789/" in output
    assert "test-callback-token" not in output

    # The admin opens in English; the seeded admin has a name, so the account form can save.
    dashboard = session.get(base + "/admin/")
    assert '<html lang="en"' in dashboard.text
    account = session.get(base + "/admin/account/").text
    assert 'value="Demo"' in account and 'value="Admin"' in account

    # The library holds the sandbox's videos.
    library = session.get(base + "/admin/kollus-videos/").text
    total = int(re.search(r"(\d+) Kollus videos", library).group(1))
    assert total >= 40, total
    assert 'data-kollus-state="ready"' in library and 'data-kollus-state="failed"' in library

    # The printed sandbox URL is a page about the sandbox, not a JSON 404.
    index = requests.get(sandbox + "/", timeout=5)
    assert index.status_code == 200 and "data-sandbox-home" in index.text

    # Upload as the browser does; Kollus-style callbacks (not the 2-minute fallback poll)
    # make it ready.
    csrf = session.cookies["csrftoken"]
    headers = {"X-CSRFToken": csrf, "Referer": base + "/admin/kollus-videos/new/"}
    started = time.monotonic()
    ticket = session.post(
        base + "/admin/kollus-videos/upload/ticket/",
        data={"file_name": "first-hour.mp4", "file_size": "4096", "title": "First hour"},
        headers=headers,
    ).json()
    sent = requests.post(
        ticket["upload_url"], files={"upload-file": ("first-hour.mp4", b"\0" * 4096)},
        data={"accept": "application/json"}, timeout=10,
    )
    assert sent.status_code == 200
    session.post(base + ticket["complete_url"], headers=headers).raise_for_status()
    state = ""
    while time.monotonic() - started < 60 and state != "ready":
        time.sleep(0.5)
        state = session.get(base + ticket["status_url"]).json()["state"]
    elapsed = time.monotonic() - started
    assert state == "ready", f"still {state!r} after {elapsed:.0f} s"
    assert elapsed < 30, f"ready only after {elapsed:.0f} s: callbacks did not reach the site"
    log = requests.get(sandbox + "/_sandbox/callbacks", timeout=5).json()["log"]
    ours = [e for e in log if e["fields"].get("upload_file_key") == ticket["upload_file_key"]]
    assert {e["kind"] for e in ours} >= {"upload", "transcoding", "channel_add"}
    assert all(a["status"] == 200 for e in ours for a in e["attempts"]), ours
