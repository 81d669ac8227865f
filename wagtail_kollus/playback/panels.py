"""The page editor's "Who can play" panel, placed before a page's Kollus video blocks.

Editors choose a video without seeing who will be able to play it; the answer depends on the
page's privacy (set elsewhere: the status side panel, or an ancestor) and on the site's
playback policy. The panel says it where the videos are edited. It is added automatically to
every page type whose StreamFields hold a ``KollusVideoBlock`` (or its chooser block), unless
the type defines its own ``edit_handler`` — then place ``PlaybackAccessPanel()`` yourself.
``WAGTAIL_KOLLUS["PLAYBACK_ACCESS_PANEL"] = False`` hides it everywhere.

It is rendered from the database when the editor loads, and again, in place, when the editor
changes the page's privacy in Wagtail's privacy dialog (its ``w-privacy:changed`` event).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import Panel

from ..api.errors import ConfigurationError
from ..conf import kollus_settings
from .audience import audience_of


class PlaybackAccessPanel(Panel):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("heading", _("Who can play"))
        super().__init__(**kwargs)

    @property
    def clean_name(self) -> str:
        return super().clean_name or "kollus_who_can_play"

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_kollus/playback/who_can_play_panel.html"

        def is_shown(self) -> bool:
            return bool(kollus_settings.PLAYBACK_ACCESS_PANEL) and super().is_shown()

        def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
            context = super().get_context_data(parent_context)
            parent_page = getattr(self.form, "parent_page", None)
            try:
                context["audience"] = audience_of(self.instance, parent_page)
            except ConfigurationError as exc:
                # A PLAYBACK_POLICY that cannot be loaded must not cost the editor the page.
                context["configuration_error"] = str(exc)
            return context


# --- placing the panel on page types with Kollus video blocks ---------------------------------


def _blocks_within(block: Any) -> Iterator[Any]:
    yield block
    children: Iterable[Any] = getattr(block, "child_blocks", {}).values()
    child = getattr(block, "child_block", None)  # ListBlock
    if child is not None:
        children = [*children, child]
    for child_block in children:
        yield from _blocks_within(child_block)


def video_stream_fields(model: type) -> list[str]:
    """Names of ``model``'s StreamFields that can hold a Kollus video."""
    from wagtail.fields import StreamField

    from ..blocks import KollusVideoBlock, KollusVideoChooserBlock

    names = []
    for model_field in model._meta.get_fields():
        if isinstance(model_field, StreamField) and any(
            isinstance(block, (KollusVideoBlock, KollusVideoChooserBlock))
            for block in _blocks_within(model_field.stream_block)
        ):
            names.append(model_field.name)
    return names


def _panel_shows_field(panel: Any, names: list[str]) -> bool:
    if isinstance(panel, str):
        return panel in names
    if getattr(panel, "field_name", None) in names:
        return True
    return any(_panel_shows_field(child, names) for child in getattr(panel, "children", ()))


def add_access_panel(model: type) -> bool:
    """Put the panel before the first content panel showing a Kollus video StreamField.

    Returns whether it was added. Not for a type with its own ``edit_handler`` (its layout is
    the developer's), nor twice, nor when no content panel shows such a field.
    """
    if "edit_handler" in vars(model):
        return False
    names = video_stream_fields(model)
    panels = list(getattr(model, "content_panels", None) or [])
    if not names or any(isinstance(p, PlaybackAccessPanel) for p in panels):
        return False
    for index, panel in enumerate(panels):
        if _panel_shows_field(panel, names):
            # A new list: content_panels may be inherited and shared with other page types.
            model.content_panels = [*panels[:index], PlaybackAccessPanel(), *panels[index:]]
            return True
    return False


def add_access_panels() -> list[type]:
    """``add_access_panel`` for every page type (the app's ``ready()`` calls it)."""
    from wagtail.models import get_page_models

    return [model for model in get_page_models() if add_access_panel(model)]
