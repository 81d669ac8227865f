"""What check W011 warns about, on a real django-q2 cluster with the ORM broker: a task that
fails is handed out again every ``retry`` seconds, for ever without ``max_attempts``, and no
more than ``max_attempts`` times with it (the test settings set 3, as docs/deployment.md says).
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django_q.models import OrmQ, Task
from django_q.tasks import async_task

from wagtail_kollus.testing import running_cluster, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

# Raises ValueError ("math domain error") every time: a task that can never succeed.
FAILING = ("math.sqrt", -1)


def attempts(task_id: str) -> int:
    return Task.objects.filter(id=task_id).values_list("attempt_count", flat=True).first() or 0


def test_without_max_attempts_a_failing_task_is_handed_out_again_and_again():
    task_id = async_task(*FAILING)
    with running_cluster(RETRY=1, MAX_ATTEMPTS=0):
        wait_for(lambda: attempts(task_id) >= 4, timeout=60, message="not handed out again")
    assert OrmQ.objects.exists(), "still queued: it would run again for as long as the cluster"


def test_the_test_settings_max_attempts_stops_handing_it_out():
    limit = settings.Q_CLUSTER["max_attempts"]
    assert limit == 3
    task_id = async_task(*FAILING)
    with running_cluster(RETRY=1):  # max_attempts as Q_CLUSTER sets it
        wait_for(lambda: not OrmQ.objects.exists(), timeout=60, message="never acknowledged")
        time.sleep(3)  # three more `retry` periods: nothing runs it again
    assert attempts(task_id) == limit
