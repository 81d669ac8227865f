"""Kollus library operations shared by the API handlers and the upload pipeline."""

from __future__ import annotations

import os
from typing import Any

from .config import DEFAULT_CHANNEL_KEY
from .seed import stable_key
from .timestamps import now


def _names(row: dict[str, Any]) -> dict[str, str]:
    full = row["original_file_name"] or ""
    return {"full_filename": full, "filename": os.path.splitext(full)[0]}


def create_uploaded_media(
    app: Any, ticket: dict[str, Any], filename: str, size: int, sha256: str
) -> dict[str, Any]:
    """An upload finished: the media is queued for transcoding; callbacks follow in background."""
    state = app.state
    with state.lock:
        stamp = now()
        title = ticket.get("title") or os.path.splitext(filename)[0] or filename
        row = {
            "upload_file_key": ticket["upload_file_key"],
            "title": title,
            "category_key": ticket.get("category_key") or None,
            "duration": None,
            "use_encryption": int(bool(ticket.get("is_encryption_upload"))),
            "is_audio": int(bool(ticket.get("is_audio_upload"))),
            "stage": "transcoding",
            "original_file_name": filename,
            "original_file_size": size,
            "sha256": sha256,
            "channels": [],
            "created_at": stamp,
            "updated_at": stamp,
        }
        state.media[row["upload_file_key"]] = row
        state.changed()
    app.callbacks.send("upload", {**_names(row), "upload_file_key": row["upload_file_key"]})
    # "fail" in the title or file name makes transcoding fail: tests and the demo can show it.
    fails = "fail" in (title + filename).lower()
    app.callbacks.later(
        app.config.callback_delay,
        lambda: finish_transcoding(app, row["upload_file_key"], not fails),
    )
    return row


def finish_transcoding(app: Any, upload_file_key: str, success: bool) -> None:
    state = app.state
    with state.lock:
        row = state.media.get(upload_file_key)
        if row is None or row["stage"] != "transcoding":
            return
        row["stage"] = "completed" if success else "failed"
        if success:
            # A stand-in duration derived from the size: stable, plausible, never zero.
            row["duration"] = max(1, min(7200, row["original_file_size"] // 250_000 or 1))
        row["updated_at"] = now()
        state.changed()
    app.callbacks.send(
        "transcoding",
        {
            "filename": _names(row)["filename"],
            "upload_file_key": upload_file_key,
            "transcoding_result": "success" if success else "fail",
        },
    )
    if success:
        attach(app, DEFAULT_CHANNEL_KEY, upload_file_key)


def attach(app: Any, channel_key: str, upload_file_key: str) -> dict[str, Any] | None:
    """Put the media in a channel (idempotent) and send the channel-add callback."""
    state = app.state
    with state.lock:
        row = state.media.get(upload_file_key)
        channel = state.channels.get(channel_key)
        if row is None or channel is None or row["stage"] != "completed":
            return None
        for existing in row["channels"]:
            if existing["channel_key"] == channel_key:
                return existing
        link = {
            "channel_key": channel_key,
            "media_content_key": stable_key(
                "mck-new", upload_file_key, channel_key, state.next_id("mckey")
            ),
            "profile_key": "sandbox-pc1-high",
        }
        row["channels"].append(link)
        row["updated_at"] = now()
        state.changed()
    _channel_callback(app, "channel_add", row, link, channel["name"])
    return link


def detach(app: Any, channel_key: str, upload_file_key: str) -> bool:
    state = app.state
    with state.lock:
        row = state.media.get(upload_file_key)
        if row is None:
            return False
        link = next((c for c in row["channels"] if c["channel_key"] == channel_key), None)
        if link is None:
            return False
        row["channels"].remove(link)
        row["updated_at"] = now()
        state.changed()
        name = state.channels.get(channel_key, {}).get("name", "")
    _channel_callback(app, "channel_delete", row, link, name)
    return True


def _channel_callback(
    app: Any, kind: str, row: dict[str, Any], link: dict[str, Any], channel_name: str
) -> None:
    app.callbacks.send(
        kind,
        {
            **_names(row),
            "upload_file_key": row["upload_file_key"],
            "media_content_key": link["media_content_key"],
            "channel_key": link["channel_key"],
            "channel_name": channel_name,
            "profile_key": link["profile_key"],
            "update_type": "add" if kind == "channel_add" else "delete",
        },
    )


def content_updated(app: Any, row: dict[str, Any], update_type: str) -> None:
    app.callbacks.send(
        "content_update",
        {**_names(row), "upload_file_key": row["upload_file_key"], "update_type": update_type},
    )
