"""The first hour, as a new user meets it: the product started by ``make demo``'s own launcher
(runserver, ``qcluster``, the sandbox, a file SQLite database), driven in headless Chromium.

One demo for the module; the steps run in order and build on each other, as an editor's first
hour does: upload a video and watch callbacks (not the fallback poll) make it ready, use both
refresh actions, choose a video in the page editor (thumbnails visible), publish one page five
times in a row, watch the published page play, take a page's sync through an API fault and
back, read the statistics report and a video's own page (they agree), then visit every plugin
screen in English (no Hangul or kana outside the data) and in Korean (no plugin string left in
English).
"""

from __future__ import annotations

import ast
import re
import time
from pathlib import Path

import pytest
import requests

from tests.demo_support import RunningDemo, running_demo

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("journey")]

PACKAGE = Path(__file__).resolve().parents[2] / "wagtail_kollus"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SANDBOX_AUTH = {"Authorization": "Bearer sandbox-server-key", "Accept": "application/json"}
COURSE_TITLE = "Course synced to the shop"  # seed_demo's synced course page
VIDEOS_PAGE_TITLE = "Kollus videos"  # seed_demo's page of render-time players
# Hangul, kana and CJK ideographs: none may show in the English admin, outside the data.
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# Template syntax that reached the screen (a comment over two lines, an unclosed tag).
RAW_TEMPLATE = re.compile(r"\{#|#\}|\{%|%\}|\{\{|\}\}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> RunningDemo:
    with running_demo(tmp_path_factory.mktemp("journey")) as running:
        yield running


@pytest.fixture(scope="module")
def editor(browser, demo):
    """One editor's browser for the whole hour, logged in with the login the demo printed."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.console_errors = []
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    page.goto(demo.base + "/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "demo-test-password")
    page.locator("button[type=submit]").click()
    page.wait_for_url(demo.base + "/admin/")
    yield page
    context.close()


@pytest.fixture(autouse=True)
def screenshot_on_failure(request, editor):
    """The editor's screen and its URL when a step fails (tests/artifacts/), to see what they saw."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        editor.screenshot(path=str(ARTIFACTS / f"journey-{request.node.name}.png"), full_page=True)
        (ARTIFACTS / f"journey-{request.node.name}.url").write_text(editor.url)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A small generated "MP4" (the sandbox does not decode it)."""
    path = tmp_path_factory.mktemp("clip") / "first-hour.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(256) * 4096)
    return path


def go(page, url: str):
    """Navigate and insist the answer was not an error page."""
    response = page.goto(url)
    assert response is not None and response.status < 400, f"{url}: {response and response.status}"
    return response


def messages(page) -> str:
    found = page.locator(".messages")
    return found.inner_text() if found.count() else ""


def sandbox_media(demo: RunningDemo, keyword: str) -> list[dict]:
    answer = requests.get(
        demo.sandbox + "/kollus/api/media-contents",
        params={"access_token": "sandbox-access-token", "keyword": keyword},
        timeout=10,
    ).json()["data"]
    return answer.get("items", answer) if isinstance(answer, dict) else answer


def publish_current_page(page) -> None:
    """The editor's "Publish" (in the save button's menu); waits for Wagtail's success.

    Wagtail 8 autosaves a draft half a second after a change. Publishing while that save is
    still on its way (a loaded machine answers slowly) makes Wagtail ask "You saved a new
    version in another window"; an editor would wait for its "Saved", and so does this."""
    page.wait_for_function(
        """(since) => {
            const indicator = document.getElementById('w-autosave-indicator');
            if (!indicator) return true;  // Wagtail before 8: no autosave
            const state = indicator.getAttribute('data-w-autosave-state-value');
            // No save begun 3 s after the change: none is coming (that change is not one
            // autosave keeps).
            return state === 'saved' || state === 'paused'
                || (state !== 'saving' && Date.now() - since > 3000);
        }""",
        arg=time.time() * 1000,
        timeout=30_000,
    )
    page.locator(".w-dropdown-button").get_by_role("button", name="More actions").click()
    with page.expect_navigation() as navigation:
        page.locator("button[name='action-publish']").click()
    response = navigation.value
    assert response is not None and response.status < 400, response and response.status
    assert "/edit/" not in page.url, f"publish did not go through: {messages(page)}"
    assert "published" in messages(page).lower(), messages(page)


# --- the hour, in order ---------------------------------------------------------------------
def test_1_upload_is_ready_through_callbacks(demo, editor, clip):
    page = editor
    go(page, demo.base + "/admin/kollus-videos/new/")
    page.set_input_files("[data-kollus-upload-file]", str(clip))
    page.fill("input[name=title]", "Journey upload")
    started = time.monotonic()
    page.click("[data-kollus-upload-start]")
    page.wait_for_selector("[data-kollus-upload-state-label][data-state=ready]", timeout=60_000)
    elapsed = time.monotonic() - started
    # The fallback poll comes after minutes: ready within seconds means callbacks did it.
    assert elapsed < 30, f"ready only after {elapsed:.0f} s"

    [media] = sandbox_media(demo, "Journey upload")
    log = requests.get(demo.sandbox + "/_sandbox/callbacks", timeout=10).json()["log"]
    ours = [e for e in log if e["fields"].get("upload_file_key") == media["upload_file_key"]]
    assert {e["kind"] for e in ours} >= {"upload", "transcoding"}, ours
    answers = [a["status"] for e in ours for a in e["attempts"]]
    assert answers and all(status == 200 for status in answers), ours
    assert page.console_errors == []


def test_2_both_refresh_actions_report_back(demo, editor):
    page = editor
    # The rows' own menus are in the list layout (the grid is the default).
    library = demo.base + "/admin/kollus-videos/?q=Journey+upload&layout=list"
    go(page, library)
    row = page.locator("tr", has_text="Journey upload")
    row.locator("[data-w-dropdown-target=toggle]").click()
    with page.expect_navigation() as navigation:
        page.get_by_role("link", name="Refresh from Kollus").click()
    assert navigation.value.status < 400
    assert "refreshed from Kollus" in messages(page), messages(page)

    # Nothing in the demo is stuck (every upload got its callbacks), so the library offers no
    # "Refresh all stuck videos" and shows no stuck warning: an action that would only answer
    # "No video is stuck." is not offered (tests/test_media_library_screens.py covers both).
    go(page, demo.base + "/admin/kollus-videos/")
    page.get_by_role("button", name="Actions").click()
    assert page.get_by_role("link", name="Refresh all stuck videos").count() == 0
    assert page.locator("a[href='?stuck=true']").count() == 0  # the stuck warning's link
    assert page.console_errors == []


def edit_url_of(demo: RunningDemo, page, title: str) -> str:
    go(page, demo.base + "/admin/pages/search/?q=" + requests.utils.quote(title))
    href = page.locator("a[href*='/edit/']", has_text=title).first.get_attribute("href")
    return demo.base + href


def test_3_choose_a_video_with_visible_thumbnails(demo, editor):
    page = editor
    go(page, edit_url_of(demo, page, VIDEOS_PAGE_TITLE))
    page.locator("[data-streamfield-stream-container] button[title='Insert a block']").first.click()
    page.get_by_role("option", name="Kollus video").click()
    page.get_by_role("button", name="Choose a video").click()
    modal = page.locator(".modal-content")
    results = modal.locator("#search-results")
    results.locator("img").first.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.modal-content #search-results img')]"
        ".some(img => img.complete && img.naturalWidth > 0)"
    )
    widths = results.locator("img").evaluate_all(
        "imgs => imgs.map(img => img.getBoundingClientRect().width)"
    )
    assert widths and all(width >= 24 for width in widths), f"thumbnails rendered {widths} px wide"

    results.locator("a[href*='/video-chooser/content/']").first.click()
    items = modal.locator("[data-kollus-chooser-items]")
    items.wait_for()
    items.locator("a[data-chooser-modal-choice][href*='/chosen/']").first.click()
    modal.wait_for(state="detached")
    # The chosen video shows its title and poster, as Wagtail's image chooser shows its image.
    chosen = page.locator("[data-chooser-title]").last
    assert chosen.inner_text().strip()
    poster = page.locator("[data-chooser-image]").last
    poster.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chooser-image]')].pop().naturalWidth > 0"
    )
    assert poster.bounding_box()["width"] >= 24
    publish_current_page(page)  # the page now holds the chosen video too
    assert page.console_errors == []


def test_4_five_publishes_in_a_row(demo, editor):
    page = editor
    url = edit_url_of(demo, page, VIDEOS_PAGE_TITLE)
    for n in range(5):
        go(page, url)
        page.fill("#id_title", f"{VIDEOS_PAGE_TITLE} ({n + 1})")
        publish_current_page(page)
    assert page.console_errors == []


def test_5_the_published_page_plays(demo, editor):
    page = editor
    go(page, demo.base + "/videos/")
    frames = page.locator("iframe")
    assert frames.count() >= 2  # the seeded videos and the one chosen above
    for index in range(frames.count()):
        src = frames.nth(index).get_attribute("src")
        assert src.startswith(demo.sandbox + "/player/s?jwt="), src
    frames.last.content_frame.locator("[data-sandbox-player='ok']").wait_for()


def test_6_sync_panel_through_a_fault_and_back(demo, editor):
    page = editor
    url = edit_url_of(demo, page, COURSE_TITLE)
    state = "[data-kollus-sync-state='{}']"
    go(page, url)
    page.locator(state.format("synced")).wait_for()

    # The contents API refuses the next push (a 422 is final: no retry hides it).
    requests.post(demo.sandbox + "/_sandbox/faults",
                  json={"endpoint": "contents.update", "status": 422}, timeout=10)
    try:
        page.fill("#id_title", COURSE_TITLE + " (edited)")
        publish_current_page(page)
        go(page, url)
        page.locator(state.format("failed")).wait_for(timeout=30_000)
        panel = page.locator("[data-kollus-sync-body]").inner_text()
        assert "__all__" not in panel and not re.search(r"\b\w+_\w+:", panel), panel
        # A valid form with a failed sync shows no validation error count anywhere.
        counters = page.locator(".w-tabs__errors:visible, [data-w-count-target]:visible")
        assert counters.count() == 0 or not "".join(counters.all_inner_texts()).strip()
    finally:
        requests.delete(demo.sandbox + "/_sandbox/faults", timeout=10)
    page.get_by_role("button", name="Retry now").click()
    page.locator(state.format("synced")).wait_for(timeout=30_000)
    assert page.console_errors == []


def test_7_statistics_report_and_video_page_agree(demo, editor):
    page = editor
    go(page, demo.base + "/admin/kollus/statistics/?range=30")
    first = page.locator("tr", has=page.locator("a[href*='/statistics/video/']")).first
    link = first.locator("a[href*='/statistics/video/']")
    title = link.inner_text().strip()
    views = int(re.sub(r"\D", "", first.locator("td").nth(2).inner_text()))
    link.click()
    page.wait_for_load_state()
    assert title in page.locator("main").inner_text()
    shown = page.locator("main").inner_text().replace(",", "")
    assert str(views) in shown, f"report says {views} views for {title!r}; the video's page: {shown[:600]}"


# --- every plugin screen, in English and in Korean -------------------------------------------
def plugin_screens(demo: RunningDemo, page) -> list[str]:
    """Every screen the plugin adds, with real ids from the demo."""
    go(page, demo.base + "/admin/kollus-videos/?q=Journey+upload")
    edit = page.locator("a[href*='/admin/kollus-videos/edit/']").first.get_attribute("href")
    pk = re.search(r"/edit/(\d+)/", edit).group(1)
    go(page, demo.base + "/admin/kollus/statistics/")
    video_stats = page.locator("a[href*='/statistics/video/']").first.get_attribute("href")
    return [
        "/admin/",
        "/admin/kollus-videos/",
        "/admin/kollus-videos/new/",
        f"/admin/kollus-videos/edit/{pk}/",
        f"/admin/kollus-videos/usage/{pk}/",
        f"/admin/kollus-videos/replace/{pk}/",
        f"/admin/kollus-videos/delete/{pk}/",
        "/admin/kollus/callbacks/",
        "/admin/kollus/sync/",
        "/admin/kollus/statistics/",
        video_stats,
        edit_url_of(demo, page, COURSE_TITLE).removeprefix(demo.base),
    ]


def data_strings(demo: RunningDemo) -> list[str]:
    """What the sandbox holds (titles, categories, chapters in ko/en/ja): data, not UI text."""
    found: set[str] = {"한국어", "日本語", "English"}
    for language in ("ko", "en", "ja"):
        page = 1
        while True:
            answer = requests.get(
                demo.sandbox + "/api/public/v1/contents",
                params={"language": language, "limit": 100, "page": page},
                headers=SANDBOX_AUTH, timeout=30,
            ).json()
            for content in answer["data"]:
                found.add(content["title"])
                found.update(c["name"] for c in content.get("categories", []))
                found.update(c.get("path", "") for c in content.get("categories", []))
                for chapter in content.get("chapters", []):
                    found.add(chapter["title"])
                    found.update(item["title"] for item in chapter["items"])
            if not answer["pagination"].get("has_more_pages"):
                break
            page += 1
    categories = requests.get(
        demo.sandbox + "/api/public/v1/content-categories", headers=SANDBOX_AUTH, timeout=10
    ).json()["data"]
    found.update(c["name"] for c in categories)
    found.update(c.get("path", "") for c in categories)
    found.update(m["title"] for m in sandbox_media(demo, ""))
    return sorted((s for s in found if s), key=len, reverse=True)


def screen_text(page) -> str:
    return page.evaluate("() => document.body.innerText")


def chooser_texts(demo: RunningDemo, page) -> list[tuple[str, str]]:
    """The chooser modal's two steps (contents, then a content's items), as an editor sees them."""
    go(page, edit_url_of(demo, page, VIDEOS_PAGE_TITLE))
    # Structural selectors: the labels are in the editor's language.
    page.locator("[data-streamfield-stream-container] button.c-sf-add-button").first.click()
    page.get_by_role("option", name=re.compile("Kollus")).click()
    # The new block's button: blocks that already hold a video hide theirs.
    page.locator("[data-chooser-action-choose]:visible").first.click()
    modal = page.locator(".modal-content")
    modal.locator("#search-results").wait_for()
    texts = [("chooser", modal.inner_text())]
    modal.locator("#search-results a[href*='/video-chooser/content/']").first.click()
    modal.locator("[data-kollus-chooser-items]").wait_for()
    texts.append(("chooser items", modal.inner_text()))
    page.keyboard.press("Escape")
    return texts


def screen_texts(demo: RunningDemo, page) -> list[tuple[str, str]]:
    """(where, visible text) of every plugin screen and of the chooser modal."""
    texts = []
    for url in plugin_screens(demo, page):
        go(page, demo.base + url)
        texts.append((url, screen_text(page)))
    return texts + chooser_texts(demo, page)


def without(text: str, strings: list[str]) -> str:
    for string in strings:
        text = text.replace(string, " ")
    return text


def _po_string(lines: list[str]) -> str:
    return "".join(ast.literal_eval(line) for line in lines)


def plugin_msgids() -> set[str]:
    """Every msgid of the plugin's Korean catalogue whose translation differs from the English,
    or is missing: read from the .po (a compiled .mo leaves untranslated strings out)."""
    msgids: set[str] = set()
    source = (PACKAGE / "locale" / "ko" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    for entry in source.split("\n\n"):
        fields: dict[str, list[str]] = {}
        current = None
        for line in entry.splitlines():
            if line.startswith("#"):
                continue
            keyword, _, rest = line.partition(" ")
            if keyword in ("msgid", "msgstr", "msgid_plural", "msgstr[0]", "msgctxt"):
                current = fields.setdefault(keyword, [])
                current.append(rest)
            elif line.startswith('"') and current is not None:
                current.append(line)
        msgid = _po_string(fields.get("msgid", ['""']))
        msgstr = _po_string(fields.get("msgstr", fields.get("msgstr[0]", ['""'])))
        if msgid and msgstr != msgid:
            msgids.add(msgid)
    return msgids


def english_fragments(msgid: str) -> list[str]:
    """The fixed parts of a msgid long enough to be recognised on a screen."""
    parts = re.split(r"%\(\w+\)[sdr]|%[sdr]|\{\w*\}|<[^>]+>", msgid)
    return [p.strip() for p in parts if len(p.strip()) >= 14 and len(p.split()) >= 3]


def test_8_every_plugin_screen_in_english(demo, editor):
    page = editor
    data = data_strings(demo)
    problems = []
    for url, text in screen_texts(demo, page):
        if CJK.search(without(text, data)):
            left = without(text, data)
            problems.append((url, "Hangul/kana", sorted(set(CJK.findall(left)))[:10]))
        if RAW_TEMPLATE.search(text):
            problems.append((url, "template syntax", RAW_TEMPLATE.findall(text)[:5]))
    assert not problems, problems


def test_9_every_plugin_screen_in_korean(demo, editor):
    page = editor
    go(page, demo.base + "/admin/account/")
    page.locator("select[name='locale-preferred_language']").select_option("ko")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    go(page, demo.base + "/admin/")
    assert page.evaluate("() => document.documentElement.lang") == "ko"
    try:
        data = data_strings(demo)
        fragments = {f: m for m in plugin_msgids() for f in english_fragments(m)}
        problems = []
        for url, text in screen_texts(demo, page):
            text = without(text, data)
            for fragment, msgid in fragments.items():
                if fragment in text:
                    problems.append((url, msgid))
            if RAW_TEMPLATE.search(text):
                problems.append((url, "template syntax"))
        assert not problems, problems
    finally:
        go(page, demo.base + "/admin/account/")
        page.locator("select[name='locale-preferred_language']").select_option("en")
        page.locator("form button[type=submit]").last.click()
