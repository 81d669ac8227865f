"""The account's Kollus categories, mirrored locally (``KollusMediaCategory``).

Kollus allows one call a second, so asking it for the categories while an editor waits made
the first open of the chooser's upload tab about a second slower. Forms and the library's
category filter read the mirror instead. It is filled from Kollus's category list — re-read,
at most every ``CATEGORIES_MAX_AGE`` seconds, by the library's own upload and edit screens
(:func:`refreshed_categories`; :func:`refresh_categories` from your own code) — and from the
category a video row names when it is written (a callback, a refresh, an edit). The chooser
only reads it: opening the chooser never waits for Kollus.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..accounts import KollusAccount, kollus_client
from ..api.errors import KollusAPIError
from ..conf import kollus_settings
from ..models import KollusMedia, KollusMediaCategory

logger = logging.getLogger(__name__)

KEY_LENGTH = KollusMediaCategory._meta.get_field("category_key").max_length
NAME_LENGTH = KollusMediaCategory._meta.get_field("name").max_length


def known_categories() -> list[tuple[str, str]]:
    """``[(category_key, name)]`` from the mirror, by name. No remote call."""
    return [
        (category.category_key, category.name or category.category_key)
        for category in KollusMediaCategory.objects.all()
    ]


def refreshed_categories(account: KollusAccount | None = None) -> list[tuple[str, str]]:
    """:func:`known_categories`, after re-reading Kollus's list if it was read more than
    ``CATEGORIES_MAX_AGE`` seconds ago. For the library's own screens only; when Kollus
    cannot be reached, the mirror as it is."""
    if _list_is_due():
        try:
            refresh_categories(account)
        except KollusAPIError as error:
            logger.warning("Could not list Kollus categories: %s", error.describe())
    return known_categories()


def _list_is_due() -> bool:
    max_age = timedelta(seconds=int(kollus_settings.CATEGORIES_MAX_AGE))
    fresh = KollusMediaCategory.objects.filter(listed_at__gte=timezone.now() - max_age)
    return not fresh.exists()


def refresh_categories(account: KollusAccount | None = None) -> str:
    """Read Kollus's category list into the mirror (one call) and say how many it lists. A
    category Kollus no longer lists is kept while a video still names it. Raises
    ``KollusAPIError``."""
    listed = {
        category.category_key[:KEY_LENGTH]: (category.name or "")[:NAME_LENGTH]
        for category in kollus_client(account).list_categories()
        if category.category_key
    }
    now = timezone.now()
    with transaction.atomic():
        known = {c.category_key: c for c in KollusMediaCategory.objects.select_for_update()}
        for key, name in listed.items():
            category = known.get(key)
            if category is None:
                KollusMediaCategory.objects.create(category_key=key, name=name, listed_at=now)
            else:
                category.name, category.listed_at = name, now
                category.save(update_fields=["name", "listed_at"])
        gone = [key for key in known if key not in listed]
        in_use = set(
            KollusMedia.objects.filter(category_key__in=gone).values_list("category_key", flat=True)
        )
        KollusMediaCategory.objects.filter(category_key__in=in_use).update(listed_at=None)
        KollusMediaCategory.objects.filter(category_key__in=set(gone) - in_use).delete()
    return f"{len(listed)} Kollus categories"


def remember_category(category_key: str, name: str) -> None:
    """A video row names this category: make sure the mirror has it (and its newest name)."""
    key, name = category_key[:KEY_LENGTH], name[:NAME_LENGTH]
    category = KollusMediaCategory.objects.filter(category_key=key).first()
    if category is None:
        try:
            with transaction.atomic():
                KollusMediaCategory.objects.create(category_key=key, name=name)
        except IntegrityError:
            pass  # another process added it meanwhile
    elif name and category.name != name:
        KollusMediaCategory.objects.filter(pk=category.pk).update(name=name)
