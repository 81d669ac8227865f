"""``make demo`` as a new user runs it: the script migrates, seeds, starts the sandbox, a
django-q2 cluster and the site, prints the admin URL and login, and the site then serves the
admin, pages with signed players from the sandbox, and a course page the cluster synced.

Then, on the same processes (one launch for the module; the tour runs first, it reads the
seeded course's title):

* publishing never answers 500 while the worker writes. runserver and the cluster share one
  SQLite file; with Django's default (deferred) transactions, Wagtail's publish began as a
  reader and then needed the write lock the worker held: SQLite refuses that upgrade at once,
  whatever the busy timeout, and 2 of 5 publishes answered 500 "database is locked". The
  example site's settings (the README's, ``wagtail_kollus.W005``'s hint) take the lock at
  ``BEGIN``, wait for it and let readers go on meanwhile (WAL).
* runserver's own log (``django.server``, ``django.request``) never shows the callback token,
  whatever is posted to a callback URL.
"""

from __future__ import annotations

import re
import sqlite3
import time
from urllib.parse import urlencode

import pytest
import requests

from .demo_support import ADMIN_PASSWORD, CALLBACK_TOKEN, RunningDemo, publish_page, running_demo

pytestmark = pytest.mark.xdist_group("demo")

COURSE_TITLE = "Course synced to the shop"  # seeded by seed_demo, synced by the cluster
SANDBOX_AUTH = {"Authorization": "Bearer sandbox-server-key", "Accept": "application/json"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with running_demo(tmp_path_factory.mktemp("demo")) as running:
        yield running


def test_make_demo_serves_the_admin_and_sandbox_data(demo):
    base, output, sandbox_port = demo.base, demo.output, demo.sandbox_port
    assert f"{base}/admin/" in output
    assert f"admin / {ADMIN_PASSWORD}" in output
    demo.admin_session()  # the printed login works

    videos = requests.get(base + "/videos/")
    assert videos.status_code == 200
    players = re.findall(r'<iframe[^>]+src="([^"]+)"', videos.text)
    assert players and all(f":{sandbox_port}/player/s?jwt=" in src for src in players)
    played = requests.get(players[0].replace("&amp;", "&"))
    assert "data-sandbox-player='ok'" in played.text

    cached = requests.get(base + "/cached-videos/")
    assert "data-kollus-reference" in cached.text and "jwt=" not in cached.text

    # The compliance lesson's player draws the (anonymous) viewer's watermark and no skipping.
    lesson = requests.get(base + "/compliance-lesson/")
    [src] = re.findall(r'<iframe[^>]+src="([^"]+)"', lesson.text)
    lesson_player = requests.get(src.replace("&amp;", "&")).text
    assert "data-seekable-end='30'" in lesson_player and "data-seek='false'" in lesson_player
    assert re.search(r"data-watermark='anon-[0-9a-f]+'", lesson_player), lesson_player[:800]
    # Headless: the API v2 gives each video a player URL minted for this viewer, which plays;
    # the pages carry VideoObject JSON-LD (BLOCK_STRUCTURED_DATA).
    api = requests.get(base + "/api/v2/pages/", params={"type": "videos.VideoPage", "fields": "body"})
    assert api.status_code == 200 and "no-store" in api.headers["Cache-Control"]
    player = next(block["value"]["player"] for page in api.json()["items"]
                  for block in page["body"] if block["type"] == "video")
    assert player["access"] == "allow"
    assert "data-sandbox-player='ok'" in requests.get(player["url"]).text
    # The demo's site is where it is served: the API's links lead there, not to localhost:80.
    detail_url = api.json()["items"][0]["meta"]["detail_url"]
    assert detail_url.startswith(base + "/api/v2/pages/"), detail_url
    assert requests.get(detail_url).status_code == 200
    assert '<script type="application/ld+json">{"@context": "https://schema.org"' in videos.text

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
    base, output, sandbox = demo.base, demo.output, demo.sandbox
    session = demo.admin_session()

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


# --- publishing while the worker writes the same SQLite file -----------------------------------

PUBLISHES = 8


def course_edit_url(demo: RunningDemo, session: requests.Session) -> str:
    found = session.get(demo.base + "/admin/pages/search/", params={"q": COURSE_TITLE}, timeout=30)
    page_id = re.search(r"/admin/pages/(\d+)/edit/", found.text).group(1)
    return f"{demo.base}/admin/pages/{page_id}/edit/"


def publish(session: requests.Session, url: str, title: str) -> requests.Response:
    return publish_page(session, url, title=title)


def remote_titles(demo: RunningDemo) -> list[str]:
    found = requests.get(demo.sandbox + "/api/public/v1/contents",
                         params={"search": COURSE_TITLE}, headers=SANDBOX_AUTH, timeout=10)
    return [content["title"] for content in found.json()["data"]]


def pushes(demo: RunningDemo) -> int:
    log = requests.get(demo.sandbox + "/_sandbox/requests",
                       params={"endpoint": "contents.update"}, timeout=10).json()
    return len(log["requests"])


def test_consecutive_publishes_while_the_worker_syncs_never_answer_500(demo):
    session = demo.admin_session()
    url = course_edit_url(demo, session)
    pushes_before = pushes(demo)

    answers = []
    for n in range(PUBLISHES):
        answers.append(publish(session, url, f"{COURSE_TITLE} #{n}").status_code)
        # A little over the demo's SYNC_COALESCE_SECONDS (0.5): the worker pushes between two
        # publishes instead of coalescing the whole series into one push, so its writes
        # really meet the next publish's (which is what used to answer 500).
        time.sleep(0.8)
    assert answers == [302] * PUBLISHES, f"publish answers: {answers}"

    # Every publish went through, and the worker wrote its syncs meanwhile: the last title
    # reaches the contents API, after pushes made while the publishes were still coming.
    last = f"{COURSE_TITLE} #{PUBLISHES - 1}"
    deadline = time.monotonic() + 60
    while last not in remote_titles(demo):
        assert time.monotonic() < deadline, f"the last publish never synced: {remote_titles(demo)}"
        time.sleep(0.5)
    assert pushes(demo) - pushes_before >= 2, "the worker did not sync while publishing"


# --- runserver's own log and the callback token -------------------------------------------------



def test_runserver_never_logs_the_callback_token(demo):
    """What Django's dev server prints (``django.server``'s line for every request,
    ``django.request``'s for refusals) for each request that used to print the token."""
    callbacks = f"{demo.base}/kollus/callbacks"
    form = {"content_provider_key": "sandbox-account", "upload_file_key": "ufk-log",
            "filename": "강의 소개"}
    form_type = "application/x-www-form-urlencoded"
    attempts = [
        # (method, url, body, content type, expected answer)
        ("POST", f"{callbacks}/upload/{CALLBACK_TOKEN}/", b"x", "multipart/form-data", 400),
        ("POST", f"{callbacks}/upload/{CALLBACK_TOKEN}/",
         urlencode(form, encoding="euc-kr").encode(), f"{form_type}; charset=EUC-KR", 200),
        ("POST", f"{callbacks}/no-such-kind/{CALLBACK_TOKEN}/", urlencode(form).encode(),
         form_type, 404),
        ("POST", f"{callbacks}/upload/{CALLBACK_TOKEN}", urlencode(form).encode(),
         form_type, 200),
        ("GET", f"{callbacks}/upload/{CALLBACK_TOKEN}/", b"", form_type, 405),
    ]
    log_path = demo.log_path
    start = log_path.stat().st_size
    answers = [
        requests.request(method, url, data=body, headers={"Content-Type": content_type},
                         allow_redirects=False, timeout=30).status_code
        for method, url, body, content_type, _ in attempts
    ]
    assert answers == [expected for *_, expected in attempts]
    # runserver writes its line after answering: wait until the last request is in the log.
    deadline = time.monotonic() + 10
    while True:
        with log_path.open(encoding="utf-8", errors="replace") as log:
            log.seek(start)
            written = log.read()
        if written.count("/kollus/callbacks/") >= len(attempts) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert written.count("/kollus/callbacks/") >= len(attempts), written
    assert "/kollus/callbacks/upload/[redacted]/" in written, written
    assert CALLBACK_TOKEN not in written, written


def test_the_demo_installs_the_sweep_and_serves_the_callback_log(demo):
    # The sweep that runs retries and takes over the work of stopped workers is installed.
    with sqlite3.connect(demo.log_path.parent / "demo.sqlite3") as db:
        rows = db.execute("SELECT func FROM django_q_schedule WHERE name = 'wagtail_kollus: sweep'")
        assert rows.fetchall() == [("wagtail_kollus.sweep.sweep",)]
    callbacks = demo.admin_session().get(demo.base + "/admin/kollus/callbacks/")
    assert callbacks.status_code == 200 and "/admin/kollus/callbacks/results/" in callbacks.text
