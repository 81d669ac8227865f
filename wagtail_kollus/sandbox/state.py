"""The sandbox's in-memory world: content records, the Kollus library, upload tickets.

One ``SandboxState`` per sandbox, guarded by one re-entrant lock (handlers are short, so one lock
is simple and fast enough). It never touches a database. ``reset()`` regenerates the seed only
when something changed, so resetting after every test is cheap. With ``state_file`` set, the
mutable world is written as JSON (atomically, at most once a second) and read back at start, so
demo restarts keep uploads and edits.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from typing import Any

from . import seed
from .config import DEFAULT_CATEGORY_KEY, DEFAULT_CHANNEL_KEY, SECURE_CHANNEL_KEY, SandboxConfig
from .timestamps import iso_utc

logger = logging.getLogger(__name__)

PERSISTED = (
    "contents",
    "categories",
    "media",
    "kollus_categories",
    "channels",
    "tickets",
    "counters",
)

TRANSCODING_STAGES = {"uploaded": 0, "transcoding": 1, "completed": 2, "failed": 3}

# Ids one run may mint per second of its start time before it could reach the next run's.
IDS_PER_START_SECOND = 1000


def run_id_base(started: float) -> int:
    """Where a stateless run's new ids start: its UTC start time as digits, times 1000
    (``261207130512000`` for 2026-12-07 13:05:12).

    Kollus and the contents API never reuse an id, and a site keeps the ids it was given
    (page links hold content and item ids). A run without a state file forgets what it handed
    out, so it starts above anything an earlier run could have reached: a later start second
    is a larger number, with a thousand ids per second between two starts. Still readable: the
    id says which run made it. 15 digits fit a BigIntegerField and a JavaScript number."""
    return int(time.strftime("%y%m%d%H%M%S", time.gmtime(started))) * IDS_PER_START_SECOND


class SandboxState:
    def __init__(self, config: SandboxConfig, base_url: str) -> None:
        self.config = config
        self.base_url = base_url.rstrip("/")
        self.lock = threading.RLock()
        # Bumped by reset(): background jobs (transcoding, callbacks) scheduled before a reset
        # compare it and do nothing, so one test's leftovers never reach the next test.
        self.generation = 0
        self.dirty = True
        self.images: dict[str, tuple[str, bytes]] = {}
        self._save_timer: threading.Timer | None = None
        self.id_base = run_id_base(time.time())
        self._load_seed()
        if config.state_file and os.path.exists(config.state_file):
            self._load_file(config.state_file)
        self._counters_at_reset = dict(self.counters)

    @property
    def player_url(self) -> str:
        return self.base_url + "/player"

    # --- seed and reset ---------------------------------------------------------------
    def _load_seed(self) -> None:
        cfg = self.config
        self.categories: dict[int, dict[str, Any]] = seed.category_rows()
        self.media: dict[str, dict[str, Any]] = seed.media_library(
            40 + cfg.contents // 10, cfg.seed
        )
        self.contents: dict[int, dict[str, Any]] = seed.content_records(
            cfg.contents, cfg.seed, self.media, self.player_url, self.base_url
        )
        self.kollus_categories: dict[str, dict[str, Any]] = {
            DEFAULT_CATEGORY_KEY: {
                "key": DEFAULT_CATEGORY_KEY,
                "name": "Sandbox",
                "parent_key": None,
            },
            "sandbox-category-lectures": {
                "key": "sandbox-category-lectures",
                "name": "Lectures",
                "parent_key": None,
            },
        }
        self.channels: dict[str, dict[str, Any]] = {
            DEFAULT_CHANNEL_KEY: {
                "key": DEFAULT_CHANNEL_KEY,
                "name": "Sandbox channel",
                "secure": False,
            },
            SECURE_CHANNEL_KEY: {
                "key": SECURE_CHANNEL_KEY,
                "name": "Sandbox secured channel",
                "secure": True,
            },
        }
        self.tickets: dict[str, dict[str, Any]] = {}
        max_item = max(
            (
                i["item_id"]
                for c in self.contents.values()
                for ch in c["chapters"]
                for i in ch["items"]
            ),
            default=0,
        )
        max_chapter = max(
            (ch["chapter_id"] for c in self.contents.values() for ch in c["chapters"]), default=0
        )
        # The seed is the same every run; what this run mints starts at its own base (a
        # restored state file replaces these with the counters it saved).
        self.counters = {
            "content_id": max(seed.FIRST_CONTENT_ID + cfg.contents, self.id_base),
            "chapter_item_id": max(max_item, max_chapter, self.id_base - 1) + 1,
            "category": self.id_base,
            "mckey": 1,
            "image": self.id_base,
        }
        self._reindex()
        self.dirty = False

    def _reindex(self) -> None:
        self._ordered: list[dict[str, Any]] | None = None
        self.mckey_index: dict[str, str] = {
            ch["media_content_key"]: ufk for ufk, m in self.media.items() for ch in m["channels"]
        }

    def reset(self, *, reuse_ids: bool = False) -> None:
        """Back to the seed. ``reuse_ids``: also hand out again the ids made since the last
        reset, as a contents API that forgot its records and reuses ids would (a fault, for
        the site's guard against two pages on one record; a real API never does it)."""
        with self.lock:
            self.generation += 1
            if self.dirty or reuse_ids:
                # Records go back to the seed, but ids keep counting: a site (or the next
                # test) may still hold ids handed out before the reset.
                minted = self._counters_at_reset if reuse_ids else dict(self.counters)
                self.images.clear()
                self._load_seed()
                for name, value in minted.items():
                    self.counters[name] = max(self.counters.get(name, 0), value)
            if not reuse_ids:
                self._counters_at_reset = dict(self.counters)
                if self.config.state_file:
                    self._schedule_save()

    def seed_media(self, count: int) -> None:
        """Make the library hold exactly ``count`` seeded media (the first ``count`` of the
        seed: the media content records point at stay while ``count`` covers them)."""
        with self.lock:
            self.media = seed.media_library(count, self.config.seed)
            self.changed()

    def changed(self) -> None:
        """Call under the lock after any mutation."""
        self.dirty = True
        self._reindex()
        if self.config.state_file:
            self._schedule_save()

    def next_id(self, name: str) -> int:
        with self.lock:
            value = self.counters[name]
            self.counters[name] = value + 1
            return value

    # --- persistence ------------------------------------------------------------------
    def _schedule_save(self) -> None:
        if self._save_timer is None:
            self._save_timer = threading.Timer(1.0, self.save)
            self._save_timer.daemon = True
            self._save_timer.start()

    def save(self) -> None:
        path = self.config.state_file
        if not path:
            return
        with self.lock:
            self._save_timer = None
            snapshot = json.dumps(
                {name: getattr(self, name) for name in PERSISTED}, ensure_ascii=False
            )
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".sandbox-state-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(snapshot)
        os.replace(tmp, path)

    def _load_file(self, path: str) -> None:
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            logger.warning("sandbox: ignoring unreadable state file %s (%s)", path, exc)
            return
        # JSON turns int keys into strings; restore them.
        self.contents = {int(k): v for k, v in data.get("contents", {}).items()} or self.contents
        self.categories = {
            int(k): v for k, v in data.get("categories", {}).items()
        } or self.categories
        for name in ("media", "kollus_categories", "channels", "tickets", "counters"):
            if data.get(name):
                setattr(self, name, data[name])
        self._reindex()
        self.dirty = True

    # --- contents rendering -----------------------------------------------------------
    def contents_newest_first(self) -> list[dict[str, Any]]:
        """Records newest first (ties by id, so pages never overlap); cached until a change."""
        if self._ordered is None:
            self._ordered = sorted(
                self.contents.values(),
                key=lambda r: (r["created_at"], r["content_id"]),
                reverse=True,
            )
        return self._ordered

    def render_content(self, record: dict[str, Any], language: str | None = None) -> dict[str, Any]:
        """The public shape of a content record, in ``language`` when translated.

        Nested values are shared with the stored record, not copied (copying dominated list
        timings): call it and serialise the result while holding ``lock``."""
        lang = language if language in record["translations"] else record["language"]
        text = record["translations"][lang]
        out = {
            "content_id": record["content_id"],
            "title": text["title"],
            "description_html": text["description_html"],
            "content_type": record["content_type"],
            "status": record["status"],
            "language": lang,
            "category_ids": list(record["category_ids"]),
            "categories": [
                self.categories[c] for c in record["category_ids"] if c in self.categories
            ],
            "tag_ids": list(record["tag_ids"]),
            "featured_image": record["featured_image"],
            "images": record["images"],
            "base_price": record["base_price"],
            "sale_price": record["sale_price"],
            "is_on_sale": record["is_on_sale"],
            "is_free": record["is_free"],
            "connected_membership_ids": list(record["connected_membership_ids"]),
            "options": record["options"],
            "chapters": record["chapters"],
            "created_at": iso_utc(record["created_at"]),
            "updated_at": iso_utc(record["updated_at"]),
        }
        for key, value in record["extra"].items():
            out.setdefault(key, value)
        return out

    # --- Kollus rendering -------------------------------------------------------------
    def media_by_mckey(self, mckey: str) -> dict[str, Any] | None:
        """The media a key plays: a channel's key, or its extension ``{key}-{custom id}``,
        which Kollus plays for unencrypted media only (resume and progress kept apart)."""
        ufk = self.mckey_index.get(mckey)
        if ufk is None and "-" in mckey:
            base, _custom_id = mckey.rsplit("-", 1)
            media = self.media_by_mckey(base) if _custom_id else None
            return media if media is not None and not media["use_encryption"] else None
        return self.media.get(ufk) if ufk else None

    def _snapshot_frames(self, row: dict[str, Any], key: str) -> list[dict[str, Any]]:
        """Frames at a tenth, three tenths… of a transcoded video (ASSUMED shape of Kollus's
        snapshot list: ``docs/dev/contracts.md``)."""
        duration = row["duration"]
        if row["stage"] != "completed" or not duration:
            return []
        times = sorted({max(0, duration * tenth // 10) for tenth in (1, 3, 5, 7)})
        return [
            {"time": t, "url": f"{self.player_url}/poster/{key}.jpg?frame={t}"} for t in times
        ]

    def render_media(self, row: dict[str, Any]) -> dict[str, Any]:
        category = self.kollus_categories.get(row["category_key"] or "", None)
        first_key = (
            row["channels"][0]["media_content_key"] if row["channels"] else row["upload_file_key"]
        )
        poster = f"{self.player_url}/poster/{first_key}.jpg"
        snapshot = poster + "?snapshot=1"
        if row.get("poster_version"):
            poster += f"?v={row['poster_version']}"
        return {
            "upload_file_key": row["upload_file_key"],
            "title": row["title"],
            "category": {"key": category["key"], "name": category["name"]} if category else None,
            "duration": row["duration"],
            "use_encryption": row["use_encryption"],
            "is_audio": row["is_audio"],
            "transcoding_stage": TRANSCODING_STAGES[row["stage"]],
            "transcoding_stage_name": row["stage"],
            "media_information": {
                "file": {"duration": row["duration"], "size": row["original_file_size"]}
            },
            "original_file_name": row["original_file_name"],
            "original_file_size": row["original_file_size"],
            "poster_url": poster,
            "snapshot_url": snapshot,
            "snapshots": self._snapshot_frames(row, first_key),
            "media_content_keys": [
                {
                    "channel_key": ch["channel_key"],
                    "channel_name": self.channels.get(ch["channel_key"], {}).get("name", ""),
                    "media_content_key": ch["media_content_key"],
                    "profile_key": ch["profile_key"],
                }
                for ch in row["channels"]
            ],
            "created_at": int(row["created_at"]),
            "updated_at": int(row["updated_at"]),
        }
