"""The one-row counter that tells every process when its copy of the video rows is stale.

Rendering keeps the ``KollusVideo`` rows (with their library media) it has loaded, per process
(``wagtail_kollus.video_cache``). Every ORM write to those two tables sets this counter to a new
random value inside the writer's transaction; a render reads it first and drops its copy when
it changed. Random rather than incremented: a rolled-back transaction puts the old value back,
and a value that is never reused cannot match rows cached inside a transaction that never
committed.
"""

from __future__ import annotations

from django.db import models


class VideoRowsQuerySet(models.QuerySet):
    """Bulk writes that bypass ``post_save``/``post_delete`` still mark the cached rows stale."""

    def update(self, **kwargs):
        from ..video_cache import rows_changed

        count = super().update(**kwargs)
        if count:
            rows_changed(self.model, using=self.db)
        return count

    update.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        from ..video_cache import rows_changed

        created = super().bulk_create(objs, *args, **kwargs)
        if created:
            rows_changed(self.model, using=self.db)
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        from ..video_cache import rows_changed

        count = super().bulk_update(objs, fields, *args, **kwargs)
        if count:
            rows_changed(self.model, using=self.db)
        return count

    bulk_update.alters_data = True


class VideoRowsGeneration(models.Model):
    """Always one row (id 1). Its ``value`` changes whenever a chosen video or its media does."""

    value = models.BigIntegerField(default=0)

    class Meta:
        # Internal bookkeeping: no admin, no permissions.
        default_permissions = ()

    def __str__(self) -> str:
        return f"video rows generation {self.value}"
