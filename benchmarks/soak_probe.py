"""The soak run's view from inside the site: ``python -m benchmarks.soak_probe setup N`` creates
and publishes the soak's course pages; ``... state`` prints, as JSON, what the counting needs
(outbox rows, callback deliveries, the django-q2 queue, the pages as published).

Run in the example site's directory with ``DJANGO_SETTINGS_MODULE=benchmarks.soak_settings``,
like the site's own processes, so it reads the same database they write. It only reads, except
for ``setup``, which runs before the chaos starts.
"""

from __future__ import annotations

import json
import sys


def setup(count: int) -> list[int]:
    from videos.models import CoursePage, HomePage
    from wagtail.images import get_image_model

    home = HomePage.objects.first()
    # seed_demo's course cover: the contents API requires a featured image.
    cover = get_image_model().objects.filter(title="Example course cover").first()
    if home is None or cover is None:
        raise SystemExit("run seed_demo first (make demo's launcher does)")
    ids = []
    for index in range(count):
        slug = f"soak-{index}"
        page = CoursePage.objects.filter(slug=slug).first()
        if page is None:
            page = CoursePage(
                title=f"Soak page {index}",
                slug=slug,
                intro="<p>Soak</p>",
                base_price=1000 + index,
                image=cover,
            )
            home.add_child(instance=page)
        page.save_revision().publish()
        ids.append(page.pk)
    return ids


def state(page_ids: list[int]) -> dict:
    from django_q.models import OrmQ
    from wagtail.models import Page

    from wagtail_kollus.models import CallbackDelivery
    from wagtail_kollus.models.sync import PageContentLink

    links = [
        {
            "page_key": link.page_key,
            "content_id": link.content_id,
            "version": link.version,
            "synced_version": link.synced_version,
            "state": link.state,
            "claimed": link.claimed_until is not None,
            "attempts": link.attempts,
            "last_error": link.last_error[:300],
        }
        for link in PageContentLink.objects.filter(page_key__in=page_ids)
    ]
    pages = [
        {"id": page.pk, "title": page.title, "live": page.live}
        for page in Page.objects.filter(pk__in=page_ids)
    ]
    deliveries = [
        {
            "kind": row.kind,
            "payload": row.payload,
            "status": row.status,
            "times_received": row.times_received,
            "error": row.error_message[:300],
        }
        for row in CallbackDelivery.objects.all()
    ]
    return {
        "links": links,
        "pages": pages,
        "deliveries": deliveries,
        "queued_tasks": OrmQ.objects.count(),
    }


def main(argv: list[str]) -> None:
    import django

    django.setup()
    command, *args = argv
    if command == "setup":
        print(json.dumps(setup(int(args[0]))))
    elif command == "state":
        print(json.dumps(state([int(a) for a in args[0].split(",") if a])))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
