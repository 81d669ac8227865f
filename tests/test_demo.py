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


@pytest.fixture
def demo(tmp_path):
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


def test_make_demo_serves_the_admin_and_sandbox_data(demo, tmp_path):
    base, output, sandbox_port = demo
    assert f"{base}/admin/" in output
    assert "admin / demo-test-password" in output

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
    callbacks = session.get(base + "/admin/kollus/callbacks/")
    assert callbacks.status_code == 200 and "data-kollus-callbacks-filters" in callbacks.text
    # The sweep that runs retries and takes over stopped workers' work is installed.
    import sqlite3

    with sqlite3.connect(tmp_path / "demo.sqlite3") as db:
        rows = db.execute("SELECT func FROM django_q_schedule WHERE name = 'wagtail_kollus: sweep'")
        assert rows.fetchall() == [("wagtail_kollus.sweep.sweep",)]

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
