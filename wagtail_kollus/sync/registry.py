"""Which page types sync, and with which mapping: one registry, filled by ``@register_sync``
(``registration``).

Registration happens at import time of the site's ``models.py`` (like Wagtail's own
``register_snippet``), so it is complete once apps are ready and receivers can consult it
without touching the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .mapping import ContentMapping

_registry: dict[type, ContentMapping] = {}


def add_mapping(model: type, mapping: ContentMapping) -> None:
    """Sync ``model`` with ``mapping`` (site code uses ``register_sync``)."""
    _registry[model] = mapping


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
