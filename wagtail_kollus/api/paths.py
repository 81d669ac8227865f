"""Every Kollus API path in one table, so a site can repoint one without patching code.

Kollus documents only part of its v3 API (see ``docs/api-clients.md``); the paths marked
ASSUMED below are this plugin's best guess. A site overrides any of them with the setting
``WAGTAIL_KOLLUS["KOLLUS_API_PATHS"] = {"media_delete": "/api/..."}``. Placeholders in braces
are filled with URL-quoted values by :func:`build_path`.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from .errors import ConfigurationError

KOLLUS_PATHS: dict[str, str] = {
    "upload_create_url": "/api/upload/create-url",  # DOC
    "media_list": "/api/media-contents",  # DOC
    "media_detail": "/api/media-contents/{upload_file_key}",  # DOC
    "media_update": "/api/media-contents/{upload_file_key}",  # ASSUMED (PUT)
    "media_delete": "/api/media-contents/{upload_file_key}",  # ASSUMED (DELETE)
    "media_replace": "/api/media-contents/{upload_file_key}/replace",  # ASSUMED
    "channel_attach": "/api/channels/{channel_key}/media-contents/{upload_file_key}/attach",  # CODE
    "channel_detach": "/api/channels/{channel_key}/media-contents/{upload_file_key}/detach",  # ASSUMED
    "categories": "/api/categories",  # DOC/CODE
    # v0 (multipart field ``file``); Kollus serves v0 on its v0 host (api.kr.kollus.com): a
    # site whose KOLLUS_API_URL host has no /0/ routes sets an absolute URL here.
    "media_upload_poster": "/0/media/library/upload_poster/{upload_file_key}.json",  # CODE
    "stats_summary_daily": "/api/statistics/summary-daily",  # DOC
    "stats_content_rank": "/api/statistics/content-rank",  # DOC
}


def resolve_paths(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The path table with ``overrides`` applied; unknown names are a configuration error."""
    paths = dict(KOLLUS_PATHS)
    for name, template in (overrides or {}).items():
        if name not in KOLLUS_PATHS:
            known = ", ".join(sorted(KOLLUS_PATHS))
            raise ConfigurationError(
                f"WAGTAIL_KOLLUS['KOLLUS_API_PATHS'] names an unknown path {name!r}; known: {known}."
            )
        if not isinstance(template, str) or not template:
            raise ConfigurationError(
                f"WAGTAIL_KOLLUS['KOLLUS_API_PATHS'][{name!r}] must be a non-empty string."
            )
        paths[name] = template
    return paths


def build_path(template: str, **values: str) -> str:
    """Fill ``{placeholders}`` with URL-quoted values (keys come from users and callbacks)."""
    return template.format(**{k: quote(str(v), safe="") for k, v in values.items()})
