"""ContentsClient over real HTTP against the sandbox's contents API."""

import pytest

from wagtail_kollus.accounts import contents_client
from wagtail_kollus.api.contents import ContentsClient
from wagtail_kollus.api.errors import (
    AuthenticationError,
    BadResponseError,
    NotFoundError,
    UnavailableError,
    ValidationError,
)
from wagtail_kollus.api.types import Category, Content

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@pytest.fixture
def client(sandbox):
    return contents_client(sleep=lambda s: None)


def new_payload(client, **extra):
    category = client.list_categories()[0].category_id
    return {
        "content_type": "vod",
        "title": "Made by the client test",
        "description_html": "<p>Hello</p>",
        "category_ids": [category],
        "featured_image": "https://example.com/a.png",
        **extra,
    }


def test_list_contents_returns_typed_page(client):
    page = client.list_contents(limit=5)
    assert len(page.items) == 5
    assert all(isinstance(item, Content) for item in page.items)
    assert page.pagination.per_page == 5 and page.pagination.total >= 5
    assert page.pagination.has_more_pages is True


def test_filters_are_sent_as_the_api_expects(client, sandbox):
    first = client.list_contents(limit=1).items[0]
    ids = first.category_ids
    page = client.list_contents(category_ids=ids, content_type=first.content_type, limit=100)
    assert page.items and all(set(ids) & set(item.category_ids) for item in page.items)
    entry = sandbox.requests[-1]
    assert f"category_ids={'%2C'.join(map(str, ids))}" in entry["query"]


def test_search_and_paging(client):
    title = client.list_contents(limit=1).items[0].title
    found = client.list_contents(search=title[:6], limit=100)
    assert any(item.title == title for item in found.items)
    page2 = client.list_contents(page=2, limit=3)
    assert page2.pagination.current_page == 2


def test_get_content_has_chapters_and_kollus_keys(client):
    vods = client.list_contents(content_type="vod", limit=10).items
    content = client.get_content(vods[0].content_id)
    assert content.content_id == vods[0].content_id
    items = content.chapter_items()
    assert items, "seeded VOD contents have chapter items"
    assert any(item.kollus_media_content_key for item in items)


def test_create_json_and_update_partial(client):
    created = client.create_content(new_payload(client))
    assert created.content_id and created.title == "Made by the client test"
    updated = client.update_content(created.content_id, {"title": "Renamed"})
    assert updated.title == "Renamed"
    assert updated.description_html == "<p>Hello</p>"  # untouched: PUT is partial
    assert client.get_content(created.content_id).title == "Renamed"


def test_create_multipart_with_featured_image_file(client, sandbox, tmp_path):
    image = tmp_path / "cover.png"
    image.write_bytes(PNG)
    payload = new_payload(client, tag_ids=[])
    payload.pop("featured_image")
    created = client.create_content(payload, featured_image_file=image)
    assert created.content_id
    assert created.featured_image  # the sandbox stored the uploaded image and answers its URL
    assert created.category_ids == payload["category_ids"]
    with open(image, "rb") as handle:
        updated = client.update_content(created.content_id, {}, featured_image_file=handle)
    assert updated.featured_image


def test_categories_and_search(client):
    categories = client.list_categories()
    assert categories and all(isinstance(c, Category) for c in categories)
    name = categories[0].name
    assert any(c.name == name for c in client.search_categories(name[:3]))


def test_validation_error_carries_field_errors(client):
    with pytest.raises(ValidationError) as info:
        client.create_content({"title": "no type"})
    assert "content_type" in info.value.field_errors
    assert info.value.status_code == 422
    assert info.value.describe()["field_errors"]["content_type"]


def test_unknown_content_is_not_found(client):
    with pytest.raises(NotFoundError):
        client.get_content(987654321)


def test_wrong_key_is_authentication_error_and_never_printed(sandbox):
    bad = ContentsClient(sandbox.contents_api_url, "wrong-server-key-xyz")
    with pytest.raises(AuthenticationError) as info:
        bad.list_contents()
    assert "wrong-server-key-xyz" not in str(info.value)
    assert "wrong-server-key-xyz" not in repr(bad)


def test_unreadable_and_unavailable_answers(client, sandbox):
    sandbox.faults.set("contents.get", body="html", times=1)
    with pytest.raises(BadResponseError):
        client.get_content(1)
    sandbox.faults.set("contents.list", status=200, body="empty", times=1)
    with pytest.raises(BadResponseError):
        client.list_contents()
    sandbox.faults.set("contents.list", status=503)
    with pytest.raises(UnavailableError):
        client.list_contents()
    assert sandbox.request_count("contents.list") == 1 + 4  # empty once, then 1 + 3 retries
