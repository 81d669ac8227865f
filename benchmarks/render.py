"""Benchmark group ``render``: what 50 ``KollusVideoBlock``s cost a page render.

* ``render_50_blocks_http_calls``: remote calls made while rendering (target = 0: the block
  reads the local ``KollusVideo`` rows copied at choose time, never an API).
* ``render_50_blocks_block_queries``: database queries the 50 blocks make on a cold render
  (target ≤ 2): one primary-key read of the video rows' generation counter, and one query for
  the 50 ``KollusVideo`` rows, library media joined (``wagtail_kollus.video_cache``).
  ``render_50_blocks_warm_queries`` (informational): the same once this process holds the rows
  (1: the counter only; every write to the rows changes it, so nothing stale is shown).
* ``render_50_blocks_ratio``: median time to load and render a StreamField of 50 Kollus video
  blocks (lazy raw JSON → values → HTML, with a freshly signed player URL per block) ÷ the same
  for 50 static ``<iframe>`` blocks rendered from a template, timed in alternation in the same
  run (target ≤ 1.3). Rendering signs one player JWT per block (``CACHE_SAFE_PLAYBACK`` off, the
  default) and writes the default markup in one pass (``wagtail_kollus.block_player``); the
  rows come from the process's copy, checked against the generation counter.
* ``render_50_blocks_cold_ratio`` (informational): the same, but with the process's copy of
  the rows dropped before every render, as right after a video was edited: the 50 rows are
  queried each time, which on its own costs more than the baseline's whole render.
* ``render_50_blocks_vs_chooser_ratio`` (informational): the same 50 Kollus blocks ÷ 50 of
  Wagtail's own ``SnippetChooserBlock`` over the same ``KollusVideo`` rows (one ``in_bulk``
  query), each rendering the static iframe template. The baseline above has no database row to
  load; this one does, so it shows what the plugin itself adds (signing, options, placeholder
  logic) over a plain DB-backed chooser block.
* ``render_50_blocks_cache_safe_ratio``: the same with ``CACHE_SAFE_PLAYBACK`` on (a signed,
  non-secret reference per block instead of a JWT; informational).

Environment: ``BENCH_RENDER_LOADS`` (timed renders per side, default 200).
"""

from __future__ import annotations

import os
from typing import Any

from . import interleaved_medians

TARGETS = {
    "render_50_blocks_http_calls": ("<=", 0),
    "render_50_blocks_block_queries": ("<=", 2),
    "render_50_blocks_ratio": ("<=", 1.3),
}

BLOCKS = 50
PAGE_TEMPLATE = (
    "{% load wagtailcore_tags %}<main>{% for block in body %}"
    "<section>{% include_block block %}</section>{% endfor %}</main>"
)
IFRAME_TEMPLATE = (
    '<div class="video"><iframe src="{{ value.url }}" title="{{ value.title }}" '
    'width="640" height="360" allow="autoplay; fullscreen; encrypted-media" allowfullscreen>'
    "</iframe></div>"
)


def _iframe_block() -> Any:
    """The baseline: a plain StructBlock (URL + title) rendered through a Django template."""
    from django.template import engines
    from wagtail import blocks

    template = engines["django"].from_string(IFRAME_TEMPLATE)

    class StaticIframeBlock(blocks.StructBlock):
        url = blocks.URLBlock()
        title = blocks.CharBlock()

        def render(self, value, context=None):
            return template.render({"value": value})

    return StaticIframeBlock()


def _chooser_stream_block() -> Any:
    """Wagtail's own DB-backed chooser block over the same rows, rendered like the baseline."""
    from django.template import engines
    from wagtail import blocks
    from wagtail.snippets.blocks import SnippetChooserBlock

    from wagtail_kollus.models import KollusVideo

    template = engines["django"].from_string(IFRAME_TEMPLATE.replace("value.url", "url"))

    class StaticChooserIframeBlock(SnippetChooserBlock):
        def render(self, value, context=None):
            return template.render({"value": value, "url": f"/player/{value.media_content_key}"})

    return blocks.StreamBlock([("chosen", StaticChooserIframeBlock(KollusVideo))])


def _stream_blocks() -> tuple[Any, Any]:
    from wagtail import blocks

    from wagtail_kollus.blocks import KollusVideoBlock

    kollus = blocks.StreamBlock([("video", KollusVideoBlock())])
    iframes = blocks.StreamBlock([("iframe", _iframe_block())])
    return kollus, iframes


def _videos(count: int) -> list[Any]:
    from wagtail_kollus.models import KollusMedia, KollusVideo, MediaState

    media = KollusMedia.objects.create(
        title="Library video", media_content_key="bench-mckey-0", state=MediaState.READY
    )
    return [
        KollusVideo.objects.create(
            content_id=10_000 + n,
            chapter_id=1,
            item_id=n,
            language="ko",
            title=f"Lesson {n}",
            content_title="Benchmark course",
            media_content_key=f"bench-mckey-{n}",
            media=media if n % 5 == 0 else None,
            thumbnail_url=f"https://img.example/{n}.jpg",
            duration_seconds=600,
        )
        for n in range(count)
    ]


def _raw_kollus(videos: list[Any]) -> list[dict]:
    return [
        {
            "type": "video",
            "id": f"v{video.pk}",
            "value": {
                "video": video.pk,
                "autoplay": False,
                "mute": False,
                "start_time": 0,
                "allow_seek": True,
                "disable_playrate": False,
                "title_override": "",
            },
        }
        for video in videos
    ]


def _raw_iframes(player_url: str, count: int) -> list[dict]:
    return [
        {
            "type": "iframe",
            "id": f"i{n}",
            "value": {"url": f"{player_url}/bench-mckey-{n}", "title": f"Lesson {n}"},
        }
        for n in range(count)
    ]


def _render(stream_block: Any, raw: list[dict], request: Any) -> str:
    from django.template import engines
    from wagtail.blocks import StreamValue

    page = engines["django"].from_string(PAGE_TEMPLATE)
    # Lazy, exactly as a page fresh from the database: blocks are converted on first access.
    body = StreamValue(stream_block, raw, is_lazy=True)
    return page.render({"body": body}, request)


def _measure(sandbox) -> dict[str, float]:
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from wagtail_kollus import video_cache

    request = RequestFactory().get("/videos/")
    video_cache.forget_process_copy()
    kollus, iframes = _stream_blocks()
    raw_kollus = _raw_kollus(_videos(BLOCKS))
    raw_iframes = _raw_iframes(sandbox.player_url, BLOCKS)
    results: dict[str, float] = {}

    before = sandbox.request_count()
    with CaptureQueriesContext(connection) as queries:
        html = _render(kollus, raw_kollus, request)
    assert html.count("<iframe") == BLOCKS, "every block must render a player"
    results["render_50_blocks_http_calls"] = sandbox.request_count() - before
    results["render_50_blocks_block_queries"] = len(queries)
    with CaptureQueriesContext(connection) as queries:
        _render(kollus, raw_kollus, request)
    results["render_50_blocks_warm_queries"] = len(queries)

    loads = int(os.environ.get("BENCH_RENDER_LOADS", "200"))

    def render_ours() -> str:
        return _render(kollus, raw_kollus, request)

    def render_iframes() -> str:
        return _render(iframes, raw_iframes, request)

    ours, theirs = interleaved_medians(render_ours, render_iframes, loads=loads)
    results["render_50_blocks_seconds"] = ours
    results["render_50_iframes_seconds"] = theirs
    results["render_50_blocks_ratio"] = ours / theirs

    def render_ours_cold() -> str:
        video_cache.forget_process_copy()  # as after a write: the rows are queried again
        return render_ours()

    cold, theirs = interleaved_medians(render_ours_cold, render_iframes, loads=loads)
    results["render_50_blocks_cold_seconds"] = cold
    results["render_50_blocks_cold_ratio"] = cold / theirs

    chooser = _chooser_stream_block()
    raw_chosen = [
        {"type": "chosen", "id": f"c{n}", "value": block["value"]["video"]}
        for n, block in enumerate(raw_kollus)
    ]
    assert _render(chooser, raw_chosen, request).count("<iframe") == BLOCKS
    ours, chosen = interleaved_medians(
        render_ours, lambda: _render(chooser, raw_chosen, request), loads=loads
    )
    results["render_50_chooser_blocks_seconds"] = chosen
    results["render_50_blocks_vs_chooser_ratio"] = ours / chosen

    # The same page in cache-safe playback mode (a signed reference per block, no JWT).
    from django.test.utils import override_settings

    from wagtail_kollus.conf import kollus_settings

    cache_safe = {**sandbox.kollus_settings(), "CACHE_SAFE_PLAYBACK": True}
    with override_settings(WAGTAIL_KOLLUS=cache_safe):
        assert kollus_settings.CACHE_SAFE_PLAYBACK
        ours_safe, theirs = interleaved_medians(render_ours, render_iframes, loads=loads)
    results["render_50_blocks_cache_safe_seconds"] = ours_safe
    results["render_50_blocks_cache_safe_ratio"] = ours_safe / theirs
    return results


def run() -> dict[str, float]:
    from django.db import connection
    from django.test.utils import override_settings

    from wagtail_kollus.sandbox.testing import SandboxServer

    # No setup_test_environment(): its instrumented template rendering would tax the side
    # that renders more templates and distort the ratio.
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    sandbox = SandboxServer().start()
    try:
        with override_settings(WAGTAIL_KOLLUS=sandbox.kollus_settings(), DEBUG=False):
            return _measure(sandbox)
    finally:
        sandbox.stop()
        connection.creation.destroy_test_db(old_name, verbosity=0)
