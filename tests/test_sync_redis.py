"""Scale-out: django-q2 with a real Redis broker and several workers (docs/sync.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_course, publish
from tests.sync_support import link_of, synced_link
from wagtail_kollus.models import PageContentLink
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


def test_a_push_whose_job_redis_lost_is_told_so_and_retry_now_runs_it(
    synced, redis_server, admin_client
):
    """The trial: a cluster killed with jobs taken off the Redis list; Redis hands none of them
    out again. Here the lost page's job went to the ORM queue, which no cluster reads."""
    lost = publish(make_course("Lost job"))
    PageContentLink.objects.filter(page_key=lost.pk).update(
        requested_at=timezone.now() - timedelta(minutes=6)
    )
    status_url = reverse("wagtail_kollus_sync:status", args=[lost.pk])
    assert admin_client.get(status_url).json()["worker_silent"] is True  # nothing ran yet
    connection = {k: v for k, v in redis_server.items() if k != "url"}
    with running_cluster(ORM=None, REDIS=connection, WORKERS=2):
        synced_link(publish(make_course("Another page")))
        status = admin_client.get(status_url).json()
        assert (status["state"], status["worker_silent"], status["waiting_behind"]) == (
            "pending",
            False,
            True,
        )
        assert "the sweep queues it again by" in status["html"]
        retried = admin_client.post(
            reverse("wagtail_kollus_sync:retry", args=[lost.pk]), HTTP_ACCEPT="application/json"
        )
        assert retried.status_code == 200
        assert synced_link(lost).state == "synced"
    assert link_of(lost).attempts == 0
