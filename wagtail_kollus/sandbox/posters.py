"""Poster images for sandbox media: a JPEG with a colour and text derived from the key.

Generated with Pillow on first request and kept in a small in-memory cache.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict

from PIL import Image, ImageDraw

SIZE = (320, 180)
_CACHE_SIZE = 256
_cache: OrderedDict[str, bytes] = OrderedDict()
_lock = threading.Lock()


def _colour(key: str) -> tuple[int, int, int]:
    digest = hashlib.sha1(key.encode()).digest()
    # Keep colours mid-dark so the white label stays readable.
    return (40 + digest[0] % 150, 40 + digest[1] % 150, 40 + digest[2] % 150)


def poster_jpeg(key: str, label: str) -> bytes:
    cache_key = f"{key}\0{label}"
    with _lock:
        if cache_key in _cache:
            _cache.move_to_end(cache_key)
            return _cache[cache_key]
    image = Image.new("RGB", SIZE, _colour(key))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, SIZE[1] - 44, SIZE[0], SIZE[1]), fill=(0, 0, 0))
    # The default bitmap font has no Hangul glyphs: keep the ASCII part of the label.
    text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in label)[:40]
    draw.text((10, SIZE[1] - 36), text, fill=(255, 255, 255))
    draw.text((10, SIZE[1] - 20), key[:40], fill=(200, 200, 200))
    draw.polygon([(140, 60), (140, 110), (185, 85)], fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    data = buffer.getvalue()
    with _lock:
        _cache[cache_key] = data
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return data


def placeholder_jpeg(name: str) -> bytes:
    return poster_jpeg(name, "sandbox image")
