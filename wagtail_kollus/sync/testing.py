"""Helpers for testing sync against a real django-q2 cluster (used by this project's tests,
and usable by sites that test their own mappings).

The cluster forks its workers when it starts, so configure settings *before* entering
``running_cluster()``: changes made afterwards are not seen by the workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connections
from django_q.brokers import get_broker
from django_q.cluster import Cluster
from django_q.conf import Conf

T = TypeVar("T")


@contextmanager
def q_conf(**conf: Any) -> Iterator[None]:
    """Override attributes of ``django_q.conf.Conf`` (e.g. ``ORM=None, REDIS={...}`` to queue
    through Redis) in this process for the duration of the block; restored afterwards."""
    saved = {name: getattr(Conf, name) for name in conf}
    for name, value in conf.items():
        setattr(Conf, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(Conf, name, value)


@contextmanager
def running_cluster(**conf: Any) -> Iterator[Any]:
    """Start a django-q2 cluster (its broker from ``Q_CLUSTER``) for the duration of the block.

    ``conf`` overrides attributes of ``django_q.conf.Conf`` (e.g. ``RETRY=2``) for this cluster
    only (:func:`q_conf`); they are restored afterwards.
    """
    with q_conf(**conf):
        # Forked workers must not share the parent's SQLite/Postgres connection.
        connections.close_all()
        cluster = Cluster(get_broker())
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop()


def wait_for(
    probe: Callable[[], T], *, timeout: float = 20.0, interval: float = 0.05, message: str = ""
) -> T:
    """Call ``probe`` until it returns something truthy; fail with ``message`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout}s")
        time.sleep(interval)
