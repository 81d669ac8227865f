"""Differences between the Wagtail versions we support, in one place.

Wagtail 8 lets a project swap the base ``Page`` model (through ``swapper``); Wagtail 7 has no
swapping and does not depend on ``swapper``. Code that needs the page model asks here. Wagtail
7.3 added ``BlockGroup`` (grouped, collapsible ``StructBlock`` children); 7.0 lists them flat.
"""

from __future__ import annotations

from typing import Any


def page_model_name() -> str:
    """``"app_label.Model"`` of the concrete page model (for ForeignKeys)."""
    try:
        import swapper
    except ImportError:  # Wagtail 7.x
        return "wagtailcore.Page"
    return swapper.get_model_name("wagtailcore", "Page")


def get_page_model() -> type:
    """The concrete page model class. Call it at run time, not at import time of models."""
    try:
        import swapper
    except ImportError:  # Wagtail 7.x
        from wagtail.models import Page

        return Page
    return swapper.load_model("wagtailcore", "Page")


def collapsed_block_group(children: list[str], heading: Any) -> Any | None:
    """A collapsed ``BlockGroup`` of ``children`` for ``StructBlock.Meta.form_layout``.

    ``BlockGroup`` arrived in Wagtail 7.3; on 7.0 this returns ``None`` and the struct lists its
    children flat, in declaration order (put the essential ones first).
    """
    from wagtail import blocks

    block_group = getattr(blocks, "BlockGroup", None)
    if block_group is None:
        return None
    return block_group(
        children, heading=heading, classname="collapsed", icon="cog", label_format=""
    )
