"""Migration 0014: the unique constraint on a link's record, on a database that already holds
links sharing one (left by a contents API that reused ids before the constraint existed)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone, translation

from wagtail_kollus.messages import Message, shown

pytestmark = pytest.mark.django_db(transaction=True)

APP = "wagtail_kollus"
BEFORE = [(APP, "0013_media_stuck_index")]
AFTER = [(APP, "0014_link_unique_content_id")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()  # the previous migrate() changed what is applied
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_duplicates_keep_the_page_whose_marker_the_record_carries():
    apps = migrate(BEFORE)
    try:
        Link = apps.get_model(APP, "PageContentLink")
        Record = apps.get_model(APP, "ContentRecord")
        now = timezone.now()
        # #4601: the record carries page 4's marker although page 3 synced later.
        home = Link.objects.create(
            page_key=3, content_id=4601, marker="wagtail-kollus:3:aaaaaaaaaaaa",
            version=2, synced_version=2, state="synced", last_synced_at=now,
        )  # fmt: skip
        lesson = Link.objects.create(
            page_key=4, content_id=4601, marker="wagtail-kollus:4:bbbbbbbbbbbb",
            version=1, synced_version=1, state="synced", last_synced_at=now - timedelta(hours=1),
        )  # fmt: skip
        Record.objects.create(
            content_id=4601, raw={"content_id": 4601, "external_id": lesson.marker}
        )
        # #4700: no mirrored record, so the most recently synced link keeps it.
        older = Link.objects.create(
            page_key=5, content_id=4700, state="synced", last_synced_at=now - timedelta(days=1)
        )
        newer = Link.objects.create(page_key=6, content_id=4700, state="synced", last_synced_at=now)
        alone = Link.objects.create(page_key=7, content_id=4800, state="synced", last_synced_at=now)

        apps = migrate(AFTER)
        Link = apps.get_model(APP, "PageContentLink")
        kept = dict(Link.objects.values_list("page_key", "content_id"))
        assert kept == {3: None, 4: 4601, 5: None, 6: 4700, 7: 4800}
        home = Link.objects.get(pk=home.pk)
        # Queued for a new record (outstanding, pending), with the reason in its panel and log.
        assert (home.state, home.version, home.synced_version) == ("pending", 3, 2)
        assert (home.marker, home.pushed_hashes) == ("", {})
        assert home.last_error == (
            "Content #4601 was also linked to page 4, which keeps it. This page was unlinked "
            "from it and will get a new record."
        )
        assert home.last_error_i18n["msgid"].startswith("Content #%(content_id)s was also")
        # The migration's frozen copy of the stored-message format still reads as one today:
        # the panel shows it translated (Korean here), not the English text column.
        assert Message.from_json(home.last_error_i18n).english() == home.last_error
        with translation.override("ko"):
            assert shown(home.last_error, home.last_error_i18n) != home.last_error
        Log = apps.get_model(APP, "SyncLogEntry")
        assert sorted(Log.objects.values_list("link_id", "operation", "content_id")) == [
            (home.pk, "displaced", 4601),
            (older.pk, "displaced", 4700),
        ]
        assert Link.objects.get(pk=newer.pk).state == "synced"
        assert Link.objects.get(pk=alone.pk).state == "synced"
    finally:
        # Leave the schema as the other tests expect it: every migration applied, not only
        # 0014 (later migrations add columns the models read).
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes(APP))
