"""``/_sandbox/...``: the control API tests and the demo use (faults, reset, logs, callbacks).

Unauthenticated by design: the sandbox is a local test double. Never expose it publicly.
"""

from __future__ import annotations

from typing import Any

from .faults import FAULT_FIELDS
from .home import home
from .http import HttpError, Request, Response, json_response
from .library import finish_transcoding as finish
from .posters import placeholder_jpeg
from .routing import Route


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError as exc:
        raise HttpError(json_response({"message": "Body must be JSON."}, 400)) from exc
    if not isinstance(body, dict):
        raise HttpError(json_response({"message": "Body must be a JSON object."}, 400))
    return body


def index(app: Any, request: Request) -> Response:
    base = app.state.base_url
    return json_response(
        {
            "contents_api_url": base + "/api/public/v1",
            "kollus_api_url": base + "/kollus",
            "player_url": base + "/player",
            "control": [r.template for r in app.router.routes if r.control],
            "contents": len(app.state.contents),
            "media": len(app.state.media),
        }
    )


def get_faults(app: Any, request: Request) -> Response:
    return json_response({"faults": app.faults.as_dict()})


def set_fault(app: Any, request: Request) -> Response:
    """``{"endpoint": "contents.list", "status": 503, "times": 2, ...}``."""
    body = _json_body(request)
    endpoint = body.pop("endpoint", None)
    if not endpoint or not isinstance(endpoint, str):
        raise HttpError(
            json_response({"message": "endpoint is required.", "fields": list(FAULT_FIELDS)}, 422)
        )
    try:
        fault = app.faults.set(endpoint, **body)
    except (TypeError, ValueError) as exc:
        raise HttpError(json_response({"message": str(exc)}, 422)) from exc
    return json_response({"endpoint": endpoint, "fault": fault.as_dict()}, 201)


def clear_faults(app: Any, request: Request) -> Response:
    app.faults.clear(request.query("endpoint") or None)
    return json_response({"faults": app.faults.as_dict()})


def reset(app: Any, request: Request) -> Response:
    app.reset(reuse_ids=request.query("reuse_ids") in ("1", "true"))
    return json_response({"reset": True})


def get_requests(app: Any, request: Request) -> Response:
    endpoint = request.query("endpoint") or None
    return json_response(
        {"requests": app.requests.entries(endpoint), "counts": app.requests.counts()}
    )


def clear_requests(app: Any, request: Request) -> Response:
    app.requests.clear()
    return json_response({"requests": []})


def get_callbacks(app: Any, request: Request) -> Response:
    return json_response(
        {
            "targets": dict(app.callbacks.targets),
            "log": app.callbacks.entries(),
            "player_answers": app.callbacks.player_answer_log(),
        }
    )


def set_callback_target(app: Any, request: Request) -> Response:
    """``{"kind": "all" | "upload" | ..., "url": "http://..." | null}``."""
    body = _json_body(request)
    try:
        app.callbacks.set_target(str(body.get("kind", "all")), body.get("url") or None)
    except ValueError as exc:
        raise HttpError(json_response({"message": str(exc)}, 422)) from exc
    return json_response({"targets": dict(app.callbacks.targets)})


def finish_transcoding(app: Any, request: Request) -> Response:
    """Finish a pending transcoding now (demo: no need to wait for ``--callback-delay``)."""
    body = _json_body(request)
    finish(app, request.route_params["upload_file_key"], body.get("result", "success") == "success")
    with app.state.lock:
        row = app.state.media.get(request.route_params["upload_file_key"])
        if row is None:
            raise HttpError(json_response({"message": "Unknown upload_file_key."}, 404))
        return json_response({"data": app.state.render_media(row)})


def seed_media(app: Any, request: Request) -> Response:
    """``{"count": 300}``: the library holds that many seeded media (a channel to import)."""
    body = _json_body(request)
    count = body.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 100_000:
        raise HttpError(json_response({"message": "count must be an integer, 0-100000."}, 422))
    app.state.seed_media(count)
    return json_response({"media": count}, 201)


def delete_content(app: Any, request: Request) -> Response:
    """Remove a content record, as if deleted on the contents site: the public API has no
    DELETE, and afterwards answers 404 for it like for any unknown id."""
    raw_id = request.route_params["content_id"]
    content_id = int(raw_id) if raw_id.isdigit() else None
    with app.state.lock:
        if app.state.contents.pop(content_id, None) is None:
            raise HttpError(json_response({"message": "Unknown content_id."}, 404))
        app.state.changed()
    return json_response({"deleted": content_id})


def image(app: Any, request: Request) -> Response:
    name = request.route_params["name"]
    with app.state.lock:
        found = app.state.images.get(name)
    if found is None:

        return Response(200, placeholder_jpeg(name), [("Content-Type", "image/jpeg")])
    content_type, data = found
    return Response(200, data, [("Content-Type", content_type)])


ROUTES = [
    Route(
        "POST",
        "/_sandbox/media",
        "control.media_seed",
        seed_media,
        control=True,
        summary='hold exactly N seeded media (a library to import): {"count": 300}',
    ),
    Route("GET", "/", "control.home", home, control=True),
    Route(
        "GET", "/_sandbox", "control.index", index, control=True, summary="URLs and counts, as JSON"
    ),
    Route(
        "GET",
        "/_sandbox/faults",
        "control.faults",
        get_faults,
        control=True,
        summary="the faults in force",
    ),
    Route(
        "POST",
        "/_sandbox/faults",
        "control.faults_set",
        set_fault,
        control=True,
        summary='inject a fault: {"endpoint": "contents.list", "status": 503, "times": 2}',
    ),
    Route(
        "DELETE",
        "/_sandbox/faults",
        "control.faults_clear",
        clear_faults,
        control=True,
        summary="clear every fault (?endpoint=… for one)",
    ),
    Route(
        "POST",
        "/_sandbox/reset",
        "control.reset",
        reset,
        control=True,
        summary="back to the seed: records, media, no faults, empty logs",
    ),
    Route(
        "GET",
        "/_sandbox/requests",
        "control.requests",
        get_requests,
        control=True,
        summary="the request log (credentials redacted) and counts per endpoint",
    ),
    Route(
        "DELETE",
        "/_sandbox/requests",
        "control.requests_clear",
        clear_requests,
        control=True,
        summary="empty the request log",
    ),
    Route(
        "GET",
        "/_sandbox/callbacks",
        "control.callbacks",
        get_callbacks,
        control=True,
        summary="callback targets and every delivery attempt",
    ),
    Route(
        "POST",
        "/_sandbox/callbacks",
        "control.callbacks_set",
        set_callback_target,
        control=True,
        summary='send callbacks elsewhere: {"kind": "all", "url": "http://…/{kind}/TOKEN/"}',
    ),
    Route(
        "POST",
        "/_sandbox/media/{upload_file_key}/finish",
        "control.finish",
        finish_transcoding,
        control=True,
        summary='end a transcoding now: {"result": "success"} or "fail"',
    ),
    Route(
        "GET",
        "/_sandbox/images/{name}",
        "control.image",
        image,
        control=True,
        summary="images uploaded as featured_image",
    ),
    Route(
        "DELETE",
        "/_sandbox/contents/{content_id}",
        "control.content_delete",
        delete_content,
        control=True,
        summary="delete a content record, as the contents site would (the API has no DELETE)",
    ),
]
