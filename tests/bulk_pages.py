"""Many live pages, fast: what the bulk command tests and the scale benchmark sync.

``parent.add_child()`` costs a dozen queries a page (the tree's last child, ``numchild``,
the base row, the specific row, search index and reference index signals): minutes for
100 000 pages. Here the base rows go in with one ``bulk_create`` per batch and the specific
rows with one ``executemany``, with the tree's paths computed as treebeard's ``MP_Node``
does (``Page._get_path``) and the parent's ``numchild`` updated once, so the result is a
valid page tree (``Page.fix_tree()`` finds nothing to fix) of live, published pages.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from wagtail.models import Locale, Page


def tree_root() -> Page:
    """The page tree's root, rebuilt if a transactional test flushed what Wagtail's migrations
    created."""
    Locale.objects.get_or_create(language_code="en")
    return Page.get_first_root_node() or Page.add_root(instance=Page(title="Root"))


def _next_step(parent: Page) -> int:
    last = parent.get_last_child()
    if last is None:
        return 1
    return int(last.path[-Page.steplen :], len(Page.alphabet)) + 1


def _specific_fields(model: type[Page]) -> list[Any]:
    """The specific table's own columns (the parent link first)."""
    return [f for f in model._meta.local_concrete_fields]


def build_pages(
    parent: Page,
    count: int,
    model: type[Page],
    *,
    title: str = "Bulk page",
    batch_size: int = 2000,
    **values: Any,
) -> list[int]:
    """Create ``count`` live ``model`` pages under ``parent``; return their ids in order.

    ``values``: the specific model's own fields (the rest take their defaults).
    """
    content_type = ContentType.objects.get_for_model(model)
    parent = Page.objects.get(pk=parent.pk)
    fields = _specific_fields(model)
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    insert = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
    now = timezone.now()
    step = _next_step(parent)
    created: list[int] = []
    for start in range(0, count, batch_size):
        size = min(batch_size, count - start)
        rows = []
        for offset in range(size):
            number = start + offset
            slug = f"{model._meta.model_name}-{step + number}"
            rows.append(
                Page(
                    title=f"{title} {number}",
                    draft_title=f"{title} {number}",
                    slug=slug,
                    content_type=content_type,
                    path=Page._get_path(parent.path, parent.depth + 1, step + number),
                    depth=parent.depth + 1,
                    numchild=0,
                    url_path=f"{parent.url_path}{slug}/",
                    live=True,
                    has_unpublished_changes=False,
                    first_published_at=now,
                    last_published_at=now,
                    locale_id=parent.locale_id,
                    translation_key=uuid.uuid4(),
                )
            )
        with transaction.atomic():
            Page.objects.bulk_create(rows)
            pks = [row.pk for row in rows]
            if None in pks:  # a backend that returns no ids from a bulk insert
                paths = [row.path for row in rows]
                by_path = dict(Page.objects.filter(path__in=paths).values_list("path", "pk"))
                pks = [by_path[path] for path in paths]
            with connection.cursor() as cursor:
                cursor.executemany(insert, list(_specific_rows(model, fields, pks, values)))
            Page.objects.filter(pk=parent.pk).update(numchild=F("numchild") + size)
        created.extend(pks)
    return created


def _specific_rows(
    model: type[Page], fields: list[Any], pks: list[int], values: dict[str, Any]
) -> Iterator[list[Any]]:
    template = model()
    for name, value in values.items():
        setattr(template, name, value)
    prepared = {
        f.attname: f.get_db_prep_save(f.pre_save(template, add=True), connection)
        for f in fields
        if not f.remote_field or not f.remote_field.parent_link
    }
    for pk in pks:
        yield [
            pk if f.remote_field and f.remote_field.parent_link else prepared[f.attname]
            for f in fields
        ]
