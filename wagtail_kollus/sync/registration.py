"""``register_sync``: what site code calls to make a page type sync (``docs/sync.md``).

Apart from ``registry`` because it also puts the status panel on the page type, and that
panel looks mappings up in the registry.
"""

from __future__ import annotations

from collections.abc import Callable

from .mapping import ContentMapping
from .panels import SyncStatusPanel
from .registry import add_mapping


def register_sync(
    model: type, mapping: type[ContentMapping] | None = None, *, status_panel: bool = True
) -> Callable[[type[ContentMapping]], type[ContentMapping]]:
    """Sync the page type ``model`` to a content record.

    ``register_sync(CoursePage)`` registers the default :class:`ContentMapping`;
    ``register_sync(CoursePage, CourseMapping)`` or the decorator form ::

        @register_sync(CoursePage)
        class CourseMapping(ContentMapping):
            ...

    registers your mapping. ``status_panel`` adds the sync status panel at the top of the
    page's content tab; turn it off when the page defines its own ``edit_handler`` and place
    ``wagtail_kollus.sync.panels.SyncStatusPanel`` yourself.
    """
    if not isinstance(model, type) or issubclass(model, ContentMapping):
        raise TypeError("register_sync needs the page model first: @register_sync(CoursePage)")

    def use_mapping(mapping_cls: type[ContentMapping]) -> type[ContentMapping]:
        add_mapping(model, mapping_cls(model))
        return mapping_cls

    use_mapping(mapping or ContentMapping)
    if status_panel:
        _add_status_panel(model)
    return use_mapping


def _add_status_panel(model_cls: type) -> None:
    if "edit_handler" in vars(model_cls):
        return
    panels = list(getattr(model_cls, "content_panels", []) or [])
    if not any(isinstance(p, SyncStatusPanel) for p in panels):
        # A new list: ``content_panels`` may be inherited and shared with other page types.
        model_cls.content_panels = [SyncStatusPanel(), *panels]
