"""Client for the Kollus VOD API (v3, with v0 envelopes accepted) and its upload host.

Every API call carries ``access_token`` as a query parameter (that is how Kollus
authenticates) and passes through the shared :class:`~.ratelimit.CacheRateLimiter`
(1 call/s, 60/min per account across all processes). Uploads go to the single-use upload URL
Kollus hands out; that host is not the API, so uploads are not rate limited and never get
the access token.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from .envelopes import unwrap_kollus
from .errors import BadResponseError, ConfigurationError
from .http import ApiSession
from .paths import build_path, resolve_paths
from .types import (
    ContentRank,
    DailySummary,
    KollusCategory,
    Media,
    MediaPage,
    Pagination,
    UploadTicket,
)
from .upload_stream import MultipartFileStream, ProgressCallback

MAX_STATS_DAYS = 92  # Kollus answers 422 for longer statistics ranges
UPLOAD_READ_TIMEOUT = 300.0  # the upload host answers only after it has stored the file

# Our state vocabulary → Kollus's ``state`` filter of the media list.
STATE_FILTER = {"ready": "completed", "transcoding": "transcoding", "failed": "error"}

def _flag(value: bool) -> int:
    return 1 if value else 0


def _compact(day: date) -> str:
    return day.strftime("%Y%m%d")


def split_date_range(
    start: date, end: date, max_days: int = MAX_STATS_DAYS
) -> list[tuple[date, date]]:
    """Inclusive ``[start, end]`` cut into consecutive inclusive chunks of ≤ ``max_days`` days."""
    if end < start:
        raise ValueError(f"end ({end}) is before start ({start}).")
    chunks = []
    chunk_start = start
    while chunk_start <= end:
        chunk_end = min(end, chunk_start + timedelta(days=max_days - 1))
        chunks.append((chunk_start, chunk_end))
        chunk_start = chunk_end + timedelta(days=1)
    return chunks


class KollusClient:
    """The Kollus API, typed. ``session_options`` go to :class:`ApiSession`.

    ``rate_limiter``: an object with ``acquire(max_wait)`` that every call passes through, such
    as the account's shared :class:`~.ratelimit.CacheRateLimiter`, which
    ``wagtail_kollus.accounts.kollus_client`` gives; ``None`` (the default here) calls freely.
    """

    service = "kollus"

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        paths: Mapping[str, str] | None = None,
        rate_limiter: Any = None,
        **session_options: Any,
    ) -> None:
        if not base_url:
            raise ConfigurationError("KollusClient needs the Kollus API base URL.")
        if not access_token:
            raise ConfigurationError("KollusClient needs the Kollus API access token.")
        self.paths = resolve_paths(paths)
        session_options["secrets"] = (*session_options.get("secrets", ()), access_token)
        self.http = ApiSession(
            self.service,
            base_url,
            auth_params={"access_token": access_token},
            rate_limiter=rate_limiter,
            **session_options,
        )

    def __repr__(self) -> str:
        return f"<KollusClient {self.http.base_url}>"

    def close(self) -> None:
        self.http.close()

    # --- plumbing -------------------------------------------------------------------------

    def _path(self, name: str, **values: str) -> str:
        return build_path(self.paths[name], **values)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call: ``Accept: application/json``, either envelope unwrapped."""
        headers = {"Accept": "application/json"}
        payload = self.http.request_json(method, path, headers=headers, **kwargs)
        return unwrap_kollus(
            payload,
            service=self.service,
            method=method,
            url=self.http.url_for(path)[0],
            secrets=self.http.secrets,
        )

    def _media_from(self, data: Any, method: str, path: str) -> Media:
        if isinstance(data, dict) and isinstance(data.get("item"), dict):
            data = data["item"]
        if not isinstance(data, dict):
            raise self.http.bad_shape(method, path, "expected a media object")
        return Media.from_api(data)

    # --- upload ---------------------------------------------------------------------------

    def create_upload_url(
        self,
        *,
        title: str | None = None,
        category_key: str | None = None,
        expire_time: int = 600,
        is_encryption_upload: bool = False,
        is_audio_upload: bool = False,
        is_passthrough: bool = False,
        profile_key: str | None = None,
    ) -> UploadTicket:
        """A single-use upload URL and its upload file key (expires after ``expire_time`` s)."""
        form: dict[str, Any] = {
            "expire_time": int(expire_time),
            "is_encryption_upload": _flag(is_encryption_upload),
            "is_audio_upload": _flag(is_audio_upload),
            "is_passthrough": _flag(is_passthrough),
        }
        if title:
            form["title"] = title
        if category_key:
            form["category_key"] = category_key
        if profile_key:
            form["profile_key"] = profile_key
        path = self._path("upload_create_url")
        data = self._call("POST", path, data=form)
        ticket = UploadTicket.from_api(data)
        if not ticket.upload_url or not ticket.upload_file_key:
            raise self.http.bad_shape("POST", path, "no upload_url/upload_file_key in the answer")
        return ticket

    def upload_file(
        self,
        upload_url: str,
        path: str | os.PathLike,
        *,
        filename: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> dict:
        """POST the file at ``path`` to ``upload_url`` as multipart field ``upload-file``.

        Streams from disk in constant memory. The URL is single-use, so a timeout is not
        retried (the upload may have landed); a connection that never opened is.
        """
        stream = MultipartFileStream(
            path,
            file_field="upload-file",
            filename=filename,
            fields={"accept": "application/json", "disable_alert": "1"},
            progress=progress,
        )
        with stream:
            response = self.http.request(
                "POST",
                upload_url,
                data=stream,
                headers={"Content-Type": stream.content_type, "Accept": "application/json"},
                idempotent=False,
                timeout=(self.http.timeout[0], max(self.http.timeout[1], UPLOAD_READ_TIMEOUT)),
                rate_limited=False,
            )
        try:
            payload = self.http.parse_json(response)
        except BadResponseError:
            # Some upload servers answer a plain "OK" page on success: the upload still landed.
            return {"status_code": response.status_code}
        result = unwrap_kollus(
            payload, service=self.service, method="POST", url=upload_url, secrets=self.http.secrets
        )
        return result if isinstance(result, dict) else {"result": result}

    def get_upload_progress(self, progress_url: str) -> int:
        """Percent (0–100) of the upload Kollus has received."""
        payload = self.http.request_json(
            "GET", progress_url, headers={"Accept": "application/json"}, rate_limited=False
        )
        data = unwrap_kollus(
            payload, service=self.service, method="GET", url=progress_url, secrets=self.http.secrets
        )
        value = data.get("progress") if isinstance(data, dict) else data
        try:
            return max(0, min(100, int(float(value))))
        except (TypeError, ValueError):
            raise self.http.bad_shape("GET", progress_url, "no progress value") from None

    # --- library --------------------------------------------------------------------------

    def list_media(
        self,
        *,
        page: int = 1,
        per_page: int = 50,
        state: str | None = None,
        keyword: str | None = None,
        order: str = "created_at|desc",
        start_date: date | str | None = None,
        end_date: date | str | None = None,
        category_key: str | None = None,
    ) -> MediaPage:
        """One page of the media library. ``state`` takes ours (ready/…) or Kollus's values."""
        params = {
            "page": page,
            "per_page": per_page,
            "state": STATE_FILTER.get(state, state) if state else None,
            "keyword": keyword,
            "order": order,
            "start_date": _compact(start_date) if isinstance(start_date, date) else start_date,
            "end_date": _compact(end_date) if isinstance(end_date, date) else end_date,
            "category_key": category_key,
        }
        params = {k: v for k, v in params.items() if v not in (None, "")}
        path = self._path("media_list")
        data = self._call("GET", path, params=params)
        if isinstance(data, list):
            data = {"items": data}
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise self.http.bad_shape("GET", path, "expected {'items': [...]}")
        items = [Media.from_api(m) for m in data["items"]]
        pagination = Pagination.from_api(data.get("pagination"), item_count=len(items))
        return MediaPage(items, pagination)

    def get_media(self, upload_file_key: str) -> Media:
        path = self._path("media_detail", upload_file_key=upload_file_key)
        return self._media_from(self._call("GET", path), "GET", path)

    def update_media(
        self, upload_file_key: str, *, title: str | None = None, category_key: str | None = None
    ) -> Media:
        form = {k: v for k, v in {"title": title, "category_key": category_key}.items() if v}
        path = self._path("media_update", upload_file_key=upload_file_key)
        data = self._call("PUT", path, data=form)
        if not data:  # some answers carry no body: read it back
            return self.get_media(upload_file_key)
        return self._media_from(data, "PUT", path)

    def delete_media(self, upload_file_key: str) -> None:
        self._call("DELETE", self._path("media_delete", upload_file_key=upload_file_key))

    def replace_media(self, upload_file_key: str, source_upload_file_key: str) -> Media:
        """Replace the source of ``upload_file_key`` (its mckeys and playback URLs stay)."""
        path = self._path("media_replace", upload_file_key=upload_file_key)
        data = self._call("POST", path, data={"source_upload_file_key": source_upload_file_key})
        if not data:
            return self.get_media(upload_file_key)
        return self._media_from(data, "POST", path)

    def attach_to_channel(self, channel_key: str, upload_file_key: str) -> None:
        path = self._path(
            "channel_attach", channel_key=channel_key, upload_file_key=upload_file_key
        )
        # Attaching twice leaves the same state, so a retry after a timeout is safe.
        self._call("POST", path, idempotent=True)

    def detach_from_channel(self, channel_key: str, upload_file_key: str) -> None:
        path = self._path(
            "channel_detach", channel_key=channel_key, upload_file_key=upload_file_key
        )
        self._call("POST", path, idempotent=True)

    def upload_poster(
        self, upload_file_key: str, image: bytes, *, filename: str, content_type: str
    ) -> str:
        """Make ``image`` the media's poster (v0 ``upload_poster``, multipart field ``file``).

        Returns the poster URL Kollus answers with, or ``""`` when its answer names none (then
        re-read the media). Sending the same image twice leaves the same poster, so a retry
        after a timeout is safe.
        """
        path = self._path("media_upload_poster", upload_file_key=upload_file_key)
        data = self._call(
            "POST", path, files={"file": (filename, image, content_type)}, idempotent=True
        )
        if isinstance(data, dict):
            return str(data.get("poster_url") or "")
        return ""

    def download_image(self, url: str, *, max_bytes: int) -> tuple[bytes, str]:
        """``(bytes, content type)`` of an image Kollus serves (a snapshot frame).

        Kollus's image host is not the API, so this is not rate limited; the access token goes
        only to URLs under the API's base (``ApiSession.url_for``).
        """
        response = self.http.request("GET", url, rate_limited=False)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            response.close()
            raise self.http.bad_shape("GET", url, f"image larger than {max_bytes} bytes")
        content = response.content
        if len(content) > max_bytes:
            raise self.http.bad_shape("GET", url, f"image larger than {max_bytes} bytes")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return content, content_type or "image/jpeg"

    def list_categories(self) -> list[KollusCategory]:
        path = self._path("categories")
        data = self._call("GET", path)
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            data = data["items"]
        if not isinstance(data, list):
            raise self.http.bad_shape("GET", path, "expected a list of categories")
        return [KollusCategory.from_api(c) for c in data]

    # --- statistics -----------------------------------------------------------------------

    def summary_daily(self, start: date, end: date) -> list[DailySummary]:
        """Per-day figures for ``[start, end]``; ranges over 92 days take several calls."""
        path = self._path("stats_summary_daily")
        days: dict[date | None, DailySummary] = {}
        undated: list[DailySummary] = []
        for chunk_start, chunk_end in split_date_range(start, end):
            params = {"start_date": _compact(chunk_start), "end_date": _compact(chunk_end)}
            for row in self._stats_items("GET", path, params):
                summary = DailySummary.from_api(row)
                if summary.date is None:
                    undated.append(summary)
                else:
                    days[summary.date] = summary
        return [days[d] for d in sorted(days)] + undated  # type: ignore[type-var]

    def content_rank(
        self,
        start: date,
        end: date,
        *,
        keyword: str | None = None,
        start_index: int = 0,
        limit: int = 0,
    ) -> list[ContentRank]:
        """Views per upload for ``[start, end]``, most viewed first (``limit=0``: all).

        Over 92 days, each chunk is fetched whole and counts are summed per upload file key
        before ``start_index``/``limit`` are applied (a top-10 per chunk would miss videos
        that rank high only overall).
        """
        path = self._path("stats_content_rank")
        chunks = split_date_range(start, end)
        single = len(chunks) == 1
        merged: dict[str, list] = {}
        for chunk_start, chunk_end in chunks:
            params: dict[str, Any] = {
                "start_date": _compact(chunk_start),
                "end_date": _compact(chunk_end),
                "start_index": start_index if single else 0,
                "limit": limit if single else 0,
            }
            if keyword:
                params["keyword"] = keyword
            for row in self._stats_items("GET", path, params):
                rank = ContentRank.from_api(row)
                entry = merged.setdefault(rank.upload_file_key, [rank.title, 0, 0])
                entry[0] = rank.title or entry[0]
                entry[1] += rank.views
                entry[2] += rank.play_time_seconds
        ranks = [
            ContentRank(key, title, views, play) for key, (title, views, play) in merged.items()
        ]
        ranks.sort(key=lambda r: (-r.views, -r.play_time_seconds, r.upload_file_key))
        if not single:
            ranks = ranks[start_index:]
            if limit:
                ranks = ranks[:limit]
        return ranks

    def _stats_items(self, method: str, path: str, params: dict) -> list:
        data = self._call(method, path, params=params)
        if isinstance(data, dict):
            data = data.get("items", data.get("list"))
        if not isinstance(data, list):
            raise self.http.bad_shape(method, path, "expected {'items': [...]}")
        return data
