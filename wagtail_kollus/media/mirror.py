"""Copy what the Kollus API says about one media onto its local ``KollusMedia`` row.

The API is the truth; callbacks and the browser are only hints that it is worth asking.
Kept free of views and tasks so the callback worker, the refresh command and the library's
"refresh" button all update rows the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from ..accounts import KollusAccount
from ..api.types import Media
from ..messages import assign
from ..models import KollusMedia, MediaState

# Fields that editors see change; a change in one of them is worth a ``video_updated`` signal.
METADATA_FIELDS = ("title", "category_key", "category_name", "duration_seconds", "poster_url")


@dataclass
class MirrorChange:
    """What :func:`apply_remote_media` changed, so the caller can send the right signals."""

    old_state: str
    new_state: str
    changed_fields: list[str] = field(default_factory=list)
    channels_changed: bool = False

    @property
    def state_changed(self) -> bool:
        return self.old_state != self.new_state

    @property
    def metadata_changed(self) -> bool:
        return any(name in METADATA_FIELDS for name in self.changed_fields)


def configured_channel_key(account: KollusAccount | None = None) -> str:
    """The channel whose media content key plays (``KOLLUS_CHANNEL_KEY`` of ``account``)."""
    account = account or KollusAccount.from_settings()
    return str(account.kollus_channel_key or "")


def playback_key(channels: list[dict], account: KollusAccount | None = None) -> str:
    """The media content key playback uses: the configured channel's, else the first one."""
    wanted = configured_channel_key(account)
    for channel in channels:
        if wanted and channel.get("channel_key") == wanted:
            return channel.get("media_content_key") or ""
    if wanted:
        return ""
    return next((c.get("media_content_key") or "" for c in channels), "")


MAX_SNAPSHOT_FRAMES = 12


def snapshot_frames(remote: Media) -> list[dict]:
    """The frames Kollus offers as posters: ``[{"time": s, "url": ...}]``, at most a dozen.

    ASSUMED shape (``docs/dev/contracts.md``): a ``snapshots`` list of objects with ``url``
    (and ``time``) or of plain URLs; without one, the single ``snapshot_url``. Only http(s)
    URLs are kept (the poster screen shows them as images).
    """
    listed = remote.raw.get("snapshots") if isinstance(remote.raw, dict) else None
    frames = []
    for item in listed if isinstance(listed, list) else []:
        url = item.get("url") if isinstance(item, dict) else item
        time = item.get("time") if isinstance(item, dict) else None
        if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= 1000:
            frames.append({"time": time if isinstance(time, int) else None, "url": url})
    if not frames and remote.snapshot_url.startswith(("https://", "http://")):
        frames.append({"time": None, "url": remote.snapshot_url})
    return frames[:MAX_SNAPSHOT_FRAMES]


def apply_remote_media(
    row: KollusMedia, remote: Media, account: KollusAccount | None = None
) -> MirrorChange:
    """Update ``row`` in memory from ``remote`` (not saved) and report what changed.

    ``account`` (default: the settings' account) names the channel whose key plays.
    """
    channels = [
        {
            "channel_key": c.channel_key,
            "channel_name": c.channel_name,
            "media_content_key": c.media_content_key,
            "profile_keys": list(c.profile_keys),
        }
        for c in remote.channels
    ]
    # A deleted row stays deleted: a late callback must not resurrect it.
    new_state = row.state if row.state == MediaState.DELETED else remote.state
    values = {
        "upload_file_key": remote.upload_file_key or row.upload_file_key,
        "title": remote.title or row.title,
        "category_key": remote.category_key,
        "category_name": remote.category_name,
        "state": new_state,
        "duration_seconds": remote.duration,
        "use_encryption": remote.use_encryption,
        "is_audio": remote.is_audio,
        "poster_url": remote.poster_url,
        "snapshot_url": remote.snapshot_url,
        "snapshot_frames": snapshot_frames(remote),
        "channels": channels,
        "media_content_key": playback_key(channels, account),
        "original_file_name": remote.original_file_name or row.original_file_name,
        "original_file_size": remote.original_file_size or row.original_file_size,
        "kollus_created_at": remote.created_at,
        "kollus_updated_at": remote.updated_at,
    }
    # Remote text is untrusted and unbounded: cut it to the columns (PostgreSQL would refuse
    # the row, and the video could then never be refreshed).
    for name, value in values.items():
        limit = getattr(KollusMedia._meta.get_field(name), "max_length", None)
        if limit and isinstance(value, str) and len(value) > limit:
            values[name] = value[:limit]
    change = MirrorChange(old_state=row.state, new_state=new_state)
    for name, value in values.items():
        if getattr(row, name) != value:
            change.changed_fields.append(name)
            setattr(row, name, value)
    change.channels_changed = "channels" in change.changed_fields
    # A reason belongs to the state it explains: once Kollus reports another state (an upload
    # marked interrupted whose file arrives after all), or the video is ready, it is stale.
    left_failure = change.state_changed and change.old_state == MediaState.FAILED
    if (new_state == MediaState.READY or left_failure) and row.error_message:
        assign(row, "error_message", None)  # and its stored message (wagtail_kollus.messages)
        change.changed_fields.append("error_message")
    row.last_refreshed_at = timezone.now()
    return change


def needs_channel_attach(remote: Media, account: KollusAccount | None = None) -> bool:
    """Ready media not yet in the account's channel (so it has no playback key there)."""
    wanted = configured_channel_key(account)
    if not wanted or remote.state != MediaState.READY:
        return False
    return not any(c.channel_key == wanted for c in remote.channels)
