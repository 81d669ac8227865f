"""What a person meets at the sandbox's URL: the command's banner and the index page at ``/``.

``make demo`` prints the sandbox's base URL and the callback targets; opening that URL used to
answer a JSON 404, and the banner printed an example callback token the demo does not use.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import requests

from wagtail_kollus.sandbox.testing import CallbackReceiver, SandboxServer, create_upload_url

SITE_TOKEN = "demo-site-token-0123456789"


def test_banner_shows_the_site_callback_template_and_no_other_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    template = f"http://127.0.0.1:9/kollus/callbacks/{{kind}}/{SITE_TOKEN}/"
    process = subprocess.Popen(
        [sys.executable, "-m", "wagtail_kollus.sandbox", "--port", "0", "--contents", "5",
         "--callback-url", template],
        stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )
    lines: list[str] = []

    def read_banner() -> None:
        while not lines or not lines[-1].startswith("These are demo keys"):
            lines.append(process.stdout.readline())

    # A thread with a deadline, so a banner without its last line fails instead of hanging.
    reader = threading.Thread(target=read_banner, daemon=True)
    reader.start()
    try:
        reader.join(timeout=15)
        assert not reader.is_alive(), "".join(lines)
    finally:
        process.terminate()
        process.wait(timeout=10)
    banner = "".join(lines)
    base = lines[0].rsplit(" ", 1)[1].strip()
    assert f"index         {base}/" in banner
    assert f"callbacks ->  {template}" in banner
    tokens = {word for word in banner.replace("/", " ").split() if "callback-token" in word}
    assert tokens == set(), f"the banner names a callback token the site does not use: {tokens}"


def test_index_page_lists_services_world_callbacks_and_control_api():
    receiver = CallbackReceiver(statuses=(404,))
    target = receiver.url + f"/callbacks/{{kind}}/{SITE_TOKEN}/"
    try:
        with SandboxServer(contents=12, callback_urls={"upload": target}, callback_retry_interval=60) as server:
            ticket = create_upload_url(server)
            requests.post(ticket["upload_url"], files={"upload-file": ("a.mp4", b"x")}, timeout=5)
            receiver.wait_for(1)
            # The sandbox records the answer once the site's response is back, a moment after
            # the receiver has the request.
            deadline = time.monotonic() + 5
            while not server.app.callbacks.entries()[-1]["attempts"]:
                assert time.monotonic() < deadline, "the sandbox never recorded the answer"
                time.sleep(0.02)
            page = requests.get(server.base_url + "/", timeout=5)
            assert requests.get(server.base_url + "/_sandbox", timeout=5).json()["contents"] == 12
    finally:
        receiver.close()
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert "data-sandbox-home" in html
    for offered in ("/api/public/v1", "/kollus", "/kollus-upload/", "/player/s?jwt="):
        assert server.base_url + offered in html
    assert "sandbox-server-key" in html and "sandbox-access-token" in html
    assert "12 content records" in html
    # Where callbacks go and how the last one fared (here: the site answered 404, which says
    # the URL reaches no callback view) ...
    assert "<code>upload</code>" in html and "1 sent, 0 delivered" in html
    assert "<td>404: <span data-diagnosis='not-found'>" in html and "wagtail_kollus.urls" in html
    # ... without the site's secret callback token.
    assert SITE_TOKEN not in html
    # Every control endpoint is listed, GET ones as links.
    for path in ("/_sandbox/faults", "/_sandbox/reset", "/_sandbox/requests", "/_sandbox/callbacks",
                 "/_sandbox/media/{upload_file_key}/finish"):
        assert f"<code>{path}</code>" in html
    assert '<a href="_sandbox/requests">' in html
