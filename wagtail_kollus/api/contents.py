"""Client for the customer's contents API (``/api/public/v1``).

The chapter-item → Kollus key convention is :func:`.kollus_keys.resolve_kollus_key`, importable
from here too (where the documentation has always named it).

The key (``SERVER_PRIVATE_API_KEY``) is a Bearer token: server-side only, redacted everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from .envelopes import unwrap_contents
from .errors import ConfigurationError
from .http import ApiSession
from .kollus_keys import resolve_kollus_key
from .types import Category, Content, ContentPage, Pagination

__all__ = ["ContentsClient", "flatten_form", "resolve_kollus_key"]

MAX_LIMIT = 100  # the contents API refuses more per page


def _comma(values: Any) -> str | None:
    """``[1, 2]`` → ``"1,2"`` (the GET form of array filters); strings pass through."""
    if values is None:
        return None
    if isinstance(values, str | int):
        return str(values)
    return ",".join(str(v) for v in values)


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return "" if value is None else str(value)


def flatten_form(payload: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """A JSON-like payload as multipart form fields in PHP/Laravel bracket notation.

    ``{"category_ids": [1, 2]}`` → ``category_ids[]=1, category_ids[]=2``;
    ``{"chapters": [{"title": "A"}]}`` → ``chapters[0][title]=A``.
    """
    fields: list[tuple[str, str]] = []
    for key, value in payload.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            fields.extend(flatten_form(value, name))
        elif isinstance(value, list | tuple):
            if all(not isinstance(v, Mapping | list | tuple) for v in value):
                fields.extend((f"{name}[]", _form_value(v)) for v in value)
            else:
                for index, item in enumerate(value):
                    if isinstance(item, Mapping):
                        fields.extend(flatten_form(item, f"{name}[{index}]"))
                    else:
                        fields.append((f"{name}[{index}]", _form_value(item)))
        else:
            fields.append((name, _form_value(value)))
    return fields


class ContentsClient:
    """The contents API, typed. ``session_options`` go to :class:`ApiSession`."""

    service = "contents"

    def __init__(self, base_url: str, api_key: str, **session_options: Any) -> None:
        if not base_url:
            raise ConfigurationError("ContentsClient needs the contents API base URL.")
        if not api_key:
            raise ConfigurationError("ContentsClient needs the server private API key.")
        session_options.setdefault("secrets", ())
        session_options["secrets"] = (*session_options["secrets"], api_key)
        self.http = ApiSession(
            self.service,
            base_url,
            auth_headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            **session_options,
        )

    def __repr__(self) -> str:
        return f"<ContentsClient {self.http.base_url}>"

    def close(self) -> None:
        self.http.close()

    # --- contents -------------------------------------------------------------------------

    def list_contents(
        self,
        *,
        language: str | None = None,
        page: int = 1,
        limit: int = 20,
        status: str | None = None,
        content_type: str | None = None,
        category_id: int | None = None,
        category_ids: Iterable[int] | str | None = None,
        tag_id: int | None = None,
        tag_ids: Iterable[int] | str | None = None,
        search: str | None = None,
    ) -> ContentPage:
        """One page of contents matching the filters."""
        if not 1 <= int(limit) <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}.")
        if int(page) < 1:
            raise ValueError(f"page starts at 1, not {page}.")
        params = {
            "language": language,
            "page": page,
            "limit": limit,
            "status": status,
            "content_type": content_type,
            "category_id": category_id,
            "category_ids": _comma(category_ids),
            "tag_id": tag_id,
            "tag_ids": _comma(tag_ids),
            "search": search,
        }
        params = {k: v for k, v in params.items() if v is not None and v != ""}
        payload = self.http.request_json("GET", "/contents", params=params)
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
            raise self.http.bad_shape("GET", "/contents", "expected {'data': [...]}")
        items = [Content.from_api(item) for item in payload["data"]]
        return ContentPage(
            items, Pagination.from_api(payload.get("pagination"), item_count=len(items))
        )

    def get_content(self, content_id: int | str, *, language: str | None = None) -> Content:
        params = {"language": language} if language else None
        return self._one("GET", f"/contents/{quote(str(content_id), safe='')}", params=params)

    def create_content(
        self,
        payload: Mapping[str, Any],
        *,
        featured_image_file: str | os.PathLike | IO[bytes] | None = None,
    ) -> Content:
        """POST a new content: JSON, or multipart when ``featured_image_file`` is given.

        Not retried on timeouts: a second POST could create a duplicate.
        """
        return self._write("POST", "/contents", payload, featured_image_file)

    def update_content(
        self,
        content_id: int | str,
        fields: Mapping[str, Any],
        *,
        featured_image_file: str | os.PathLike | IO[bytes] | None = None,
    ) -> Content:
        """PUT a partial update: only ``fields`` change (the API's documented semantics)."""
        path = f"/contents/{quote(str(content_id), safe='')}"
        return self._write("PUT", path, fields, featured_image_file)

    # --- categories -----------------------------------------------------------------------

    def list_categories(self, *, language: str | None = None) -> list[Category]:
        params = {"language": language} if language else None
        return self._categories("/content-categories", params)

    def search_categories(self, query: str) -> list[Category]:
        return self._categories("/content-categories/search", {"query": query})

    # --- internals ------------------------------------------------------------------------

    def _one(self, method: str, path: str, **kwargs: Any) -> Content:
        data = unwrap_contents(self.http.request_json(method, path, **kwargs))
        if not isinstance(data, dict):
            raise self.http.bad_shape(method, path, "expected one content object")
        return Content.from_api(data)

    def _categories(self, path: str, params: Any) -> list[Category]:
        data = unwrap_contents(self.http.request_json("GET", path, params=params))
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            data = data["items"]
        if not isinstance(data, list):
            raise self.http.bad_shape("GET", path, "expected a list of categories")
        return [Category.from_api(c) for c in data]

    def _write(self, method: str, path: str, payload: Mapping[str, Any], image: Any) -> Content:
        if image is None:
            return self._one(method, path, json=dict(payload))
        if isinstance(image, str | os.PathLike):
            with open(image, "rb") as handle:
                return self._write_multipart(method, path, payload, handle, Path(image).name)
        name = Path(getattr(image, "name", "") or "featured_image").name
        return self._write_multipart(method, path, payload, image, name)

    def _write_multipart(
        self, method: str, path: str, payload: Mapping[str, Any], handle: IO[bytes], name: str
    ) -> Content:
        # Images are small: reading them into memory lets a retried PUT resend the same bytes
        # (a half-read file handle would not). Video uploads stream instead (vod.upload_file).
        fields = flatten_form({k: v for k, v in payload.items() if k != "featured_image"})
        files = {"featured_image": (name, handle.read())}
        return self._one(method, path, data=fields, files=files)
