"""A real django-q2 cluster keeps running tasks after its idle workers are killed.

Without ``wagtail_kollus.cluster_repair``, killing a worker that waits for a task leaves the
task queue's lock taken for ever (django-q2 issue #23): the replacement workers never run
anything again. Here each worker is killed once while idle, then a task must still run. (On
django-q2 alone this test fails, and the hung cluster cannot even be stopped: its workers never
read the STOP pills, and killing its sentinel breaks the stop event. So there is no test of the
hang itself here; ``/tmp``-free reproduction: ``multiprocessing.Queue`` with two readers.)
"""

from __future__ import annotations

import logging
import os
import re
import signal
import time

import pytest
from django_q.tasks import async_task, fetch

from wagtail_kollus import cluster_repair
from wagtail_kollus.testing import running_cluster, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def worker_log(tmp_path):
    """django-q2's log, written by the forked workers too ("ready for work at <pid>")."""
    path = tmp_path / "cluster.log"
    handler = logging.FileHandler(path)
    logger = logging.getLogger("django-q")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield path
    logger.removeHandler(handler)
    logger.setLevel(level)
    handler.close()


def _workers(path) -> set[int]:
    return {int(pid) for pid in re.findall(r"ready for work at (\d+)", path.read_text())}


def _kill_every_idle_worker_once(path) -> None:
    first = wait_for(lambda: _workers(path) if len(_workers(path)) >= 2 else None,
                     message="the cluster's two workers did not start")
    for pid in sorted(first):
        time.sleep(1.0)  # idle: one of them waits for a task, holding the queue's read lock
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue  # already replaced (the repair restarts every worker)
        wait_for(lambda pid=pid: not _alive(pid), message="a killed worker lived on")
    # The guard notices within a cycle or two and starts others.
    wait_for(lambda: len({p for p in _workers(path) - first if _alive(p)}) >= 2, timeout=30,
             message="the guard started no new workers")


def test_the_cluster_runs_tasks_after_its_idle_workers_were_killed(worker_log):
    with running_cluster(WORKERS=2):
        _kill_every_idle_worker_once(worker_log)
        task_id = async_task("math.floor", 2.5)
        done = wait_for(lambda: fetch(task_id), timeout=45,
                        message="the cluster ran nothing after its workers were killed")
        assert done.success and done.result == 2


def test_install_is_idempotent():
    from django_q import cluster

    patched = cluster.Sentinel.reincarnate
    cluster_repair.install()
    assert cluster.Sentinel.reincarnate is patched
