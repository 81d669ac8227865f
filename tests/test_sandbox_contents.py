"""The sandbox's contents API over real HTTP: filters, pagination, errors, create/update rules."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

SEED_DOC = Path("/work/shared/seeds/004_a4812b6e37cee97e.txt")


@pytest.fixture
def api(sandbox):
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {sandbox.keys.server_key}", "Accept": "application/json"})
    base = sandbox.contents_api_url

    class Api:
        server = sandbox

        def get(self, path, **params):
            return session.get(base + path, params=params, timeout=5)

        def post(self, path, **kwargs):
            return session.post(base + path, timeout=5, **kwargs)

        def put(self, path, **kwargs):
            return session.put(base + path, timeout=5, **kwargs)

    yield Api()
    session.close()


def _new_payload(**overrides):
    payload = {
        "content_type": "vod",
        "title": "New class",
        "description_html": "<p>x</p>",
        "category_ids": [11],
        "featured_image": "https://example.com/main.jpg",
    }
    payload.update(overrides)
    return payload


# --- auth ------------------------------------------------------------------------------
@pytest.mark.parametrize("header", [None, "Bearer wrong-key", "Basic sandbox-server-key"])
def test_bad_or_missing_key_is_401(sandbox, header):
    headers = {"Accept": "application/json"}
    if header:
        headers["Authorization"] = header
    answer = requests.get(sandbox.contents_api_url + "/contents", headers=headers, timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {"message": "Unauthenticated."}


# --- list ------------------------------------------------------------------------------
def test_list_envelope_and_record_fields(api):
    body = api.get("/contents").json()
    assert set(body["pagination"]) == {"current_page", "per_page", "total", "last_page", "from", "to", "has_more_pages"}
    assert body["pagination"]["per_page"] == 20 and len(body["data"]) == 20
    record = body["data"][0]
    assert list(record) == [
        "content_id", "title", "description_html", "content_type", "status", "language",
        "category_ids", "categories", "tag_ids", "featured_image", "images", "base_price",
        "sale_price", "is_on_sale", "is_free", "connected_membership_ids", "options",
        "chapters", "created_at", "updated_at",
    ]  # fmt: skip
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", record["created_at"])
    assert record["language"] == "ko"
    assert {c["category_id"] for c in record["categories"]} == set(record["category_ids"])


def test_pagination_walks_every_record_once(api):
    first = api.get("/contents", limit=100).json()
    total = first["pagination"]["total"]
    seen = []
    for page in range(1, first["pagination"]["last_page"] + 1):
        body = api.get("/contents", limit=100, page=page).json()
        seen += [r["content_id"] for r in body["data"]]
        assert body["pagination"]["has_more_pages"] is (page < body["pagination"]["last_page"])
    assert len(seen) == len(set(seen)) == total
    past_end = api.get("/contents", page=999).json()
    assert past_end["data"] == [] and past_end["pagination"]["from"] is None


@pytest.mark.parametrize("limit", ["101", "0", "abc"])
def test_bad_limit_is_422_with_field_error(api, limit):
    answer = api.get("/contents", limit=limit)
    assert answer.status_code == 422
    assert "limit" in answer.json()["errors"]


def test_limit_100_is_allowed(api):
    assert len(api.get("/contents", limit=100).json()["data"]) == 100


@pytest.mark.parametrize("field,value", [("status", "paused"), ("content_type", "offline")])
def test_scalar_filters(api, field, value):
    body = api.get("/contents", **{field: value}, limit=100).json()
    assert body["data"] and all(r[field] == value for r in body["data"])
    everything = api.get("/contents", limit=100).json()["pagination"]["total"]
    assert body["pagination"]["total"] < everything


@pytest.mark.parametrize("language", ["en", "ja"])
def test_language_filter_returns_translated_records(api, language):
    body = api.get("/contents", language=language, limit=100).json()
    assert body["data"] and all(r["language"] == language for r in body["data"])
    ko_total = api.get("/contents").json()["pagination"]["total"]
    assert body["pagination"]["total"] != ko_total


def test_get_in_another_language(api):
    record = api.get("/contents", language="en").json()["data"][0]
    one = api.get(f"/contents/{record['content_id']}", language="en").json()["data"]
    assert one["title"] == record["title"] and one["language"] == "en"


def test_the_control_api_deletes_a_record_as_the_contents_site_would(api):
    record = api.get("/contents", language="ko").json()["data"][0]
    total = api.get("/contents", language="ko").json()["pagination"]["total"]
    control = f"{api.server.base_url}/_sandbox/contents/{record['content_id']}"

    assert requests.delete(control, timeout=5).json() == {"deleted": record["content_id"]}
    assert api.get(f"/contents/{record['content_id']}").status_code == 404
    assert api.get("/contents", language="ko").json()["pagination"]["total"] == total - 1
    assert requests.delete(control, timeout=5).status_code == 404
    assert requests.delete(api.server.base_url + "/_sandbox/contents/x", timeout=5).status_code == 404


def test_category_filters(api):
    single = api.get("/contents", category_id=2, limit=100).json()
    assert single["data"] and all(2 in r["category_ids"] for r in single["data"])
    spellings = [
        {"category_ids": "2,5"},
        [("category_ids[]", "2"), ("category_ids[]", "5")],
        [("category_ids", "2"), ("category_ids", "5")],
    ]
    totals = set()
    for params in spellings:
        body = api.get("/contents", **params) if isinstance(params, dict) else api.get("/contents?" + "&".join(f"{k}={v}" for k, v in params))
        assert all({2, 5} & set(r["category_ids"]) for r in body.json()["data"])
        totals.add(body.json()["pagination"]["total"])
    assert len(totals) == 1
    assert totals.pop() > single["pagination"]["total"]


def test_tag_filters(api):
    one = api.get("/contents", tag_id=23, limit=100).json()
    assert one["data"] and all(r["tag_ids"] == [23] for r in one["data"])
    many = api.get("/contents?tag_ids[]=23&tag_ids[]=24&limit=100").json()
    assert {t for r in many["data"] for t in r["tag_ids"]} == {23, 24}
    assert many["pagination"]["total"] > one["pagination"]["total"]


def test_search_is_case_insensitive_title_substring(api):
    body = api.get("/contents", search="PHOTOSHOP", language="en", limit=100).json()
    assert body["data"] and all("photoshop" in r["title"].lower() for r in body["data"])
    assert api.get("/contents", search="no-such-title-xyz").json()["data"] == []


def test_seed_has_hostile_titles_and_non_kollus_items(api):
    titles = {r["title"] for p in (1, 2, 3) for r in api.get("/contents", limit=100, page=p).json()["data"]}
    assert "<img src=x onerror=alert(1)>" in titles
    vods = api.get("/contents", content_type="vod", limit=100).json()["data"]
    urls = [i["media_url"] for r in vods for c in r["chapters"] for i in c["items"]]
    assert any("youtube.com" in u for u in urls)
    assert any(u.startswith(api.server.player_url + "/") for u in urls)
    assert any(len(r["chapters"]) == 1 and len(r["chapters"][0]["items"]) == 1 for r in vods)


def test_seeded_media_urls_point_at_known_players(api):
    vods = api.get("/contents", content_type="vod", limit=20).json()["data"]
    url = next(i["media_url"] for r in vods for c in r["chapters"] for i in c["items"] if i["media_source_type"] == "kollus" and i["duration_text"])
    page = requests.get(url, timeout=5)
    assert page.status_code in (200, 403)  # 403: the secured channel wants a signed URL
    assert "data-sandbox-player" in page.text


# --- get -------------------------------------------------------------------------------
def test_get_unknown_is_404(api):
    answer = api.get("/contents/1")
    assert answer.status_code == 404 and "message" in answer.json()


# --- create ----------------------------------------------------------------------------
def test_create_json_and_read_back_with_extra_marker(api):
    answer = api.post("/contents", json=_new_payload(external_id="page-42-rev-7", tag_ids=[23]))
    assert answer.status_code == 201, answer.text
    record = answer.json()["data"]
    assert record["status"] == "pending" and record["external_id"] == "page-42-rev-7"
    again = api.get(f"/contents/{record['content_id']}").json()["data"]
    assert again == record
    found = api.get("/contents", search="New class").json()["data"]
    assert [r["content_id"] for r in found] == [record["content_id"]]


def test_create_requires_fields(api):
    answer = api.post("/contents", json={})
    assert answer.status_code == 422
    assert {"content_type", "title", "description_html", "category_ids", "featured_image"} <= set(answer.json()["errors"])


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"tag_ids": [23, 24]}, "tag_ids"),
        ({"content_type": "offline", "chapters": []}, "chapters"),
        ({"category_ids": [999]}, "category_ids.0"),
        ({"status": "weird"}, "status"),
        ({"installment_month": 37}, "installment_month"),
        ({"chapters": [{"title": "", "items": []}]}, "chapters.0.title"),
        # The real API's required fields are "required" in Laravel's sense: not blank.
        ({"description_html": ""}, "description_html"),
        ({"description_html": "  "}, "description_html"),
        ({"category_ids": []}, "category_ids"),
        ({"featured_image": ""}, "featured_image"),
    ],
)
def test_create_validation_errors(api, overrides, field):
    answer = api.post("/contents", json=_new_payload(**overrides))
    assert answer.status_code == 422
    assert field in answer.json()["errors"]


def test_create_multipart_with_image_file(api):
    answer = api.post(
        "/contents",
        data={"content_type": "offline", "title": "Workshop", "description_html": "<p>y</p>", "category_ids[]": ["1", "2"], "tag_ids[]": "23"},
        files={"featured_image": ("main.png", io.BytesIO(b"\x89PNG fake"), "image/png")},
    )
    assert answer.status_code == 201, answer.text
    record = answer.json()["data"]
    assert record["category_ids"] == [1, 2] and record["tag_ids"] == [23]
    image = requests.get(record["featured_image"], timeout=5)
    assert image.content == b"\x89PNG fake"


def test_create_vod_with_chapters_numbers_them(api):
    chapters = [{"title": "One", "items": [{"title": "a", "media_url": "https://v.kr.kollus.com/abc"}]}]
    record = api.post("/contents", json=_new_payload(chapters=chapters)).json()["data"]
    item = record["chapters"][0]["items"][0]
    assert record["chapters"][0]["chapter_id"] and item["item_id"]
    assert item["media_url"] == "https://v.kr.kollus.com/abc" and item["is_preview"] is False


# --- update ----------------------------------------------------------------------------
@pytest.fixture
def created(api):
    return api.post("/contents", json=_new_payload(tag_ids=[23], images=["https://e/1.jpg"], connected_membership_ids=[1, 2])).json()["data"]


def test_put_is_partial(api, created):
    answer = api.put(f"/contents/{created['content_id']}", json={"title": "Renamed"})
    record = answer.json()["data"]
    assert answer.status_code == 200 and record["title"] == "Renamed"
    assert record["description_html"] == created["description_html"]
    assert record["tag_ids"] == [23] and record["images"] == ["https://e/1.jpg"]
    assert record["updated_at"] > created["updated_at"]
    assert record["created_at"] == created["created_at"]


def test_put_replace_rules(api, created):
    cid = created["content_id"]
    record = api.put(f"/contents/{cid}", json={"category_ids": [2, 3], "images": [], "connected_membership_ids": [5], "options": [{"name": "A"}]}).json()["data"]
    assert record["category_ids"] == [2, 3] and record["images"] == []
    assert record["connected_membership_ids"] == [5] and record["options"] == [{"name": "A"}]
    assert api.put(f"/contents/{cid}", json={"tag_ids": []}).json()["data"]["tag_ids"] == []
    assert api.put(f"/contents/{cid}", json={"tag_ids": [24]}).json()["data"]["tag_ids"] == [24]


def test_put_chapters_sync_keeps_sent_ids(api, created):
    cid = created["content_id"]
    first = api.put(f"/contents/{cid}", json={"chapters": [{"title": "A", "items": [{"title": "x"}, {"title": "y"}]}]}).json()["data"]
    chapter = first["chapters"][0]
    kept = {"chapter_id": chapter["chapter_id"], "title": "A2", "items": [{"item_id": chapter["items"][1]["item_id"], "title": "y2"}]}
    second = api.put(f"/contents/{cid}", json={"chapters": [kept]}).json()["data"]
    assert second["chapters"][0]["chapter_id"] == chapter["chapter_id"]
    assert [(i["item_id"], i["title"]) for i in second["chapters"][0]["items"]] == [(chapter["items"][1]["item_id"], "y2")]


def test_put_cannot_change_content_type(api, created):
    answer = api.put(f"/contents/{created['content_id']}", json={"content_type": "live"})
    assert answer.status_code == 422 and "content_type" in answer.json()["errors"]
    same = api.put(f"/contents/{created['content_id']}", json={"content_type": "vod", "title": "ok"})
    assert same.status_code == 200


def test_put_chapters_on_offline_is_422(api):
    offline = api.get("/contents", content_type="offline").json()["data"][0]
    answer = api.put(f"/contents/{offline['content_id']}", json={"chapters": []})
    assert answer.status_code == 422 and "chapters" in answer.json()["errors"]


def test_put_unknown_is_404(api):
    assert api.put("/contents/1", json={"title": "x"}).status_code == 404


def test_reset_restores_the_seed(api, created):
    assert api.get(f"/contents/{created['content_id']}").status_code == 200
    api.server.reset()
    assert api.get(f"/contents/{created['content_id']}").status_code == 404


# --- categories ------------------------------------------------------------------------
def test_categories_and_search(api):
    rows = api.get("/content-categories").json()["data"]
    assert len(rows) == 12 and any(r["parent_category_id"] for r in rows)
    assert set(rows[0]) == {"category_id", "parent_category_id", "name", "description", "path"}
    found = api.get("/content-categories/search", query="photo").json()["data"]
    assert {r["name"] for r in found} == {"Photoshop", "사진 Photography"}


# --- the seed document's curl examples, verbatim except host and key ---------------------
def _seed_curls() -> list[str]:
    text = SEED_DOC.read_text(encoding="utf-8")
    return re.findall(r"curl -X .*?(?=\n[^\s\-\"'{}\[\]a-z]|\Z)", text, flags=re.S)


@pytest.mark.skipif(not shutil.which("curl") or not SEED_DOC.exists(), reason="needs curl and the seed document")
def test_seed_curl_examples_work(sandbox):
    commands = _seed_curls()
    assert len(commands) == 3
    for command in commands:
        command = command.replace("https://{site_host}/api/public/v1", sandbox.contents_api_url)
        command = command.replace("{SERVER_PRIVATE_API_KEY}", sandbox.keys.server_key)
        command = command.replace("\\\n", " ") + " -s -w '\\n%{http_code}'"
        result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=20)
        body, _, status = result.stdout.rpartition("\n")
        assert status in ("200", "201"), (command, result.stdout)
        data = json.loads(body)["data"]
        if "-X PUT" in command:
            assert data["title"] == "포토샵 입문 클래스 v2" and data["category_ids"] == [11, 12]
        if "-X POST" in command:
            assert data["title"] == "포토샵 입문 클래스" and data["sale_price"] == 29000
