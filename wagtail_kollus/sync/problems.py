"""Why a push failed, in sentences an editor can act on.

The contents API answers a refused record with its own field names (``featured_image``,
``chapters.0.items.1.media_url``) and, for errors that belong to no field, the plugin files
them under Django's ``__all__``. Editors know their page's fields, not the API's, so each field
error is retold with the label of the page field the mapping reads it from (or a plain label
for the record field), and a message already shown as the summary is not repeated.
"""

from __future__ import annotations

import re
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..api.http import NON_FIELD_ERRORS
from .registry import get_mapping

# Record fields as editors would name them, when no page field stands behind them.
RECORD_FIELD_LABELS = {
    "title": gettext_lazy("Title"),
    "description_html": gettext_lazy("Description"),
    "featured_image": gettext_lazy("Featured image"),
    "category_ids": gettext_lazy("Categories"),
    "tag_ids": gettext_lazy("Tags"),
    "status": gettext_lazy("Status"),
    "content_type": gettext_lazy("Content type"),
    "language": gettext_lazy("Language"),
    "chapters": gettext_lazy("Videos"),
}
# Numbered parts of a nested field name ("chapters.0.items.1.title").
POSITION_LABELS = {
    "chapters": gettext_lazy("chapter %(number)s"),
    "items": gettext_lazy("video %(number)s"),
}


def page_model(page_type: str) -> type | None:
    """The page class behind a link's ``page_type`` ("app_label.model"), if still installed."""
    try:
        return apps.get_model(page_type) if page_type else None
    except (LookupError, ValueError):
        return None


def _source_field(mapping: Any, name: str) -> str:
    """The page field the mapping reads record field ``name`` from.

    ``ContentMapping.source_field`` knows the ones it configures; a field the mapping adds
    itself (``get_base_price``) usually reads the page field of the same name.
    """
    return mapping.source_field(name) or name


def field_label(name: str, model: type | None) -> str:
    """The label an editor knows for record field ``name`` of a page of class ``model``."""
    mapping = get_mapping(model) if model is not None else None
    source = _source_field(mapping, name) if mapping is not None else None
    if source:
        try:
            return capfirst(str(model._meta.get_field(source).verbose_name))
        except FieldDoesNotExist:
            pass  # a property or method of the page: fall back to the record's label
    if name in RECORD_FIELD_LABELS:
        return str(RECORD_FIELD_LABELS[name])
    return capfirst(name.replace("_", " "))


def _nested_label(name: str, model: type | None) -> str:
    """``chapters.0.items.1.media_url`` → "Videos (chapter 1, video 2, media url)"."""
    first, *rest = name.split(".")
    label = field_label(first, model)
    parts: list[str] = []
    collection = first
    for part in rest:
        if part.isdigit():
            template = POSITION_LABELS.get(collection)
            number = int(part) + 1
            parts.append(str(template) % {"number": number} if template else f"#{number}")
        else:
            collection = part
            if part not in POSITION_LABELS:
                parts.append(part.replace("_", " "))
    return f"{label} ({', '.join(parts)})" if parts else label


def _sentence(name: str, message: str, label: str) -> str:
    """The API's message about ``name`` with the field named by ``label``."""
    message = message.strip()
    # Laravel names the field as "The featured image field …", "The selected category ids.0
    # is invalid" (the sandbox keeps the underscores): only that spot is the field's name.
    words = r"[._ ]".join(re.escape(word) for word in re.split(r"[._ ]", name))
    pattern = re.compile(rf"\b(the (?:selected )?){words}\b", re.IGNORECASE)
    if pattern.search(message):
        return pattern.sub(lambda match: f"{match.group(1)}“{label}”", message, count=1)
    return f"{label}: {message}"


def explain_failure(
    message: str, field_errors: dict[str, list[str]], page_type: str = ""
) -> tuple[str, list[str]]:
    """The headline and the sentences an editor reads for a failed push.

    ``message`` is the stored summary ("Contents API: …"). When it only repeats one of the
    field errors (Laravel's summary is the first error, "… (and 1 more error)"), the headline
    says the record was refused and the field sentences tell the rest; a message filed under
    ``__all__`` that the summary already shows is not repeated.
    """
    model = page_model(page_type)
    field_messages: list[str] = []
    sentences: list[str] = []
    seen: set[tuple[str, str]] = set()
    for name, messages in (field_errors or {}).items():
        for text in messages or []:
            text = str(text).strip()
            if not text or (name, text) in seen:
                continue
            seen.add((name, text))
            if name == NON_FIELD_ERRORS:
                if text not in message:
                    sentences.append(text)
                continue
            field_messages.append(text)
            label = _nested_label(name, model) if "." in name else field_label(name, model)
            sentences.append(_sentence(name, text, label))
    if any(text in message for text in field_messages):
        return _("The contents API refused this page's record:"), sentences
    return message, sentences
