"""The sandbox's upload host and platform callbacks over real HTTP."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from wagtail_kollus.sandbox.testing import (
    CallbackReceiver,
    create_upload_url,
    generated_chunks,
    wait_until,
)

TWENTY_MB = 20 * 1024 * 1024


@pytest.fixture
def receiver():
    server = CallbackReceiver()
    yield server
    server.close()


def _multipart_stream(filename: str, size: int, boundary: str):
    """A streamed (chunked) multipart body: the client never holds the file in memory either."""
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"accept\"\r\n\r\napplication/json\r\n").encode()
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"upload-file\"; filename=\"{filename}\"\r\n"
           "Content-Type: video/mp4\r\n\r\n").encode()  # fmt: skip
    yield from generated_chunks(size)
    yield f"\r\n--{boundary}--\r\n".encode()


def test_streamed_20mb_upload_then_single_use(sandbox):
    ticket = create_upload_url(sandbox, title="Big file")
    boundary = uuid.uuid4().hex
    answer = requests.post(
        ticket["upload_url"],
        data=_multipart_stream("big.mp4", TWENTY_MB, boundary),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    # Read straight away: the sandbox finishes transcoding callback_delay (0.2 s) later.
    media = requests.get(
        f"{sandbox.kollus_api_url}/api/media-contents/{ticket['upload_file_key']}",
        params={"access_token": sandbox.keys.access_token},
        timeout=5,
    ).json()["data"]
    assert media["title"] == "Big file" and media["original_file_size"] == TWENTY_MB
    assert media["transcoding_stage_name"] == "transcoding" and media["media_content_keys"] == []
    expected = hashlib.sha256(b"".join(generated_chunks(TWENTY_MB))).hexdigest()
    assert answer.json()["result"] == {"upload_file_key": ticket["upload_file_key"], "size": TWENTY_MB, "sha256": expected, "filename": "big.mp4"}
    assert requests.get(ticket["progress_url"], timeout=5).json() == {"error": 0, "message": "", "result": {"progress": 100}}
    second = requests.post(ticket["upload_url"], files={"upload-file": ("b.mp4", io.BytesIO(b"x"))}, timeout=5)
    assert second.status_code == 410 and second.json()["error"] == 1


def test_upload_with_content_length_and_html_answer(sandbox):
    ticket = create_upload_url(sandbox)
    data = os.urandom(300_000)
    answer = requests.post(ticket["upload_url"], files={"upload-file": ("clip<1>.mp4", io.BytesIO(data))}, timeout=5)
    assert answer.status_code == 200 and "text/html" in answer.headers["Content-Type"]
    assert "clip&lt;1&gt;.mp4" in answer.text
    row = sandbox.state.media[ticket["upload_file_key"]]
    assert row["sha256"] == hashlib.sha256(data).hexdigest() and row["title"] == "clip<1>"


def test_wrong_field_name_leaves_the_ticket_usable(sandbox):
    ticket = create_upload_url(sandbox)
    wrong = requests.post(ticket["upload_url"], files={"file": ("a.mp4", io.BytesIO(b"x"))}, timeout=5)
    assert wrong.status_code == 400 and "upload-file" in wrong.json()["message"]
    right = requests.post(ticket["upload_url"], files={"upload-file": ("a.mp4", io.BytesIO(b"x"))}, data={"accept": "application/json"}, timeout=5)
    assert right.status_code == 200


def test_expired_and_unknown_upload_urls(sandbox):
    ticket = create_upload_url(sandbox, expire_time="60")
    token = ticket["upload_url"].rsplit("/", 1)[1]
    with sandbox.state.lock:
        sandbox.state.tickets[token]["expires_at"] = 0  # as if 60 s had passed
    expired = requests.post(ticket["upload_url"], files={"upload-file": ("a.mp4", io.BytesIO(b"x"))}, timeout=5)
    assert expired.status_code == 410 and "expired" in expired.json()["message"]
    unknown = requests.post(sandbox.upload_url_prefix + "/nope", files={"upload-file": ("a.mp4", io.BytesIO(b"x"))}, timeout=5)
    assert unknown.status_code == 404
    assert requests.get(sandbox.upload_url_prefix + "/nope/progress", timeout=5).status_code == 404


def test_cors_preflight_and_headers(sandbox):
    ticket = create_upload_url(sandbox)
    origin = "http://cms.example"
    preflight = requests.options(
        ticket["upload_url"],
        headers={"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
        timeout=5,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    progress = requests.get(ticket["progress_url"], headers={"Origin": origin}, timeout=5)
    assert progress.headers["Access-Control-Allow-Origin"] == origin
    assert progress.json()["result"]["progress"] == 0


def _upload(sandbox, filename="lesson.mp4", **form):
    ticket = create_upload_url(sandbox, **form)
    answer = requests.post(ticket["upload_url"], files={"upload-file": (filename, io.BytesIO(b"v" * 1000))}, data={"accept": "application/json"}, timeout=5)
    assert answer.status_code == 200
    return ticket


def test_callbacks_upload_transcoding_channel_add(sandbox, receiver):
    sandbox.set_callback_url("all", receiver.url)
    ticket = _upload(sandbox)
    got = receiver.wait_for(3)
    # Each delivery runs in its own thread (as at Kollus): arrival order is not guaranteed.
    by_kind = {
        ("transcoding" if "transcoding_result" in r["fields"] else "channel_add" if "media_content_key" in r["fields"] else "upload"): r["fields"]
        for r in got
    }
    upload, transcoding, channel_add = by_kind["upload"], by_kind["transcoding"], by_kind["channel_add"]
    assert transcoding["transcoding_result"] == "success"
    assert all(r["content_type"] == "application/x-www-form-urlencoded" for r in got)
    assert upload == {"content_provider_key": "sandbox-account", "full_filename": "lesson.mp4", "filename": "lesson", "upload_file_key": ticket["upload_file_key"]}
    assert transcoding["upload_file_key"] == ticket["upload_file_key"]
    media = sandbox.state.media[ticket["upload_file_key"]]
    assert media["stage"] == "completed"
    assert channel_add["media_content_key"] == media["channels"][0]["media_content_key"]
    assert channel_add["channel_key"] == "sandbox-channel" and channel_add["update_type"] == "add"
    # The log marks a delivery once the receiver's answer is read, a moment after it arrived.
    wait_until(lambda: {e["kind"] for e in sandbox.callbacks if e["delivered"]} == {"upload", "transcoding", "channel_add"})


def test_fail_in_title_fails_transcoding(sandbox, receiver):
    sandbox.set_callback_url("transcoding", receiver.url)
    ticket = _upload(sandbox, filename="will-fail.mp4")
    got = receiver.wait_for(1)
    assert got[0]["fields"]["transcoding_result"] == "fail"
    assert sandbox.state.media[ticket["upload_file_key"]]["stage"] == "failed"


def test_callback_retried_on_non_200(sandbox):
    receiver = CallbackReceiver(statuses=(500, 503, 200))
    try:
        sandbox.set_callback_url("upload", receiver.url)
        _upload(sandbox)
        got = receiver.wait_for(3)
        assert len({r["fields"]["upload_file_key"] for r in got}) == 1
        entry = wait_until(lambda: next((e for e in sandbox.callbacks if e["delivered"]), None))
        assert [a["status"] for a in entry["attempts"]] == [500, 503, 200]
    finally:
        receiver.close()


def test_callback_gives_up_after_three_retries(sandbox):
    receiver = CallbackReceiver(statuses=(500,))
    try:
        sandbox.set_callback_url("upload", receiver.url)
        _upload(sandbox)
        receiver.wait_for(4)
        entry = wait_until(lambda: next((e for e in sandbox.callbacks if e["gave_up"]), None))
        assert len(entry["attempts"]) == 4 and not entry["delivered"]
    finally:
        receiver.close()


def test_callback_targets_and_log_through_control_api(sandbox, receiver):
    answer = requests.post(sandbox.base_url + "/_sandbox/callbacks", json={"kind": "upload", "url": receiver.url}, timeout=5)
    assert answer.json()["targets"] == {"upload": receiver.url}
    assert requests.post(sandbox.base_url + "/_sandbox/callbacks", json={"kind": "bogus", "url": "x"}, timeout=5).status_code == 422
    _upload(sandbox)
    receiver.wait_for(1)
    log = requests.get(sandbox.base_url + "/_sandbox/callbacks", timeout=5).json()["log"]
    assert [e["kind"] for e in log][:1] == ["upload"]


def test_upload_answer_does_not_wait_for_a_slow_callback_target(sandbox):
    # A target that never answers: the upload still answers at once.
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    try:
        sandbox.set_callback_url("all", f"http://127.0.0.1:{listener.getsockname()[1]}/cb")
        ticket = create_upload_url(sandbox)
        answer = requests.post(ticket["upload_url"], files={"upload-file": ("a.mp4", io.BytesIO(b"x"))}, timeout=2)
        assert answer.status_code == 200
    finally:
        listener.close()


def test_reset_drops_pending_transcoding(sandbox, receiver):
    sandbox.set_callback_url("all", receiver.url)
    ticket = create_upload_url(sandbox)
    requests.post(ticket["upload_url"], files={"upload-file": ("a.mp4", io.BytesIO(b"x"))}, timeout=5)
    receiver.wait_for(1)
    sandbox.reset()
    sandbox.set_callback_url("all", receiver.url)
    import time

    time.sleep(0.5)
    assert len(receiver.received) == 1


def test_kind_placeholder_in_callback_url(sandbox, receiver):
    sandbox.set_callback_url("all", receiver.url + "/{kind}/")
    _upload(sandbox)
    got = receiver.wait_for(3)
    assert sorted(r["path"].rsplit("/", 2)[1] for r in got) == ["channel-add", "transcoding", "upload"]


def test_command_line_callback_template_expands_per_kind(receiver):
    """``--callback-url http://site/kollus/callbacks/{kind}/TOKEN/`` (what ``make demo`` passes)
    must reach ``/upload/``, ``/transcoding/``… from the start, not only after a reset or a
    ``set_callback_url``: the targets copied at start-up keep ``{kind}`` expanded."""
    from wagtail_kollus.sandbox.__main__ import parse_callback_urls
    from wagtail_kollus.sandbox.testing import SandboxServer

    urls = parse_callback_urls([receiver.url + "/callbacks/{kind}/TOKEN/"])
    with SandboxServer(callback_urls=urls, callback_delay=0.1, contents=5) as server:
        assert server.app.callbacks.targets["channel_add"] == receiver.url + "/callbacks/channel-add/TOKEN/"
        _upload(server)
        got = receiver.wait_for(3)
        prefix = urlsplit(receiver.url).path
        assert sorted(r["path"].removeprefix(prefix) for r in got) == [
            "/callbacks/channel-add/TOKEN/", "/callbacks/transcoding/TOKEN/", "/callbacks/upload/TOKEN/"
        ]
        server.reset()
        assert server.app.callbacks.targets["upload"] == receiver.url + "/callbacks/upload/TOKEN/"
