"""The columns every claimed piece of work carries (the rule is in ``wagtail_kollus.leases``).

A worker *claims* a row by writing a random ``claim_token`` and a ``claimed_until`` time. No
database lock is held while it calls a remote API; the lease is the lock. A worker that dies
(SIGKILL, out of memory, a deploy) leaves its lease behind, and once ``claimed_until`` has
passed the next worker takes the row over. ``attempts`` counts failed attempts (a lease taken
over counts as one), and ``next_attempt_at`` is when a retry is due.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LeasedWork(models.Model):
    claim_token = models.CharField(max_length=64, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # host:pid of the holder, for operators (and for tests that stop that worker).
    claimed_by = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # When the sweep last queued a job for the row that no worker has taken since (a claim or
    # a release clears it): the sweep leaves the row to that job for LOST_JOB_SECONDS instead
    # of queueing it again every minute, which during a large backlog (a kollus_sync of
    # 100 000 pages) queued every waiting page once a minute after the first 15.
    swept_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True
