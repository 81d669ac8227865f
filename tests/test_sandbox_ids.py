"""Ids the sandbox mints are never handed out twice, also across restarts without a state file.

Real Kollus and contents APIs never reuse an id, and a site keeps the ids it was given (a page
link holds its content and item ids): a restarted sandbox that numbered records from the start
again made two pages write to one record.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from wagtail_kollus.sandbox.testing import SandboxServer

BEARER = {"Authorization": "Bearer sandbox-server-key"}
VOD = {
    "content_type": "vod",
    "title": "New class",
    "description_html": "<p>x</p>",
    "category_ids": [11],
    "featured_image": "https://example.com/main.jpg",
    "chapters": [{"title": "One", "items": [{"title": "a", "media_url": "https://v.kr.kollus.com/a"}]}],
}


@contextmanager
def cli_sandbox(*options: str) -> Iterator[str]:
    """``python -m wagtail_kollus.sandbox`` as a user runs it; yields its base URL."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    process = subprocess.Popen(
        [sys.executable, "-m", "wagtail_kollus.sandbox", "--port", "0", "--contents", "5", *options],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        yield process.stdout.readline().rsplit(" ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def minted_ids(base: str) -> set[tuple[str, int | str]]:
    """A new record's content, chapter and item ids, an uploaded featured image's name and a
    new Kollus category's key (each with its kind: a content and a chapter may share a number,
    as in the seed)."""
    record = requests.post(base + "/api/public/v1/contents", json=VOD, headers=BEARER, timeout=5)
    category = requests.post(
        base + "/kollus/api/categories",
        params={"access_token": "sandbox-access-token"},
        data={"name": "Made here"},
        timeout=5,
    )
    with_image = requests.post(
        base + "/api/public/v1/contents",
        data={"content_type": "offline", "title": "Workshop", "description_html": "<p>y</p>", "category_ids[]": "1"},
        files={"featured_image": ("main.png", b"\x89PNG fake", "image/png")},
        headers=BEARER,
        timeout=5,
    )
    data = record.json()["data"]
    chapter = data["chapters"][0]
    return {
        ("image URL", with_image.json()["data"]["featured_image"].rsplit("/", 1)[1]),
        ("content", data["content_id"]),
        ("chapter", chapter["chapter_id"]),
        ("item", chapter["items"][0]["item_id"]),
        ("category", category.json()["data"]["key"]),
    }


def wait_for_the_next_second() -> None:
    time.sleep(1.05 - time.time() % 1)


def test_a_restarted_stateless_sandbox_never_hands_out_an_earlier_runs_ids():
    with cli_sandbox() as base:
        first_run = minted_ids(base) | minted_ids(base)
    wait_for_the_next_second()  # a restart takes longer than that in real life
    with cli_sandbox() as base:
        second_run = minted_ids(base) | minted_ids(base)
        seeded = requests.get(base + "/api/public/v1/contents/4301", headers=BEARER, timeout=5)
    assert len(first_run) == len(second_run) == 10
    assert not first_run & second_run
    # New ids grow from run to run, and the seed keeps its documented ids.
    for kind in ("content", "chapter", "item"):
        assert min(i for k, i in second_run if k == kind) > max(i for k, i in first_run if k == kind)
    assert seeded.status_code == 200


def test_new_ids_are_readable_and_above_the_seed():
    with SandboxServer(contents=5) as server:
        record = requests.post(server.contents_api_url + "/contents", json=VOD, headers=BEARER, timeout=5)
        content_id = record.json()["data"]["content_id"]
    assert content_id > 4305
    # The digits are the run's start time (UTC), then a counter: it says which run made it.
    assert time.strftime("%y%m%d", time.gmtime()) == str(content_id)[:6]
    assert content_id < 2**53  # a JavaScript number still holds it exactly


def test_run_bases_leave_a_thousand_ids_per_second_between_starts():
    from wagtail_kollus.sandbox.state import run_id_base

    start = 1_796_648_400.0  # 2026-12-07 13:00:00 UTC
    assert run_id_base(start) == 261207130000000
    assert run_id_base(start + 1) - run_id_base(start) == 1000
    assert run_id_base(start + 60) > run_id_base(start + 59)


def test_a_reset_keeps_counting(sandbox):
    before = minted_ids(sandbox.base_url)
    sandbox.reset()
    assert not minted_ids(sandbox.base_url) & before


def test_a_state_file_continues_its_own_counters(tmp_path):
    state_file = str(tmp_path / "state.json")
    with cli_sandbox("--state-file", state_file) as base:
        first = requests.post(base + "/api/public/v1/contents", json=VOD, headers=BEARER, timeout=5)
    wait_for_the_next_second()
    with cli_sandbox("--state-file", state_file) as base:
        second = requests.post(base + "/api/public/v1/contents", json=VOD, headers=BEARER, timeout=5)
        kept = requests.get(
            base + f"/api/public/v1/contents/{first.json()['data']['content_id']}",
            headers=BEARER,
            timeout=5,
        )
    assert kept.status_code == 200
    assert second.json()["data"]["content_id"] == first.json()["data"]["content_id"] + 1
