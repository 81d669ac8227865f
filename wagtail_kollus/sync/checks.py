"""System checks of page sync: a registered mapping that names a field the page type lacks,
or that can fill a field the contents API requires for no page at all.

The second is what a fresh site meets first: ``register_sync(LessonPage)`` with the default
mapping and no ``SYNC_DEFAULT_CATEGORY_IDS`` makes every first publish fail with a 422. The
check names the field and the setting before anyone publishes; the editor's sync panel tells
the same for one page (a chosen image left empty, say).
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import FieldDoesNotExist

from ..conf import SETTINGS_NAME
from .registry import get_mapping, registered_models

# Where a required field can come from, for the hint.
_HOW_TO_FILL = {
    "category_ids": "set {settings}['SYNC_DEFAULT_CATEGORY_IDS'] (ids of your contents API's "
    "categories) or the mapping's category_ids_field",
    "featured_image": "set {settings}['SYNC_DEFAULT_FEATURED_IMAGE'] (an image URL) or the "
    "mapping's image_field",
}
_FIELD_ATTRIBUTES = ("description_field", "image_field", "category_ids_field", "tag_ids_field")


def _has_field(model: type, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        # "Names of page fields/attributes": a property or method also works.
        return hasattr(model, name)
    return True


@register(Tags.compatibility)
def check_sync_mappings(app_configs: Any = None, **kwargs: Any) -> list:
    messages: list = []
    for model in registered_models():
        mapping = get_mapping(model)
        label = model._meta.label
        mapping_name = type(mapping).__name__
        for attribute in _FIELD_ATTRIBUTES:
            name = getattr(mapping, attribute, None)
            if name and not _has_field(model, name):
                messages.append(
                    Error(
                        f"{mapping_name}.{attribute} of {label} is {name!r}, which {label} "
                        "does not have.",
                        hint=f"Name one of {label}'s fields, or leave {attribute} unset.",
                        obj=model,
                        id="wagtail_kollus.E010",
                    )
                )
        for field in mapping.unfillable_required_fields():
            messages.append(
                Warning(
                    f"{label} syncs to a content record, but {mapping_name} fills "
                    f"'{field}' for no page, and the contents API requires it: every first "
                    "publish will fail.",
                    hint=_HOW_TO_FILL[field].format(settings=SETTINGS_NAME)
                    + f", or override get_{field}. See docs/sync.md.",
                    obj=model,
                    id="wagtail_kollus.W010",
                )
            )
    return messages
