"""Keep the category mirror (``media.categories``) aware of the categories videos name."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from ..models import KollusMedia
from .categories import remember_category

_CATEGORY_FIELDS = frozenset({"category_key", "category_name"})


@receiver(post_save, sender=KollusMedia, dispatch_uid="wagtail_kollus.media.remember_category")
def remember_media_category(sender: Any, instance: KollusMedia, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if kwargs.get("raw") or not instance.category_key:
        return
    if update_fields is not None and not _CATEGORY_FIELDS & set(update_fields):
        return
    remember_category(instance.category_key, instance.category_name)
