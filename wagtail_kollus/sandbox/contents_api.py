"""The contents API (``/api/public/v1``): list with every filter, read, create, partial update,
categories. Validation answers 422 in Laravel's shape, ``{"message", "errors": {field: [..]}}``.
"""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

from .http import HttpError, Request, Response, json_response
from .routing import Route
from .seed import CONTENT_TYPES, LANGUAGES, STATUSES
from .timestamps import now

PREFIX = "/api/public/v1"
MAX_LIMIT = 100
MAX_TAGS = 1

# Create/update fields stored as first-class record fields. Anything else a client sends (e.g. an
# ``external_id`` marker) is kept verbatim and returned with the record.
_LIST_FIELDS = ("category_ids", "tag_ids", "connected_membership_ids")
_TEXT_FIELDS = ("title", "description_html")


def _validation_error(errors: dict[str, list[str]]) -> HttpError:
    first = next(iter(errors.values()))[0]
    extra = len(errors) - 1
    message = first if not extra else f"{first} (and {extra} more error{'s' if extra > 1 else ''})"
    return HttpError(json_response({"message": message, "errors": errors}, 422))


def _not_found() -> HttpError:
    return HttpError(json_response({"message": "Content not found."}, 404))


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _int_list(value: Any, field: str, errors: dict[str, list[str]]) -> list[int] | None:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list):
        errors.setdefault(field, []).append(f"The {field} field must be an array.")
        return None
    result = []
    for index, item in enumerate(value):
        number = _int_or_none(item)
        if number is None:
            errors.setdefault(f"{field}.{index}", []).append(
                f"The {field}.{index} field must be an integer."
            )
        else:
            result.append(number)
    return result


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


# --- list ------------------------------------------------------------------------------
def list_contents(app: Any, request: Request) -> Response:
    errors: dict[str, list[str]] = {}
    language = request.query("language") or "ko"
    if language not in LANGUAGES:
        errors["language"] = ["The selected language is invalid."]
    page = _int_or_none(request.query("page", "1"))
    if page is None or page < 1:
        errors["page"] = ["The page field must be at least 1."]
    limit = _int_or_none(request.query("limit", "20"))
    if limit is None or limit < 1:
        errors["limit"] = ["The limit field must be at least 1."]
    elif limit > MAX_LIMIT:
        errors["limit"] = [f"The limit field must not be greater than {MAX_LIMIT}."]
    status = request.query("status") or None
    if status and status not in STATUSES:
        errors["status"] = ["The selected status is invalid."]
    content_type = request.query("content_type") or None
    if content_type and content_type not in CONTENT_TYPES:
        errors["content_type"] = ["The selected content type is invalid."]
    category_ids = _query_ints(request, "category_id", "category_ids", errors)
    tag_ids = _query_ints(request, "tag_id", "tag_ids", errors)
    if errors:
        raise _validation_error(errors)
    search = (request.query("search") or "").strip().casefold()

    state = app.state
    with state.lock:
        matches = []
        for record in state.contents_newest_first():
            if language not in record["translations"]:
                continue
            if status and record["status"] != status:
                continue
            if content_type and record["content_type"] != content_type:
                continue
            if category_ids is not None and not category_ids.intersection(record["category_ids"]):
                continue
            if tag_ids is not None and not tag_ids.intersection(record["tag_ids"]):
                continue
            if search and search not in record["translations"][language]["title"].casefold():
                continue
            matches.append(record)
        total = len(matches)
        start = (page - 1) * limit
        window = matches[start : start + limit]
        data = [state.render_content(r, language) for r in window]
        last_page = max(1, math.ceil(total / limit))
        return json_response(
            {
                "data": data,
                "pagination": {
                    "current_page": page,
                    "per_page": limit,
                    "total": total,
                    "last_page": last_page,
                    "from": start + 1 if window else None,
                    "to": start + len(window) if window else None,
                    "has_more_pages": page < last_page,
                },
            }
        )


def _query_ints(
    request: Request, one: str, many: str, errors: dict[str, list[str]]
) -> set[int] | None:
    """``category_id`` and ``category_ids`` (any spelling) combine into one "any of" set."""
    values: list[str] = []
    single = request.query(one)
    if single:
        values.append(single)
    values.extend(request.query_list(many) or [])
    if not values:
        return None
    result = set()
    for value in values:
        number = _int_or_none(value)
        if number is None:
            errors.setdefault(many if value != single else one, []).append(
                f"The {many} field must contain integers."
            )
        else:
            result.add(number)
    return result


# --- read ------------------------------------------------------------------------------
def get_content(app: Any, request: Request) -> Response:
    content_id = _int_or_none(request.route_params["content_id"])
    language = request.query("language") or "ko"
    if language not in LANGUAGES:
        raise _validation_error({"language": ["The selected language is invalid."]})
    with app.state.lock:
        record = app.state.contents.get(content_id)
        if record is None:
            raise _not_found()
        return json_response({"data": app.state.render_content(record, language)})


# --- payload parsing -------------------------------------------------------------------
def _read_payload(app: Any, request: Request) -> dict[str, Any]:
    """JSON, urlencoded or multipart body → one dict (arrays from ``x[]`` fields, JSON strings
    for nested fields, uploaded ``featured_image``/``images[]`` files stored and turned into URLs)."""
    content_type = request.content_type
    if content_type in ("application/json", "") or content_type.endswith("+json"):
        try:
            payload = request.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise HttpError(
                json_response({"message": "The request body is not valid JSON."}, 400)
            ) from exc
        if not isinstance(payload, dict):
            raise HttpError(
                json_response({"message": "The request body must be a JSON object."}, 400)
            )
        return payload
    pairs: list[tuple[str, Any]] = []
    if content_type == "multipart/form-data":
        for part in request.multipart().parts():
            if part.filename is not None:
                data = part.read_all(limit=10 * 1024 * 1024)
                pairs.append((part.name, app.store_image(part.filename, part.content_type, data)))
            else:
                pairs.append((part.name, part.read_all().decode("utf-8", "replace")))
    elif content_type == "application/x-www-form-urlencoded":
        pairs = list(request.form_pairs())
    else:
        raise HttpError(
            json_response({"message": f"Unsupported content type {content_type}."}, 415)
        )
    payload: dict[str, Any] = {}
    for key, value in pairs:
        if key.endswith("[]"):
            payload.setdefault(key[:-2], []).append(value)
        else:
            payload[key] = value
    for key in ("chapters", "options", "images", "schedule", "download_files"):
        if isinstance(payload.get(key), str):
            # Unparseable JSON stays a string: validation then reports the field.
            with contextlib.suppress(ValueError):
                payload[key] = json.loads(payload[key]) if payload[key].strip() else []
    return payload


def _check_fields(
    app: Any,
    payload: dict[str, Any],
    content_type: str,
    errors: dict[str, list[str]],
    *,
    creating: bool,
) -> dict[str, Any]:
    """Validate the fields present in ``payload``; return the cleaned record fields."""
    clean: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        if name in payload:
            value = payload[name]
            # Laravel's "required" (the real API's rule): trimmed empty strings are refused,
            # on create and on update alike; "<p></p>" is not empty.
            if not isinstance(value, str) or not value.strip():
                errors.setdefault(name, []).append(f"The {name} field must be a non-empty string.")
            else:
                clean[name] = value
        elif creating:
            errors.setdefault(name, []).append(f"The {name} field is required.")
    if "status" in payload:
        if payload["status"] not in STATUSES:
            errors.setdefault("status", []).append("The selected status is invalid.")
        else:
            clean["status"] = payload["status"]
    if "language" in payload:
        if payload["language"] not in LANGUAGES:
            errors.setdefault("language", []).append("The selected language is invalid.")
        else:
            clean["language"] = payload["language"]
    for name in _LIST_FIELDS:
        if name in payload:
            value = _int_list(payload[name], name, errors)
            if value is not None:
                clean[name] = value
    if creating and not clean.get("category_ids") and "category_ids" not in errors:
        errors.setdefault("category_ids", []).append("The category_ids field is required.")
    for index, cid in enumerate(clean.get("category_ids", [])):
        if cid not in app.state.categories:
            errors.setdefault(f"category_ids.{index}", []).append(
                f"The selected category_ids.{index} is invalid."
            )
    if len(clean.get("tag_ids", [])) > MAX_TAGS:
        errors.setdefault("tag_ids", []).append(
            f"The tag_ids field must not have more than {MAX_TAGS} item."
        )
    if "featured_image" in payload:
        value = payload["featured_image"]
        if not isinstance(value, str) or not value.strip():
            errors.setdefault("featured_image", []).append(
                "The featured_image must be a file or a URL."
            )
        else:
            clean["featured_image"] = value
    elif creating:
        errors.setdefault("featured_image", []).append("The featured_image field is required.")
    if "images" in payload:
        if not isinstance(payload["images"], list):
            errors.setdefault("images", []).append("The images field must be an array.")
        else:
            clean["images"] = payload["images"]
    if "options" in payload:
        if not isinstance(payload["options"], list):
            errors.setdefault("options", []).append("The options field must be an array.")
        else:
            clean["options"] = payload["options"]
    if "installment_month" in payload:
        month = _int_or_none(payload["installment_month"])
        if month is None or not 0 <= month <= 36:
            errors.setdefault("installment_month", []).append(
                "The installment_month field must be between 0 and 36."
            )
    for name in ("base_price", "sale_price"):
        if name in payload:
            price = _int_or_none(payload[name])
            if price is None or price < 0:
                errors.setdefault(name, []).append(
                    f"The {name} field must be a non-negative integer."
                )
            else:
                clean[name] = price
    if "is_on_sale" in payload:
        clean["is_on_sale"] = _bool(payload["is_on_sale"])
    if "is_free" in payload:
        clean["is_free"] = _bool(payload["is_free"])
    if "chapters" in payload:
        if content_type != "vod":
            errors.setdefault("chapters", []).append(
                "The chapters field is only allowed for VOD contents."
            )
        else:
            _check_chapters(payload["chapters"], errors)
    return clean


def _check_chapters(chapters: Any, errors: dict[str, list[str]]) -> None:
    if not isinstance(chapters, list):
        errors.setdefault("chapters", []).append("The chapters field must be an array.")
        return
    for c, chapter in enumerate(chapters):
        if not isinstance(chapter, dict):
            errors.setdefault(f"chapters.{c}", []).append("Each chapter must be an object.")
            continue
        if not isinstance(chapter.get("title"), str) or not chapter["title"].strip():
            errors.setdefault(f"chapters.{c}.title", []).append(
                f"The chapters.{c}.title field is required."
            )
        items = chapter.get("items", [])
        if not isinstance(items, list):
            errors.setdefault(f"chapters.{c}.items", []).append("The items field must be an array.")
            continue
        for i, item in enumerate(items):
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("title"), str)
                or not item["title"].strip()
            ):
                errors.setdefault(f"chapters.{c}.items.{i}.title", []).append(
                    f"The chapters.{c}.items.{i}.title field is required."
                )


_ITEM_DEFAULTS = {
    "description": "",
    "media_url": "",
    "duration_text": "",
    "reference_url": "",
    "reference_description": "",
    "is_preview": False,
    "media_source_type": "upload",
}


def _sync_chapters(
    app: Any, new: list[dict[str, Any]], old: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Keep ids the client sent back for chapters/items that exist; number the new ones."""
    old_chapters = {c["chapter_id"]: c for c in old}
    old_items = {i["item_id"] for c in old for i in c["items"]}
    result = []
    for chapter in new:
        chapter_id = _int_or_none(chapter.get("chapter_id"))
        if chapter_id not in old_chapters:
            chapter_id = app.state.next_id("chapter_item_id")
        items = []
        for item in chapter.get("items", []):
            item_id = _int_or_none(item.get("item_id"))
            if item_id not in old_items:
                item_id = app.state.next_id("chapter_item_id")
            clean = {"item_id": item_id, "title": item["title"]}
            for key, default in _ITEM_DEFAULTS.items():
                value = item.get(key, default)
                clean[key] = (
                    _bool(value) if key == "is_preview" else ("" if value is None else value)
                )
            for key, value in item.items():
                clean.setdefault(key, value)
            items.append(clean)
        result.append({"chapter_id": chapter_id, "title": chapter["title"], "items": items})
    return result


_RECORD_FIELDS = {
    "content_id", "title", "description_html", "content_type", "status", "language", "category_ids",
    "categories", "tag_ids", "featured_image", "images", "base_price", "sale_price", "is_on_sale",
    "is_free", "connected_membership_ids", "options", "chapters", "created_at", "updated_at",
}  # fmt: skip


def _apply(
    app: Any, record: dict[str, Any], clean: dict[str, Any], payload: dict[str, Any], language: str
) -> None:
    text = record["translations"].setdefault(
        language, dict(record["translations"][record["language"]])
    )
    for name in _TEXT_FIELDS:
        if name in clean:
            text[name] = clean[name]
    for name in ("status", "category_ids", "tag_ids", "connected_membership_ids", "featured_image",
                 "images", "options", "base_price", "sale_price", "is_on_sale", "is_free"):  # fmt: skip
        if name in clean:
            record[name] = clean[name]
    if "is_on_sale" not in clean and ("base_price" in clean or "sale_price" in clean):
        record["is_on_sale"] = record["sale_price"] < record["base_price"]
    if "is_free" not in clean and ("base_price" in clean or "sale_price" in clean):
        record["is_free"] = record["sale_price"] == 0
    if "chapters" in payload:
        record["chapters"] = _sync_chapters(app, payload["chapters"], record["chapters"])
    for key, value in payload.items():
        if key not in _RECORD_FIELDS:
            record["extra"][key] = value
    record["updated_at"] = max(now(), record["updated_at"] + 1e-6)


# --- create / update -------------------------------------------------------------------
def create_content(app: Any, request: Request) -> Response:
    payload = _read_payload(app, request)
    errors: dict[str, list[str]] = {}
    content_type = payload.get("content_type")
    if content_type is None:
        errors["content_type"] = ["The content_type field is required."]
    elif content_type not in CONTENT_TYPES:
        errors["content_type"] = ["The selected content_type is invalid."]
    state = app.state
    with state.lock:
        clean = _check_fields(app, payload, content_type or "", errors, creating=True)
        if errors:
            raise _validation_error(errors)
        language = clean.get("language", "ko")
        created = now()
        record = {
            "content_id": state.next_id("content_id"),
            "content_type": content_type,
            "status": "pending",
            "language": language,
            "translations": {language: {"title": "", "description_html": ""}},
            "category_ids": [],
            "tag_ids": [],
            "featured_image": "",
            "images": [],
            "base_price": 0,
            "sale_price": 0,
            "is_on_sale": False,
            "is_free": True,
            "connected_membership_ids": [],
            "options": [],
            "chapters": [],
            "extra": {},
            "created_at": created,
            "updated_at": created,
        }
        _apply(app, record, clean, payload, language)
        record["updated_at"] = created
        state.contents[record["content_id"]] = record
        state.changed()
        return json_response({"data": state.render_content(record, language)}, 201)


def update_content(app: Any, request: Request) -> Response:
    content_id = _int_or_none(request.route_params["content_id"])
    payload = _read_payload(app, request)
    state = app.state
    with state.lock:
        record = state.contents.get(content_id)
        if record is None:
            raise _not_found()
        errors: dict[str, list[str]] = {}
        if "content_type" in payload and payload["content_type"] != record["content_type"]:
            errors["content_type"] = ["The content_type cannot be changed."]
        clean = _check_fields(app, payload, record["content_type"], errors, creating=False)
        if errors:
            raise _validation_error(errors)
        language = request.query("language") or clean.get("language") or record["language"]
        clean.pop("language", None)
        _apply(app, record, clean, payload, language)
        state.changed()
        return json_response({"data": state.render_content(record, language)})


# --- categories ------------------------------------------------------------------------
def list_categories(app: Any, request: Request) -> Response:
    with app.state.lock:
        return json_response({"data": list(app.state.categories.values())})


def search_categories(app: Any, request: Request) -> Response:
    query = (request.query("query") or "").strip().casefold()
    with app.state.lock:
        rows = [c for c in app.state.categories.values() if query in c["name"].casefold()]
    return json_response({"data": rows})


ROUTES = [
    Route("GET", PREFIX + "/contents", "contents.list", list_contents, auth="contents"),
    Route("POST", PREFIX + "/contents", "contents.create", create_content, auth="contents"),
    Route("GET", PREFIX + "/contents/{content_id}", "contents.get", get_content, auth="contents"),
    Route(
        "PUT", PREFIX + "/contents/{content_id}", "contents.update", update_content, auth="contents"
    ),
    Route(
        "GET",
        PREFIX + "/content-categories",
        "contents.categories",
        list_categories,
        auth="contents",
    ),
    Route(
        "GET",
        PREFIX + "/content-categories/search",
        "contents.categories_search",
        search_categories,
        auth="contents",
    ),
]
