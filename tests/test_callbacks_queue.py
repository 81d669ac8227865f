"""How a callback is written and queued: the statements it costs, the django-q2 package it
leaves, and what concurrent deliveries do. The endpoint's answers are in ``test_callbacks.py``.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_q.models import OrmQ
from django_q.signals import pre_enqueue

from tests.media_support import PAYLOADS, post
from wagtail_kollus.media import jobs
from wagtail_kollus.media.callbacks import record_delivery
from wagtail_kollus.models import CallbackDelivery, DeliveryStatus
from wagtail_kollus.models.callbacks import prepare_insert


def statements(queries: CaptureQueriesContext) -> list[str]:
    """The first word of each statement (SAVEPOINT, INSERT, UPDATE…)."""
    return [q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries]


@pytest.mark.django_db
def test_a_first_delivery_costs_two_inserts_and_no_read(client):
    post(client, "transcoding")  # the first request of a process also loads the URLconf…
    with CaptureQueriesContext(connection) as queries:
        response = post(client, "transcoding", upload_file_key="ufk-2")
    assert response.status_code == 200
    # Inside the test's transaction ``atomic`` is a savepoint; in production, BEGIN/COMMIT.
    assert statements(queries) == ["SAVEPOINT", "INSERT", "INSERT", "RELEASE"]
    assert "wagtail_kollus_callbackdelivery" in queries.captured_queries[1]["sql"]
    assert OrmQ._meta.db_table in queries.captured_queries[2]["sql"]


@pytest.mark.django_db
def test_a_duplicate_costs_one_failed_insert_and_one_update(client):
    post(client, "transcoding")
    with CaptureQueriesContext(connection) as queries:
        assert post(client, "transcoding").status_code == 200
    # The failed INSERT is rolled back with its savepoint; the second savepoint holds the
    # times_received update. No queue row.
    assert statements(queries).count("INSERT") == 1
    assert statements(queries).count("UPDATE") == 1
    assert "SELECT" not in statements(queries)
    assert OrmQ.objects.count() == 1


@pytest.mark.django_db
def test_the_queue_row_is_the_package_async_task_would_write():
    """The endpoint writes django-q2's queue row itself: it must be the same package."""
    jobs.enqueue_now("process_callback", "f" * 64)  # django-q2's own async_task
    record_delivery("upload", dict(PAYLOADS["upload"]))
    theirs, ours = (q for q in OrmQ.objects.order_by("pk"))
    assert ours.key == theirs.key
    assert ours.lock is not None
    for task in (theirs.task, ours.task):
        assert task["id"] and task["name"] and task["started"]
    unique = {"id", "name", "started", "args"}
    assert {k: v for k, v in ours.task.items() if k not in unique} == {
        k: v for k, v in theirs.task.items() if k not in unique
    }
    delivery = CallbackDelivery.objects.get()
    assert ours.task["args"] == (delivery.fingerprint,)


@pytest.mark.django_db
def test_pre_enqueue_listeners_hear_only_queued_tasks_and_may_change_them(client):
    heard = []

    def listener(sender, task, **kwargs):
        heard.append(task["args"])
        task["hook"] = "tests.hooks.not_called"  # a listener may add options before signing

    pre_enqueue.connect(listener)
    try:
        post(client, "transcoding")
        post(client, "transcoding")  # a duplicate: rolled back, nothing queued, nothing heard
    finally:
        pre_enqueue.disconnect(listener)
    delivery = CallbackDelivery.objects.get()
    assert heard == [(delivery.fingerprint,)]
    assert OrmQ.objects.get().task["hook"] == "tests.hooks.not_called"


@pytest.mark.django_db
def test_a_failure_while_queueing_keeps_no_log_row_so_the_retry_is_processed():
    """Log row and queue row commit together or not at all: no delivery without its job."""

    def broken_queue(sender, task, **kwargs):
        raise RuntimeError("queue unavailable")

    client = Client(raise_request_exception=False)
    pre_enqueue.connect(broken_queue)
    try:
        assert post(client, "transcoding").status_code == 500
    finally:
        pre_enqueue.disconnect(broken_queue)
    assert not CallbackDelivery.objects.exists()
    assert not OrmQ.objects.exists()
    # Kollus retries (it got no 200): the retry is a first delivery, logged and queued.
    assert post(client, "transcoding").status_code == 200
    assert CallbackDelivery.objects.get().times_received == 1
    assert OrmQ.objects.count() == 1


def _in_threads(count: int, work) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            start.wait()
            work(n)
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_simultaneous_repeats_of_one_delivery_log_and_queue_it_once():
    payload = dict(PAYLOADS["transcoding"])
    results: list[bool] = []
    errors = _in_threads(6, lambda n: results.append(record_delivery("transcoding", dict(payload))))
    assert errors == []
    assert sorted(results) == [False] * 5 + [True]
    delivery = CallbackDelivery.objects.get()
    assert delivery.times_received == 6
    assert delivery.status == DeliveryStatus.QUEUED
    assert [q.task["args"] for q in OrmQ.objects.all()] == [(delivery.fingerprint,)]


@pytest.mark.django_db(transaction=True)
def test_simultaneous_distinct_deliveries_are_all_logged_and_queued():
    def deliver(n: int) -> None:
        for i in range(5):
            record_delivery("upload", {"upload_file_key": f"ufk-{n}-{i}", "filename": "clip"})

    assert _in_threads(6, deliver) == []
    fingerprints = set(CallbackDelivery.objects.values_list("fingerprint", flat=True))
    assert len(fingerprints) == 30
    assert {q.task["args"][0] for q in OrmQ.objects.all()} == fingerprints


def test_prepare_insert_refuses_a_missing_required_value_or_an_unknown_field():
    with pytest.raises(TypeError, match="received_at needs a value"):
        prepare_insert(
            CallbackDelivery,
            {"kind": "upload", "fingerprint": "f", "upload_file_key": "k", "last_received_at": None},
            using="default",
        )
    with pytest.raises(TypeError, match="no field"):
        prepare_insert(OrmQ, {"key": "k", "payload": "p", "colour": "red"}, using="default")
