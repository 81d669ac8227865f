"""What the forked workers of a real django-q2 cluster did, for tests that cannot see into them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django_q.signals import pre_execute


@contextmanager
def jobs_started(log: Path) -> Iterator[Callable[[], list[tuple[int, str]]]]:
    """Record every job a worker starts as ``(worker pid, "func arg ...")``; yields the reader.

    The receiver is connected before the cluster forks (start the cluster inside the block),
    so every worker inherits it and appends to ``log`` itself.
    """

    def remember(sender, func, task, **kwargs):
        with open(log, "a") as file:
            file.write(f"{os.getpid()}\t{task['func']} {' '.join(map(str, task['args']))}\n")

    def read() -> list[tuple[int, str]]:
        lines = log.read_text().splitlines() if log.exists() else []
        return [(int(pid), job) for pid, job in (line.split("\t", 1) for line in lines)]

    pre_execute.connect(remember, weak=False)
    try:
        yield read
    finally:
        pre_execute.disconnect(remember)
