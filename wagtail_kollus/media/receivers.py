"""Keep what the library keeps about its videos in step with them: the category mirror
(``media.categories``) and the listing's count (``media.filters.live_media_count``)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from ..models import KollusMedia
from .categories import remember_category
from .filters import forget_live_media_count

_CATEGORY_FIELDS = frozenset({"category_key", "category_name"})


@receiver(post_save, sender=KollusMedia, dispatch_uid="wagtail_kollus.media.remember_category")
def remember_media_category(sender: Any, instance: KollusMedia, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if kwargs.get("raw") or not instance.category_key:
        return
    if update_fields is not None and not _CATEGORY_FIELDS & set(update_fields):
        return
    remember_category(instance.category_key, instance.category_name)


@receiver(post_save, sender=KollusMedia, dispatch_uid="wagtail_kollus.media.count_saved")
@receiver(post_delete, sender=KollusMedia, dispatch_uid="wagtail_kollus.media.count_deleted")
def forget_media_count(sender: Any, instance: KollusMedia, **kwargs: Any) -> None:
    # Any save may be a new video or one becoming deleted; forgetting is cheaper than knowing.
    forget_live_media_count()
