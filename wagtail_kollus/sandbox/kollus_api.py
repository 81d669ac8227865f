"""The Kollus VOD API under ``/kollus``: v3 (``/kollus/api/...``, ``{"data": ...}``) and the v0
upload URL (``/kollus/0/media_auth/upload/create_url``, ``{"error": 0, "result": ...}``).

Paths marked ASSUMED in ``docs/dev/contracts.md`` (update, delete, replace, detach) are the
plugin's documented guesses; the sandbox answers them the way ``wagtail_kollus.api.paths`` calls.
"""

from __future__ import annotations

import math
import secrets
from datetime import UTC, datetime
from typing import Any

from . import library, statistics
from .http import HttpError, Request, Response, first, json_response
from .multipart import MultipartError
from .routing import Route
from .timestamps import now

API = "/kollus/api"
MAX_EXPIRE_TIME = 21600
# Kollus's ``state`` filter values, plus the plugin's own names.
STATE_FILTERS = {
    "completed": {"completed"},
    "ready": {"completed"},
    "transcoding": {"transcoding", "uploaded"},
    "error": {"failed"},
    "failed": {"failed"},
}


def _error(status: int, message: str) -> HttpError:
    return HttpError(json_response({"error": 1, "message": message}, status))


def _params(request: Request) -> dict[str, str]:
    """Form body (POST/PUT) over query string: Kollus accepts both for writes."""
    values = dict(request.query_pairs)
    values.update(request.form_pairs())
    values.pop("access_token", None)
    return values


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _media_or_404(app: Any, upload_file_key: str) -> dict[str, Any]:
    row = app.state.media.get(upload_file_key)
    if row is None:
        raise _error(404, "media content not found")
    return row


# --- upload URL ------------------------------------------------------------------------
def _create_ticket(app: Any, request: Request) -> dict[str, Any]:
    params = _params(request)
    try:
        expire_time = int(params.get("expire_time") or 600)
    except ValueError as exc:
        raise _error(422, "expire_time must be an integer number of seconds.") from exc
    if not 1 <= expire_time <= MAX_EXPIRE_TIME:
        raise _error(422, f"expire_time must be between 1 and {MAX_EXPIRE_TIME}.")
    category_key = params.get("category_key") or None
    state = app.state
    with state.lock:
        if category_key and category_key not in state.kollus_categories:
            raise _error(422, "category_key is not a category of this account.")
        if _flag(params.get("is_passthrough")) and not params.get("profile_key"):
            raise _error(422, "profile_key is required with is_passthrough.")
        token = secrets.token_urlsafe(24)
        upload_file_key = "ufk" + secrets.token_hex(10)
        expires_at = int(now()) + expire_time
        state.tickets[token] = {
            "upload_file_key": upload_file_key,
            "title": params.get("title") or "",
            "category_key": category_key,
            "is_encryption_upload": _flag(params.get("is_encryption_upload")),
            "is_audio_upload": _flag(params.get("is_audio_upload")),
            "expires_at": expires_at,
            "status": "open",  # open → receiving → used
            "progress": 0,
        }
        state.changed()
    base = state.base_url + "/kollus-upload/" + token
    return {
        "upload_url": base,
        "progress_url": base + "/progress",
        "upload_file_key": upload_file_key,
        "will_be_expired_at": expires_at,
    }


def upload_create_url(app: Any, request: Request) -> Response:
    return json_response({"data": _create_ticket(app, request)})


def upload_create_url_v0(app: Any, request: Request) -> Response:
    return json_response({"error": 0, "message": "", "result": _create_ticket(app, request)})


# --- media -----------------------------------------------------------------------------
def media_list(app: Any, request: Request) -> Response:
    try:
        page = max(1, int(request.query("page") or 1))
        per_page = min(100, max(1, int(request.query("per_page") or request.query("limit") or 50)))
    except ValueError as exc:
        raise _error(422, "page and per_page must be integers.") from exc
    state_filter = request.query("state") or None
    if state_filter and state_filter not in STATE_FILTERS:
        raise _error(422, f"state must be one of {', '.join(STATE_FILTERS)}.")
    keyword = (request.query("keyword") or "").casefold()
    category_key = request.route_params.get("category_key") or request.query("category_key") or None
    order = request.query("order") or "created_at|desc"
    field, _, direction = order.partition("|")
    if field not in ("created_at", "updated_at", "title") or direction not in ("", "asc", "desc"):
        raise _error(422, "order must look like created_at|desc.")
    start = statistics.parse_day(request.query("start_date"))
    end = statistics.parse_day(request.query("end_date"))
    with app.state.lock:
        rows = []
        for row in app.state.media.values():
            if state_filter and row["stage"] not in STATE_FILTERS[state_filter]:
                continue
            if keyword and keyword not in row["title"].casefold():
                continue
            if category_key and row["category_key"] != category_key:
                continue
            created = _day_of(row["created_at"])
            if (start and created < start) or (end and created > end):
                continue
            rows.append(row)
        rows.sort(key=lambda r: (r[field], r["upload_file_key"]), reverse=direction != "asc")
        total = len(rows)
        window = rows[(page - 1) * per_page : page * per_page]
        items = [app.state.render_media(r) for r in window]
    return json_response(
        {
            "data": {
                "items": items,
                "pagination": {
                    "current_page": page,
                    "per_page": per_page,
                    "total": total,
                    "last_page": max(1, math.ceil(total / per_page)),
                },
            }
        }
    )


def _day_of(timestamp: float):
    return datetime.fromtimestamp(timestamp, UTC).date()


def media_detail(app: Any, request: Request) -> Response:
    with app.state.lock:
        row = _media_or_404(app, request.route_params["upload_file_key"])
        return json_response({"data": app.state.render_media(row)})


def media_update(app: Any, request: Request) -> Response:
    params = _params(request)
    state = app.state
    with state.lock:
        row = _media_or_404(app, request.route_params["upload_file_key"])
        if "title" in params:
            if not params["title"].strip():
                raise _error(422, "title must not be empty.")
            row["title"] = params["title"]
        if "category_key" in params:
            if params["category_key"] and params["category_key"] not in state.kollus_categories:
                raise _error(422, "category_key is not a category of this account.")
            row["category_key"] = params["category_key"] or None
        row["updated_at"] = now()
        state.changed()
        data = state.render_media(row)
    library.content_updated(app, row, "info")
    return json_response({"data": data})


def media_delete(app: Any, request: Request) -> Response:
    state = app.state
    ufk = request.route_params["upload_file_key"]
    with state.lock:
        row = _media_or_404(app, ufk)
        channel_keys = [c["channel_key"] for c in row["channels"]]
    for channel_key in channel_keys:
        library.detach(app, channel_key, ufk)
    with state.lock:
        state.media.pop(ufk, None)
        state.changed()
    return json_response({"data": {"upload_file_key": ufk, "deleted": True}})


def media_replace(app: Any, request: Request) -> Response:
    """Swap the file behind a media, keeping every channel's media content key (so every player
    URL keeps working). Only like for like: encrypted↔encrypted, plain↔plain, video↔video."""
    params = _params(request)
    source_key = params.get("source_upload_file_key") or ""
    state = app.state
    with state.lock:
        target = _media_or_404(app, request.route_params["upload_file_key"])
        source = state.media.get(source_key)
        if source is None or source_key == target["upload_file_key"]:
            raise _error(422, "source_upload_file_key must name another media content.")
        if source["stage"] != "completed":
            raise _error(422, "The source media content has not finished transcoding.")
        if source["use_encryption"] != target["use_encryption"]:
            raise _error(422, "Encrypted and plain media contents cannot replace each other.")
        if source["is_audio"] != target["is_audio"]:
            raise _error(422, "Audio and video media contents cannot replace each other.")
        for name in ("duration", "original_file_name", "original_file_size", "sha256", "stage"):
            target[name] = source[name]
        target["updated_at"] = now()
        state.changed()
        data = state.render_media(target)
    library.content_updated(app, target, "replace")
    return json_response({"data": data})


POSTER_MAX_BYTES = 5 * 1024 * 1024
# What the sandbox takes as a poster, by the file's first bytes (as Kollus takes JPEG and PNG).
POSTER_SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


def _poster_part(request: Request) -> tuple[bytes, str]:
    if request.content_type != "multipart/form-data":
        raise _error(422, "The poster must be sent as multipart/form-data (field file).")
    found = None
    try:
        for part in request.multipart().parts():
            if part.name == "file" and part.filename is not None and found is None:
                found = part.read_all(limit=POSTER_MAX_BYTES)
            else:
                part.drain()
    except MultipartError as exc:
        raise _error(422, f"The poster could not be read: {exc}.") from exc
    if not found:
        raise _error(422, "No poster image in field file.")
    content_type = next(
        (kind for magic, kind in POSTER_SIGNATURES.items() if found.startswith(magic)), None
    )
    if content_type is None:
        raise _error(422, "The poster must be a JPEG or PNG image.")
    return found, content_type


def media_upload_poster(app: Any, request: Request) -> Response:
    """v0 ``upload_poster``: the image becomes the media's poster, served at its poster URL
    (``player.poster``) with a new ``?v=`` so browsers do not keep showing the old one."""
    ufk = request.route_params["upload_file_key"]
    image, content_type = _poster_part(request)
    state = app.state
    with state.lock:
        row = state.media.get(ufk)
        if row is None:
            return json_response({"error": 1, "message": "media content not found"}, 404)
        version = int(row.get("poster_version") or 0) + 1
        state.images[f"poster-{ufk}-{version}"] = (content_type, image)
        row["poster_version"] = version
        row["updated_at"] = now()
        state.changed()
        data = state.render_media(row)
    library.content_updated(app, row, "poster")
    return json_response({"error": 0, "message": "", "result": {"poster_url": data["poster_url"]}})


# --- channels and categories -----------------------------------------------------------
def channel_attach(app: Any, request: Request) -> Response:
    channel_key = request.route_params["channel_key"]
    ufk = request.route_params["upload_file_key"]
    with app.state.lock:
        if channel_key not in app.state.channels:
            raise _error(404, "channel not found")
        row = _media_or_404(app, ufk)
        if row["stage"] != "completed":
            # What real Kollus answers until transcoding is done: act on the callback instead.
            raise _error(404, "media content not found")
    link = library.attach(app, channel_key, ufk)
    if link is None:
        raise _error(404, "media content not found")
    return json_response({"data": {**link, "upload_file_key": ufk}})


def channel_detach(app: Any, request: Request) -> Response:
    channel_key = request.route_params["channel_key"]
    ufk = request.route_params["upload_file_key"]
    with app.state.lock:
        if channel_key not in app.state.channels:
            raise _error(404, "channel not found")
        _media_or_404(app, ufk)
    if not library.detach(app, channel_key, ufk):
        raise _error(404, "media content is not in this channel")
    return json_response({"data": {"channel_key": channel_key, "upload_file_key": ufk}})


def channel_list(app: Any, request: Request) -> Response:
    with app.state.lock:
        rows = [
            {"key": c["key"], "name": c["name"], "use_pingback": 0, "media_content_count": 0}
            for c in app.state.channels.values()
        ]
    return json_response({"data": {"items": rows}})


def category_list(app: Any, request: Request) -> Response:
    with app.state.lock:
        rows = [dict(c) for c in app.state.kollus_categories.values()]
    return json_response({"data": {"items": rows}})


def category_create(app: Any, request: Request) -> Response:
    name = (_params(request).get("name") or "").strip()
    if not name:
        raise _error(422, "name is required.")
    state = app.state
    with state.lock:
        key = f"sandbox-category-{state.next_id('category')}"
        state.kollus_categories[key] = {"key": key, "name": name, "parent_key": None}
        state.changed()
        return json_response({"data": dict(state.kollus_categories[key])}, 201)


# --- statistics ------------------------------------------------------------------------
def _stats_range(request: Request):
    start = statistics.parse_day(request.query("start_date"))
    end = statistics.parse_day(request.query("end_date"))
    problem = statistics.range_error(start, end)
    if problem:
        raise _error(422, problem)
    return start, end


def stats_summary_daily(app: Any, request: Request) -> Response:
    start, end = _stats_range(request)
    items = [statistics.daily_summary(day) for day in statistics.days(start, end)]
    total = {key: sum(int(item[key]) for item in items) for key in items[0] if key != "date"}
    return json_response({"data": {"items": items, "total": total}})


def stats_content_rank(app: Any, request: Request) -> Response:
    start, end = _stats_range(request)
    keyword = (request.query("keyword") or "").casefold()
    try:
        start_index = max(0, int(request.query("start_index") or 0))
        limit = max(0, int(request.query("limit") or 0))
    except ValueError as exc:
        raise _error(422, "start_index and limit must be integers.") from exc
    period = statistics.days(start, end)
    with app.state.lock:
        rows = [
            (r["upload_file_key"], r["title"]) for r in app.state.media.values()
            if r["stage"] == "completed" and keyword in r["title"].casefold()
        ]  # fmt: skip
    ranked = []
    for ufk, title in rows:
        views = sum(statistics.daily_views(ufk, day) for day in period)
        if views:
            play_time = sum(statistics.daily_play_time(ufk, day) for day in period)
            ranked.append(
                {"upload_key": ufk, "title": title, "views": views, "play_time": play_time}
            )
    ranked.sort(key=lambda item: (-item["views"], item["upload_key"]))
    window = ranked[start_index : start_index + limit] if limit else ranked[start_index:]
    return json_response({"data": {"items": window, "total_count": len(ranked)}})


MEDIA = API + "/media-contents/{upload_file_key}"
CHANNEL_MEDIA = API + "/channels/{channel_key}/media-contents/{upload_file_key}"

ROUTES = [
    Route(
        "POST",
        API + "/upload/create-url",
        "kollus.upload_create_url",
        upload_create_url,
        auth="kollus",
    ),
    Route(
        "POST",
        "/kollus/0/media_auth/upload/create_url",
        "kollus.upload_create_url_v0",
        upload_create_url_v0,
        auth="kollus",
    ),
    Route("GET", API + "/media-contents", "kollus.media_list", media_list, auth="kollus"),
    Route(
        "GET",
        API + "/categories/{category_key}/media-contents",
        "kollus.media_list",
        media_list,
        auth="kollus",
    ),
    Route("GET", MEDIA, "kollus.media_detail", media_detail, auth="kollus"),
    Route("PUT", MEDIA, "kollus.media_update", media_update, auth="kollus"),
    Route("POST", MEDIA + "/update", "kollus.media_update", media_update, auth="kollus"),
    Route("DELETE", MEDIA, "kollus.media_delete", media_delete, auth="kollus"),
    Route("POST", MEDIA + "/replace", "kollus.media_replace", media_replace, auth="kollus"),
    Route(
        "POST", CHANNEL_MEDIA + "/attach", "kollus.channel_attach", channel_attach, auth="kollus"
    ),
    Route(
        "POST", CHANNEL_MEDIA + "/detach", "kollus.channel_detach", channel_detach, auth="kollus"
    ),
    Route(
        "POST",
        "/kollus/0/media/library/upload_poster/{upload_file_key}.json",
        "kollus.upload_poster",
        media_upload_poster,
        auth="kollus",
    ),
    Route("GET", API + "/channels", "kollus.channels", channel_list, auth="kollus"),
    Route("GET", API + "/categories", "kollus.categories", category_list, auth="kollus"),
    Route("POST", API + "/categories", "kollus.category_create", category_create, auth="kollus"),
    Route(
        "GET",
        API + "/statistics/summary-daily",
        "kollus.stats_summary_daily",
        stats_summary_daily,
        auth="kollus",
    ),
    Route(
        "GET",
        API + "/statistics/content-rank",
        "kollus.stats_content_rank",
        stats_content_rank,
        auth="kollus",
    ),
]

__all__ = ["ROUTES", "first"]
