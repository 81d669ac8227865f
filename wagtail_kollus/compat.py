"""Differences between the Wagtail versions we support, in one place.

Wagtail 8 lets a project swap the base ``Page`` model (through ``swapper``); Wagtail 7 has no
swapping and does not depend on ``swapper``. Code that needs the page model asks here.
"""

from __future__ import annotations


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
