"""Page → contents API sync.

Site code needs two names, both importable from here::

    from wagtail_kollus.sync import ContentMapping, register_sync

Everything else (engine, receivers, tasks, admin) is internal. See ``docs/sync.md``.
"""

from .mapping import ChapterGrouping, ContentMapping
from .registration import register_sync
from .registry import get_mapping, is_synced, registered_models

__all__ = [
    "ChapterGrouping",
    "ContentMapping",
    "get_mapping",
    "is_synced",
    "register_sync",
    "registered_models",
]
