"""Keep the statistics rollups' title order in step with the library's titles."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from ..models import KollusMedia
from . import rollups


@receiver(post_save, sender=KollusMedia, dispatch_uid="wagtail_kollus.stats.retitle_saved")
def retitle_saved_media(sender: Any, instance: KollusMedia, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if kwargs.get("raw") or not instance.upload_file_key:
        return
    if update_fields is not None and not {"title", "upload_file_key"} & set(update_fields):
        return
    # One indexed UPDATE of at most one row per stored ranking (usually none).
    rollups.retitle(instance.upload_file_key, instance.title)


@receiver(post_delete, sender=KollusMedia, dispatch_uid="wagtail_kollus.stats.retitle_deleted")
def retitle_deleted_media(sender: Any, instance: KollusMedia, **kwargs: Any) -> None:
    if instance.upload_file_key:
        rollups.retitle(instance.upload_file_key, "")  # Kollus's title sorts it from now on
