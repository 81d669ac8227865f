"""Fault injection, the control API, the request log, and the three ways to run the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import requests
from django.urls import include, path

from wagtail_kollus.sandbox.testing import SandboxServer

# This module doubles as the URLconf of the "mounted in Django" test.
urlpatterns = [path("sandbox/", include("wagtail_kollus.sandbox.urls"))]


def _list(sandbox, timeout=5):
    return requests.get(
        sandbox.contents_api_url + "/contents",
        headers={"Authorization": f"Bearer {sandbox.keys.server_key}"},
        timeout=timeout,
    )


def test_latency(sandbox):
    sandbox.faults.set("contents.list", latency=0.4)
    started = time.monotonic()
    assert _list(sandbox).status_code == 200
    assert time.monotonic() - started >= 0.4
    with pytest.raises(requests.ReadTimeout):
        _list(sandbox, timeout=0.1)


def test_status_with_retry_after(sandbox):
    sandbox.faults.set("contents.list", status=429, retry_after=7)
    answer = _list(sandbox)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"
    assert answer.json()["message"]


@pytest.mark.parametrize("body,content_type", [("malformed_json", "application/json"), ("html", "text/html")])
def test_bad_bodies(sandbox, body, content_type):
    sandbox.faults.set("contents.list", body=body)
    answer = _list(sandbox)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith(content_type)
    with pytest.raises(ValueError):
        json.loads(answer.text)


def test_html_error_page(sandbox):
    sandbox.faults.set("kollus.media_list", status=502, body="html")
    answer = requests.get(sandbox.kollus_api_url + "/api/media-contents", params={"access_token": sandbox.keys.access_token}, timeout=5)
    assert answer.status_code == 502 and "<html>" in answer.text


def test_connection_reset(sandbox):
    sandbox.faults.set("contents.get", reset=True)
    with pytest.raises(requests.ConnectionError):
        requests.get(sandbox.contents_api_url + "/contents/4321", headers={"Authorization": f"Bearer {sandbox.keys.server_key}"}, timeout=5)
    assert sandbox.requests[-1]["status"] == "reset"


def test_fail_n_times_then_succeed(sandbox):
    sandbox.faults.set("contents.list", status=503, times=2)
    assert [_list(sandbox).status_code for _ in range(3)] == [503, 503, 200]
    assert sandbox.faults.as_dict() == {}


def test_wildcard_and_specific_fault(sandbox):
    sandbox.faults.set("*", status=500)
    sandbox.faults.set("contents.list", status=418)
    assert _list(sandbox).status_code == 418
    assert requests.get(sandbox.kollus_api_url + "/api/categories", timeout=5).status_code == 500
    sandbox.faults.clear()
    assert _list(sandbox).status_code == 200


def test_family_fault_is_a_whole_api_outage(sandbox):
    # "contents.*" takes down every contents API endpoint and nothing of Kollus's.
    sandbox.faults.set("contents.*", status=503)
    assert _list(sandbox).status_code == 503
    detail = requests.get(sandbox.contents_api_url + "/contents/4321", headers={"Authorization": f"Bearer {sandbox.keys.server_key}"}, timeout=5)
    assert detail.status_code == 503
    assert requests.get(sandbox.kollus_api_url + "/api/categories", timeout=5).status_code != 503
    sandbox.faults.set("contents.list", status=418)  # an endpoint's own fault comes first
    assert _list(sandbox).status_code == 418
    sandbox.faults.clear()
    assert _list(sandbox).status_code == 200


def test_commit_then_timeout_creates_the_record(sandbox):
    sandbox.faults.set("contents.create", commit_then_timeout=1.0, times=1)
    payload = {
        "content_type": "vod", "title": "Timed out create", "description_html": "<p/>",
        "category_ids": [1], "featured_image": "https://e/x.jpg", "external_id": "page-9-attempt-1",
    }  # fmt: skip
    with pytest.raises(requests.ReadTimeout):
        requests.post(sandbox.contents_api_url + "/contents", json=payload, headers={"Authorization": f"Bearer {sandbox.keys.server_key}"}, timeout=0.3)
    found = requests.get(
        sandbox.contents_api_url + "/contents",
        params={"search": "Timed out create", "status": "pending"},
        headers={"Authorization": f"Bearer {sandbox.keys.server_key}"},
        timeout=5,
    ).json()["data"]
    assert [r["external_id"] for r in found] == ["page-9-attempt-1"]


def test_fault_option_validation(sandbox):
    with pytest.raises(ValueError):
        sandbox.faults.set("contents.list", body="xml")
    with pytest.raises(ValueError):
        sandbox.faults.set("contents.list", colour="red")


def test_faults_over_http(sandbox):
    control = sandbox.base_url + "/_sandbox/faults"
    answer = requests.post(control, json={"endpoint": "kollus.media_detail", "status": 503, "times": 1}, timeout=5)
    assert answer.status_code == 201
    assert requests.get(control, timeout=5).json()["faults"] == {"kollus.media_detail": {"status": 503, "times": 1}}
    url = sandbox.kollus_api_url + "/api/media-contents/nope"
    assert requests.get(url, params={"access_token": sandbox.keys.access_token}, timeout=5).status_code == 503
    assert requests.get(url, params={"access_token": sandbox.keys.access_token}, timeout=5).status_code == 404
    assert requests.post(control, json={"status": 503}, timeout=5).status_code == 422
    assert requests.post(control, json={"endpoint": "x", "body": "xml"}, timeout=5).status_code == 422
    requests.post(control, json={"endpoint": "contents.list", "status": 500}, timeout=5)
    requests.delete(control, timeout=5)
    assert _list(sandbox).status_code == 200


def test_request_log_counts_and_hides_secrets(sandbox):
    assert sandbox.request_count() == 0
    _list(sandbox)
    requests.get(sandbox.kollus_api_url + "/api/categories", params={"access_token": sandbox.keys.access_token}, timeout=5)
    assert sandbox.request_count("contents.list") == 1
    assert sandbox.request_count("kollus.*") == 1
    log = requests.get(sandbox.base_url + "/_sandbox/requests", timeout=5).json()
    assert log["counts"] == {"contents.list": 1, "kollus.categories": 1}
    assert sandbox.keys.access_token not in json.dumps(log)
    assert log["requests"][1]["query"] == "access_token=%5Bredacted%5D"


def test_reset_over_http(sandbox):
    sandbox.faults.set("contents.list", status=500)
    assert requests.post(sandbox.base_url + "/_sandbox/reset", timeout=5).json() == {"reset": True}
    assert _list(sandbox).status_code == 200
    assert sandbox.request_count() == 1


def test_unknown_path_and_method(sandbox):
    assert requests.get(sandbox.base_url + "/nothing-here", timeout=5).status_code == 404
    assert requests.delete(sandbox.contents_api_url + "/contents", timeout=5).status_code == 405


def test_keep_alive_connections_are_reused(sandbox):
    session = requests.Session()
    for _ in range(20):
        assert session.get(sandbox.contents_api_url + "/content-categories", headers={"Authorization": f"Bearer {sandbox.keys.server_key}"}, timeout=5).status_code == 200
    pool = next(iter(session.adapters["http://"].poolmanager.pools._container.values()))
    assert pool.num_connections == 1


def test_kollus_settings_points_at_the_sandbox(sandbox, settings):
    from wagtail_kollus.conf import kollus_settings

    assert sandbox.contents_api_url == kollus_settings.CONTENTS_API_URL
    assert sandbox.player_url == kollus_settings.PLAYER_URL
    assert kollus_settings.CALLBACK_TOKEN == "test-callback-token-0123456789"


def test_custom_keys_and_state_file(tmp_path):
    state_file = tmp_path / "state.json"
    with SandboxServer(server_key="k1", contents=5, state_file=str(state_file)) as server:
        assert len(server.state.contents) == 5
        headers = {"Authorization": "Bearer k1"}
        created = requests.post(
            server.contents_api_url + "/contents",
            json={"content_type": "live", "title": "Kept", "description_html": "<p></p>", "category_ids": [1], "featured_image": "x"},
            headers=headers,
            timeout=5,
        ).json()["data"]
    with SandboxServer(server_key="k1", contents=5, state_file=str(state_file)) as server:
        again = requests.get(f"{server.contents_api_url}/contents/{created['content_id']}", headers=headers, timeout=5)
        assert again.json()["data"]["title"] == "Kept"


@pytest.mark.urls(__name__)
def test_mounted_in_django(client, settings):
    settings.WAGTAIL_KOLLUS_SANDBOX = {"contents": 30}
    answer = client.get("/sandbox/api/public/v1/contents?limit=5", HTTP_AUTHORIZATION="Bearer sandbox-server-key")
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["data"]) == 5
    media_urls = [i["media_url"] for r in body["data"] for c in r["chapters"] for i in c["items"]]
    assert all(u.startswith("http://testserver/sandbox/player/") for u in media_urls if "youtube" not in u)
    assert client.get("/sandbox/api/public/v1/contents").status_code == 401
    created = client.post(
        "/sandbox/kollus/api/upload/create-url?access_token=sandbox-access-token", {"title": "x"}
    ).json()["data"]
    assert created["upload_url"].startswith("http://testserver/sandbox/kollus-upload/")


@pytest.mark.urls(__name__)
@pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")
def test_mounted_in_django_sets_both_device_cookies(client, settings):
    """Django keeps one value per header name: the player's two Set-Cookie headers must both
    reach the client (the Secure one for browsers, the plain one for scripts over http)."""
    import jwt

    from wagtail_kollus.sandbox import django_view

    settings.WAGTAIL_KOLLUS_SANDBOX = {"contents": 30}
    client.get("/sandbox/")  # binds the mounted sandbox to this host
    state = django_view.get_app().state
    with state.lock:
        mckey = next(m["channels"][0]["media_content_key"] for m in state.media.values() if m["channels"] and not m["use_encryption"])
    token = jwt.encode({"cuid": "u1", "expt": int(time.time()) + 60, "mc": [{"mckey": mckey}]}, "sandbox-security-key")
    answer = client.get("/sandbox/player/s", {"jwt": token, "custom_key": "sandbox-custom-key"})
    assert answer.status_code == 200, answer.content[:300]
    # The WSGI handler sends the raw header, then each cookie of the jar.
    browser, script = answer["Set-Cookie"], answer.cookies["kollus_sandbox_device_http"]
    assert browser.startswith(f"kollus_sandbox_device={script.value};")
    assert "SameSite=None; Secure; Partitioned" in browser
    assert not script["secure"]


def test_cli_runs_without_django(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    process = subprocess.Popen(
        [sys.executable, "-m", "wagtail_kollus.sandbox", "--port", "0", "--contents", "12", "--access-token", "cli-token"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        first = process.stdout.readline()
        base = first.rsplit(" ", 1)[1].strip()
        assert base.startswith("http://127.0.0.1:")
        rest = "".join(process.stdout.readline() for _ in range(10))
        assert "sandbox-server-key" in rest and "cli-token" in rest
        answer = requests.get(base + "/api/public/v1/contents", headers={"Authorization": "Bearer sandbox-server-key"}, timeout=5)
        assert answer.json()["pagination"]["total"] <= 12
        assert requests.get(base + "/kollus/api/categories", params={"access_token": "cli-token"}, timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


def test_finish_transcoding_now_over_http():
    from wagtail_kollus.sandbox.testing import create_upload_url

    slow = SandboxServer(callback_delay=60).start()
    try:
        ticket = create_upload_url(slow)
        requests.post(ticket["upload_url"], files={"upload-file": ("a.mp4", b"x")}, timeout=5)
        answer = requests.post(f"{slow.base_url}/_sandbox/media/{ticket['upload_file_key']}/finish", json={}, timeout=5)
        assert answer.json()["data"]["transcoding_stage_name"] == "completed"
        assert answer.json()["data"]["media_content_keys"][0]["channel_key"] == "sandbox-channel"
        assert requests.post(f"{slow.base_url}/_sandbox/media/nope/finish", json={}, timeout=5).status_code == 404
    finally:
        slow.stop()
