"""Scale-out: django-q2 with a real Redis broker and several workers (docs/sync.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from tests.cluster_support import jobs_started
from tests.factories import make_course, publish
from tests.sync_support import link_of, synced_link
from wagtail_kollus.leases import EMPTY_QUEUE_LOST_JOB_SECONDS, LOST_JOB_SECONDS
from wagtail_kollus.models import PageContentLink
from wagtail_kollus.sweep import sweep
from wagtail_kollus.sync.jobs import SYNC_TASK
from wagtail_kollus.testing import kill_cluster, q_conf, running_cluster, wait_for

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


# --- lost jobs: the sweep's shorter wait while the Redis list is empty ----------------------------
#: Past the sweep's wait for a job while the broker's queue is empty, well short of the long one.
WAITED = timedelta(seconds=EMPTY_QUEUE_LOST_JOB_SECONDS + 60)


def redis_conf(redis_server) -> dict:
    """``Conf`` overrides that queue through this Redis (``Redis()`` kwargs)."""
    return {"ORM": None, "REDIS": {k: v for k, v in redis_server.items() if k != "url"}}


def redis_list(redis_server) -> list[bytes]:
    """The jobs waiting in the cluster's Redis list (django-q2's key for it)."""
    import redis
    from django_q.conf import Conf

    client = redis.Redis.from_url(redis_server["url"])
    return client.lrange(f"django_q:{Conf.CLUSTER_NAME}:q", 0, -1)


def requested_long_ago(*pages) -> None:
    PageContentLink.objects.filter(page_key__in=[p.pk for p in pages]).update(
        requested_at=timezone.now() - WAITED
    )


@pytest.fixture
def jobs_run(tmp_path):
    """``func args`` of every job a worker starts (written by the forked worker itself)."""
    with jobs_started(tmp_path / "jobs-run") as started:
        yield lambda: [job for _pid, job in started()]


def hold_the_only_worker(seconds: float) -> None:
    """Keep a one-worker cluster busy, so the jobs queued next wait in its own queue
    (django-q2's ``queue_limit``, and the one its pusher holds) after leaving Redis."""
    async_task("time.sleep", seconds)


def test_a_cluster_killed_with_prefetched_jobs_loses_them_and_the_sweep_requeues_them_early(
    synced, redis_server, jobs_run
):
    pages = [make_course(f"Prefetched {n}") for n in range(2)]
    with running_cluster(**redis_conf(redis_server), WORKERS=1) as cluster:
        hold_the_only_worker(20)
        wait_for(lambda: "time.sleep 20" in jobs_run(), message="the worker did not start")
        for page in pages:
            publish(page)
        # The cluster took both jobs off the list (one in its queue, one in its pusher's hand).
        wait_for(lambda: not redis_list(redis_server), message="the pusher took nothing")
        kill_cluster(cluster)  # kill -9: its jobs are gone; Redis hands nothing out again
    assert not any(SYNC_TASK in job for job in jobs_run())
    assert all(link_of(p).claimed_until is None and link_of(p).is_outstanding for p in pages)

    requested_long_ago(*pages)  # 6 minutes: the old sweep waited 15 for these
    assert timedelta(seconds=LOST_JOB_SECONDS) > WAITED
    with q_conf(**redis_conf(redis_server)):
        # Nothing waits in Redis: what nobody claimed for 6 minutes was lost.
        assert sweep() == "queued 2 page sync(s) and 0 callback delivery(ies)"
        assert len(redis_list(redis_server)) == 2
    with running_cluster(**redis_conf(redis_server), WORKERS=1):
        links = [synced_link(page) for page in pages]
    assert [link.attempts for link in links] == [0, 0]
    assert synced.request_count("contents.create") == 2


def test_the_sweep_leaves_a_job_waiting_in_redis_to_the_long_wait(synced, redis_server):
    page = make_course("Behind a backlog")
    with q_conf(**redis_conf(redis_server)):
        publish(page)  # no cluster runs: its job waits in the list
        requested_long_ago(page)
        assert len(redis_list(redis_server)) == 1
        assert sweep() == "queued 0 page sync(s) and 0 callback delivery(ies)"
        assert len(redis_list(redis_server)) == 1
        # A pusher takes it and is killed: the list is empty, the job lost.
        import redis
        from django_q.conf import Conf

        redis.Redis.from_url(redis_server["url"]).lpop(f"django_q:{Conf.CLUSTER_NAME}:q")
        assert sweep() == "queued 1 page sync(s) and 0 callback delivery(ies)"
        # Queued once, then left to that job for LOST_JOB_SECONDS (no flood).
        assert sweep() == "queued 0 page sync(s) and 0 callback delivery(ies)"
        assert len(redis_list(redis_server)) == 1


def test_a_job_queued_early_next_to_one_a_live_cluster_holds_pushes_once(
    synced, redis_server, jobs_run
):
    """The early wait's price: the job was not lost but in a busy cluster's own queue. Two
    jobs for one page run; the first pushes, the second finds nothing to do."""
    page = make_course("Slow cluster")
    with running_cluster(**redis_conf(redis_server), WORKERS=1):
        hold_the_only_worker(8)
        wait_for(lambda: "time.sleep 8" in jobs_run(), message="the worker did not start")
        publish(page)
        wait_for(lambda: not redis_list(redis_server), message="the pusher took nothing")
        requested_long_ago(page)
        assert sweep() == "queued 1 page sync(s) and 0 callback delivery(ies)"
        synced_link(page)
        sync_job = f"{SYNC_TASK} {page.pk}"
        wait_for(
            lambda: jobs_run().count(sync_job) == 2, timeout=30, message="one job did not run"
        )
        wait_for(lambda: link_of(page).claimed_until is None, message="still held")
    assert link_of(page).state == "synced" and link_of(page).swept_at is None
    assert synced.request_count("contents.create") == 1
    assert synced.request_count("contents.update") == 0
