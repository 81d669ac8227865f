"""Deterministic seed data: content records, categories, tags and the Kollus library behind them.

Everything derives from ``random.Random(seed)`` and the record index, so two sandboxes with the
same settings hold the same records (tests and benchmarks can rely on ids and titles). Content ids
start at 4301 so the id of the seed document's ``PUT /contents/4321`` example exists.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from .config import DEFAULT_CATEGORY_KEY, DEFAULT_CHANNEL_KEY, SECURE_CHANNEL_KEY

FIRST_CONTENT_ID = 4301
SEED_EPOCH = 1767225600  # 2026-01-01T00:00:00Z: seeded records were created after it
CONTENT_TYPES = ("vod", "live", "offline", "digital_content")
STATUSES = ("publish", "pending", "paused", "in_review", "banned")
LANGUAGES = ("ko", "en", "ja")
TAG_IDS = tuple(range(21, 33))

# (id, parent id, name): two levels deep, twelve categories. Ids 11 and 12 exist because the
# seed document's curl examples use them.
CATEGORIES: tuple[tuple[int, int | None, str], ...] = (
    (1, None, "디자인 Design"),
    (2, 1, "Photoshop"),
    (3, 1, "Illustrator"),
    (4, None, "개발 Development"),
    (5, 4, "Python"),
    (6, 4, "JavaScript"),
    (7, None, "마케팅 Marketing"),
    (8, None, "음악 Music"),
    (9, 8, "Guitar"),
    (10, None, "언어 Languages"),
    (11, 1, "사진 Photography"),
    (12, 10, "日本語 Japanese"),
)

# Titles that must come out escaped everywhere they are shown. Index → title.
HOSTILE_TITLES = {
    2: "<img src=x onerror=alert(1)>",
    4: "\"Quotes\" & 'apostrophes' </script><script>alert(2)</script>",
    6: "🎬 영상 편집 마스터 🎞️✨",
    8: "دورة التصوير ‮RTL‬ مقدمة",
    10: "{{ template }} {% tag %} ${js} `backtick`",
}

_TOPICS_KO = ("포토샵", "일러스트", "파이썬", "자바스크립트", "마케팅", "기타", "사진", "영상 편집")
_TOPICS_EN = (
    "Photoshop",
    "Illustrator",
    "Python",
    "JavaScript",
    "Marketing",
    "Guitar",
    "Photo",
    "Video editing",
)
_TOPICS_JA = (
    "フォトショップ",
    "イラレ",
    "パイソン",
    "ジャバスクリプト",
    "マーケティング",
    "ギター",
    "写真",
    "動画編集",
)
_LEVELS = {
    "ko": ("입문", "기초", "중급", "실전", "마스터"),
    "en": ("Intro", "Basics", "Intermediate", "Practice", "Master"),
    "ja": ("入門", "基礎", "中級", "実践", "マスター"),
}
_KIND = {"ko": "클래스", "en": "class", "ja": "クラス"}


def stable_key(prefix: str, *parts: object, length: int = 20) -> str:
    digest = hashlib.sha1(":".join(str(p) for p in (prefix, *parts)).encode()).hexdigest()
    return digest[:length]


def category_rows() -> dict[int, dict[str, Any]]:
    names = {cid: name for cid, _, name in CATEGORIES}
    rows = {}
    for cid, parent, name in CATEGORIES:
        path = f"{names[parent]} > {name}" if parent else name
        rows[cid] = {
            "category_id": cid,
            "parent_category_id": parent,
            "name": name,
            "description": f"{name} 강의 모음",
            "path": path,
        }
    return rows


def _title(lang: str, index: int, rng: random.Random) -> str:
    topics = {"ko": _TOPICS_KO, "en": _TOPICS_EN, "ja": _TOPICS_JA}[lang]
    topic = topics[index % len(topics)]
    level = _LEVELS[lang][(index // len(topics)) % len(_LEVELS[lang])]
    return f"{topic} {level} {_KIND[lang]} #{index + 1}"


def media_library(count: int, seed: int) -> dict[str, dict[str, Any]]:
    """``count`` Kollus media rows. Most are ready in the default channel; a few are still
    transcoding or failed, some are also in the secured channel, every 7th is encrypted."""
    rng = random.Random(seed * 7 + 1)
    rows: dict[str, dict[str, Any]] = {}
    for i in range(count):
        ufk = stable_key("ufk", seed, i)
        if i % 23 == 5:
            stage = "transcoding"
        elif i % 31 == 9:
            stage = "failed"
        else:
            stage = "completed"
        channels = []
        if stage == "completed":
            channels.append(
                {
                    "channel_key": DEFAULT_CHANNEL_KEY,
                    "media_content_key": stable_key("mck", seed, i, 0),
                    "profile_key": "sandbox-pc1-high",
                }
            )
            if i % 4 == 1:
                channels.append(
                    {
                        "channel_key": SECURE_CHANNEL_KEY,
                        "media_content_key": stable_key("mck", seed, i, 1),
                        "profile_key": "sandbox-pc1-high",
                    }
                )
        created = SEED_EPOCH + i * 3600
        rows[ufk] = {
            "upload_file_key": ufk,
            "title": f"Sandbox video {i + 1:04d}"
            if i % 9
            else f'<b>Raw</b> & "odd" video {i + 1:04d}',
            "category_key": DEFAULT_CATEGORY_KEY,
            "duration": 60 + rng.randrange(3600) if stage == "completed" else None,
            "use_encryption": 1 if i % 7 == 3 else 0,
            "is_audio": 1 if i % 29 == 11 else 0,
            "stage": stage,
            "original_file_name": f"video-{i + 1:04d}.mp4",
            "original_file_size": 10_000_000 + rng.randrange(900_000_000),
            "sha256": None,
            "channels": channels,
            "created_at": created,
            "updated_at": created,
        }
    return rows


def _duration_text(seconds: int | None) -> str:
    if not seconds:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def content_records(
    count: int, seed: int, media: dict[str, dict[str, Any]], player_url: str, base_url: str
) -> dict[int, dict[str, Any]]:
    """``count`` content records in the sandbox's internal shape (see ``state.render_content``)."""
    rng = random.Random(seed)
    playable = [m for m in media.values() if m["channels"]]
    others = [m for m in media.values() if not m["channels"]]
    records: dict[int, dict[str, Any]] = {}
    ids = iter(range(1, 10**9))
    for index in range(count):
        content_id = FIRST_CONTENT_ID + index
        content_type = CONTENT_TYPES[0] if index % 2 == 0 else CONTENT_TYPES[(index // 2) % 4]
        status = STATUSES[0] if index % 3 != 2 else STATUSES[(index // 3) % 5]
        language = "ko" if index % 10 < 7 else ("en" if index % 10 < 9 else "ja")
        translations = {}
        for lang in LANGUAGES:
            if (
                lang == language
                or (lang == "en" and index % 3 == 0)
                or (lang == "ja" and index % 5 == 0)
            ):
                title = HOSTILE_TITLES.get(index) or _title(lang, index, rng)
                translations[lang] = {
                    "title": title,
                    "description_html": f"<p>{_title(lang, index, rng)}: sandbox content {content_id}.</p>",
                }
        category_id = CATEGORIES[index % len(CATEGORIES)][0]
        category_ids = [category_id] + ([CATEGORIES[(index * 5) % 12][0]] if index % 6 == 0 else [])
        base_price = (index % 8) * 10000
        sale_price = base_price - 5000 if base_price and index % 4 == 0 else base_price
        poster_media = playable[index % len(playable)] if playable else None
        chapters = []
        if content_type == "vod":
            chapters = _chapters(index, rng, playable, others, player_url, ids)
        created = SEED_EPOCH + index * 1800 + rng.randrange(600)
        records[content_id] = {
            "content_id": content_id,
            "content_type": content_type,
            "status": status,
            "language": language,
            "translations": translations,
            "category_ids": sorted(set(category_ids)),
            "tag_ids": [TAG_IDS[(index // 4) % len(TAG_IDS)]] if index % 4 != 3 else [],
            "featured_image": (
                f"{player_url}/poster/{poster_media['channels'][0]['media_content_key']}.jpg"
                if poster_media
                else f"{base_url}/_sandbox/images/placeholder.jpg"
            ),
            "images": [],
            "base_price": base_price,
            "sale_price": sale_price,
            "is_on_sale": sale_price < base_price,
            "is_free": base_price == 0,
            "connected_membership_ids": [1] if index % 11 == 0 else [],
            "options": [],
            "chapters": chapters,
            "extra": {},
            "created_at": created,
            "updated_at": created + rng.randrange(86400),
        }
    return records


def _chapters(index, rng, playable, others, player_url, ids) -> list[dict[str, Any]]:
    # Every 5th VOD content holds exactly one item (the "choose the only video" case).
    single = index % 10 == 0
    chapter_count = 1 if single else 1 + rng.randrange(4)
    chapters = []
    for c in range(chapter_count):
        items = []
        item_count = 1 if single else 1 + rng.randrange(5)
        for n in range(item_count):
            item_id = next(ids)
            if not single and n == 2 and index % 3 == 0:
                # A non-Kollus item: shown in the chooser but not choosable.
                items.append(
                    _item(
                        item_id,
                        f"YouTube 미리보기 {n + 1}",
                        f"https://www.youtube.com/watch?v=sbx{index}{n}",
                        "",
                        "youtube",
                        n == 0,
                    )
                )
                continue
            if not single and n == 3 and index % 4 == 0 and others:
                media = others[(index + n) % len(others)]
                mckey = stable_key("mck-pending", media["upload_file_key"])  # not playable yet
                items.append(
                    _item(
                        item_id,
                        f"{media['title']} (processing)",
                        f"{player_url}/{mckey}",
                        "",
                        "kollus",
                        False,
                    )
                )
                continue
            media = playable[(index * 7 + c * 5 + n) % len(playable)]
            mckey = media["channels"][0]["media_content_key"]
            items.append(
                _item(
                    item_id,
                    f"{c + 1}-{n + 1}. {media['title']}",
                    f"{player_url}/{mckey}",
                    _duration_text(media["duration"]),
                    "kollus",
                    n == 0 and c == 0,
                )
            )
        chapters.append({"chapter_id": next(ids), "title": f"Chapter {c + 1}", "items": items})
    return chapters


def _item(item_id, title, media_url, duration_text, source, preview) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "title": title,
        "description": "",
        "media_url": media_url,
        "duration_text": duration_text,
        "reference_url": "",
        "reference_description": "",
        "is_preview": preview,
        "media_source_type": source,
    }
