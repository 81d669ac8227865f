"""Scale-out: django-q2 with a real Redis broker and several workers (docs/sync.md)."""

from __future__ import annotations

import pytest

from tests.factories import make_course, publish
from tests.sync_support import synced_link
from wagtail_kollus.testing import running_cluster

pytestmark = [pytest.mark.redis, pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


def test_several_workers_on_redis_sync_each_page_once(synced, redis_server):
    pages = [make_course(f"Course {n}") for n in range(6)]
    connection = {k: v for k, v in redis_server.items() if k != "url"}  # Redis() kwargs
    with running_cluster(ORM=None, REDIS=connection, WORKERS=3):
        for page in pages:
            publish(page)
            publish(page, intro="<p>Second edit</p>")  # two jobs per page race for it
        links = [synced_link(page, version=2) for page in pages]
        import redis

        # The jobs really went through Redis (the ORM broker would leave no trace there).
        commands = redis.Redis(**connection).info("commandstats")
        assert commands["cmdstat_rpush"]["calls"] >= 12
    assert len({link.content_id for link in links}) == 6
    markers = [c["extra"].get("external_id") for c in synced.state.contents.values()]
    assert sorted(m for m in markers if m) == sorted(link.marker for link in links)
    for link in links:
        record = synced.state.render_content(synced.state.contents[link.content_id])
        assert record["description_html"] == "<p>Second edit</p>"
