"""The admin listings show a page of a large table by index: no sort of the whole table, no
``SELECT DISTINCT`` over it for a filter's choices, no count of it on every load.

Plans are read with SQLite's ``EXPLAIN QUERY PLAN`` on the query each listing runs for its
page; the PostgreSQL plans (and timings at 50 000 rows) are in ``make bench ONLY=scale``.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wagtail_kollus.media.filters import forget_live_media_count
from wagtail_kollus.models import (
    CallbackDelivery,
    KollusMedia,
    KollusMediaCategory,
    MediaState,
    PageContentLink,
)

pytestmark = pytest.mark.django_db

MEDIA_TABLE = KollusMedia._meta.db_table


def page_queries(client, url: str, table: str, params: dict | None = None) -> list[dict]:
    client.get(url, params or {})  # warm: what is kept between loads is not counted
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return [q for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]


def plan(sql: str) -> str:
    if connection.vendor != "sqlite":
        pytest.skip("reads SQLite's query plans")
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


def the_page(queries: list[dict]) -> str:
    pages = [q["sql"] for q in queries if "LIMIT" in q["sql"] and "COUNT(" not in q["sql"]]
    assert len(pages) == 1, pages
    return pages[0]


@pytest.fixture
def library():
    states = [MediaState.READY, MediaState.TRANSCODING, MediaState.DELETED]
    KollusMedia.objects.bulk_create(
        KollusMedia(
            title=f"Video {n}",
            upload_file_key=f"ufk-{n}",
            state=states[n % 3],
            category_key=f"cat-{n % 4}",
            category_name=f"Category {n % 4}",
        )
        for n in range(90)
    )
    KollusMediaCategory.objects.bulk_create(
        KollusMediaCategory(category_key=f"cat-{n}", name=f"Category {n}") for n in range(4)
    )
    # bulk_create sends no post_save, and the library's count is cached per process: an
    # earlier test on this worker may have left its own count there.
    forget_live_media_count()


@pytest.mark.parametrize("params", [{}, {"state": "ready"}, {"category_key": "cat-2"}])
def test_a_library_page_is_read_by_index(admin_client, library, params):
    queries = page_queries(admin_client, reverse("kollus_media:index"), MEDIA_TABLE, params)

    page_plan = plan(the_page(queries))
    assert "TEMP B-TREE" not in page_plan, page_plan
    assert "USING INDEX" in page_plan or "USING COVERING INDEX" in page_plan, page_plan


def test_a_warm_library_load_neither_counts_nor_lists_every_video(admin_client, library):
    queries = page_queries(admin_client, reverse("kollus_media:index"), MEDIA_TABLE)

    sql = [q["sql"] for q in queries]
    # The category filter's choices come from the category mirror, not from the videos.
    assert not [s for s in sql if "DISTINCT" in s], sql
    # The whole library's count is kept; only the few unfinished videos are counted (stuck).
    counts = [s for s in sql if "COUNT(" in s]
    assert len(counts) == 1 and "transcoding" in counts[0], counts


def test_the_kept_count_follows_new_and_deleted_videos(admin_client, library):
    url = reverse("kollus_media:index")

    def shown_count() -> int:
        return admin_client.get(url).context["items_count"]

    assert shown_count() == 60  # 90 rows, a third of them deleted
    media = KollusMedia.objects.create(title="New one", state=MediaState.READY)
    assert shown_count() == 61
    media.state = MediaState.DELETED
    media.save()
    assert shown_count() == 60


def test_the_category_filter_offers_the_mirror(admin_client, library):
    html = admin_client.get(reverse("kollus_media:index")).content.decode()
    filtered = admin_client.get(reverse("kollus_media:index"), {"category_key": "cat-2"})

    assert 'value="cat-3"' in html and "Category 3" in html
    assert filtered.context["items_count"] == len(
        [m for m in KollusMedia.objects.exclude(state="deleted") if m.category_key == "cat-2"]
    )


@pytest.fixture
def deliveries():
    from wagtail_kollus.models import CallbackKind, DeliveryStatus

    CallbackDelivery.objects.bulk_create(
        CallbackDelivery(
            kind=CallbackKind.TRANSCODING if n % 2 else CallbackKind.UPLOAD,
            fingerprint=f"fp-{n}",
            upload_file_key=f"ufk-{n}",
            status=DeliveryStatus.FAILED if n % 5 == 0 else DeliveryStatus.PROCESSED,
        )
        for n in range(80)
    )


@pytest.mark.parametrize("params", [{}, {"status": "failed"}, {"kind": "upload"}])
def test_a_callback_log_page_is_read_by_index(admin_client, deliveries, params):
    queries = page_queries(
        admin_client,
        reverse("wagtail_kollus_callbacks:index"),
        CallbackDelivery._meta.db_table,
        params,
    )

    page_plan = plan(the_page(queries))
    assert "TEMP B-TREE" not in page_plan, page_plan


def test_the_sync_report_takes_its_page_types_from_the_registry(admin_client):
    PageContentLink.objects.bulk_create(
        PageContentLink(page_key=n, page_type="testapp.coursepage", state="pending")
        for n in range(30)
    )

    queries = page_queries(
        admin_client, reverse("wagtail_kollus_sync:report"), PageContentLink._meta.db_table
    )
    html = admin_client.get(reverse("wagtail_kollus_sync:report")).content.decode()

    assert not [q for q in queries if "DISTINCT" in q["sql"]]
    assert 'value="testapp.coursepage"' in html


def test_the_stuck_count_reads_only_the_stuck_videos_by_index(admin_client):
    # On every load of the library. Without its index every unfinished video was read from the
    # table to compare its date: ~9 ms on PostgreSQL with 2 000 of 50 000 videos transcoding.
    KollusMedia.objects.bulk_create(
        KollusMedia(
            title=f"Video {n}",
            upload_file_key=f"ufk-{n}",
            state=MediaState.TRANSCODING if n % 25 == 0 else MediaState.READY,
        )
        for n in range(500)
    )
    queries = page_queries(admin_client, reverse("kollus_media:index"), MEDIA_TABLE)
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"]]
    assert len(counts) == 1, counts

    count_plan = plan(counts[0])
    assert "kollus_media_stuck_idx" in count_plan, count_plan
    assert "<expr><" in count_plan, count_plan  # the date is compared in the index
