"""Signal receivers: every publish, unpublish, move or delete of a synced page lands here.

Signals, not the admin-only ``after_*`` hooks: these also fire for bulk actions, scheduled
publishing, the API and management commands. Each receiver only writes the outbox row and
enqueues on commit (``engine.request_sync``); no remote call happens during the request.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver
from wagtail.signals import page_published, page_unpublished, post_page_move

from ..models.sync import PageContentLink, SyncAction
from .engine import request_sync
from .registry import is_synced

logger = logging.getLogger("wagtail_kollus.sync")


def _synced_page(instance: Any) -> Any:
    """The specific page when its type syncs, else None (signals may carry a base Page)."""
    if is_synced(instance):
        return instance
    specific_class = getattr(instance, "specific_class", None)
    if specific_class is not None and is_synced(specific_class):
        return instance.specific
    return None


def _safely(page: Any, action: str) -> None:
    # A broken outbox write must not turn a publish into a 500: the editor's work is saved,
    # and ``kollus_sync`` can push the page later.
    try:
        request_sync(page, action)
    except Exception:
        logger.exception("Could not record the sync of page %s", getattr(page, "pk", None))


@receiver(page_published, dispatch_uid="wagtail_kollus_sync_published")
def on_page_published(sender: type, instance: Any, **kwargs: Any) -> None:
    page = _synced_page(instance)
    if page is not None:
        _safely(page, SyncAction.PUBLISH)


@receiver(page_unpublished, dispatch_uid="wagtail_kollus_sync_unpublished")
def on_page_unpublished(sender: type, instance: Any, **kwargs: Any) -> None:
    page = _synced_page(instance)
    if page is not None:
        _safely(page, SyncAction.UNPUBLISH)


@receiver(post_page_move, dispatch_uid="wagtail_kollus_sync_moved")
def on_page_moved(sender: type, instance: Any, **kwargs: Any) -> None:
    # A mapping may derive fields from the page's place (URL, parent's categories); an
    # unchanged payload costs no remote call, so re-checking after every move is cheap.
    page = _synced_page(instance)
    if page is not None and page.live:
        _safely(page, SyncAction.PUBLISH)


@receiver(post_delete, dispatch_uid="wagtail_kollus_sync_deleted")
def on_page_deleted(sender: type, instance: Any, **kwargs: Any) -> None:
    # Deleting a page sends post_delete once per model of its inheritance chain; only the
    # synced class itself acts (its link row survives the delete: the FK is SET_NULL).
    if sender is PageContentLink or not is_synced(sender):
        return
    _safely(instance, SyncAction.DELETE)
