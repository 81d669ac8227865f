"""Which page types sync, and with which mapping: one registry, filled by ``@register_sync``.

Registration happens at import time of the site's ``models.py`` (like Wagtail's own
``register_snippet``), so it is complete once apps are ready and receivers can consult it
without touching the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .mapping import ContentMapping

_registry: dict[type, ContentMapping] = {}


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
    from .mapping import ContentMapping

    if not isinstance(model, type) or issubclass(model, ContentMapping):
        raise TypeError("register_sync needs the page model first: @register_sync(CoursePage)")

    def use_mapping(mapping_cls: type[ContentMapping]) -> type[ContentMapping]:
        _registry[model] = mapping_cls(model)
        return mapping_cls

    use_mapping(mapping or ContentMapping)
    if status_panel:
        _add_status_panel(model)
    return use_mapping


def get_mapping(model_or_instance: Any) -> ContentMapping | None:
    """The mapping for a page class or instance (the most specific registered ancestor)."""
    cls = model_or_instance if isinstance(model_or_instance, type) else type(model_or_instance)
    for klass in cls.__mro__:
        if klass in _registry:
            return _registry[klass]
    return None


def is_synced(model_or_instance: Any) -> bool:
    return get_mapping(model_or_instance) is not None


def registered_models() -> list[type]:
    return list(_registry)


def unregister_sync(model: type) -> None:
    """For tests and for sites that replace a third-party registration."""
    _registry.pop(model, None)


def _add_status_panel(model_cls: type) -> None:
    if "edit_handler" in vars(model_cls):
        return
    from .panels import SyncStatusPanel

    panels = list(getattr(model_cls, "content_panels", []) or [])
    if not any(isinstance(p, SyncStatusPanel) for p in panels):
        # A new list: ``content_panels`` may be inherited and shared with other page types.
        model_cls.content_panels = [SyncStatusPanel(), *panels]
