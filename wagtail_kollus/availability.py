"""Whether a chosen video may play: ``KollusVideo.is_available`` (and its key), from remote state.

Pages and the token endpoint refuse a video whose ``KollusVideo.is_playable`` is false, and
``is_playable`` reads the video row alone (``is_available`` and a key): pages load their videos
without joining the media. So ``is_available`` is the single source of truth for "plays", and
this module is the one place that decides it from what the contents API and Kollus say, so the
pull, the sync engine, the callbacks, the library's refresh and the chooser agree. Every write
is an ordinary ORM ``save()``/``update()``, so every process sees it on its next request. A
withdrawn video is never deleted: it comes back when the remote state does.

**Every write of a media's state or key goes through here, in the same transaction**: the
mirror (callbacks, refresh, ``kollus_refresh_media``, the library import), delete, a completed
replace and the upload failures call :func:`apply_media` after saving the media, and a media
Kollus no longer knows (including an abandoned upload) calls :func:`withdraw_media`. Code that
changes ``KollusMedia.state`` or ``media_content_key`` another way (a data migration, raw SQL,
a shell) must call :func:`apply_media` too, or pages keep showing what the videos say.
Writers that compute ``is_available`` from a media row (:func:`apply_content`, choosing) lock
that row first, so that a concurrent mirror of the media cannot commit in between.

**Chapter items** (``source="content_item"``) follow every read of their content record:
``kollus_sync --pull``, the answer to every push of the sync engine, and choosing.

* Only a **published** record plays: ``status == "publish"``. ``pending`` (not published
  yet), ``paused``, ``in_review``, ``banned``, and any status the API adds later, withdraw every
  video chosen from it. An answer without a status says nothing, so it changes nothing.
* The item (``item_id``) must still be in the record's chapters and still play through Kollus
  (``resolve_kollus_key``); otherwise the video is withdrawn.
* The row takes the item's current media content key (and the library media with that key).
  A cache-safe reference names the key it was signed for, so a page cached before the change
  holds a reference to the old key; the token endpoint does not mint tokens for it, and the
  next render of the page signs the new one.
* A record the API no longer has (404 when the pull reads it directly) withdraws its videos.
* Status and chapters belong to the record, not to a translation: one read, in any language,
  decides for every video chosen from the record, whatever language it was chosen in.
* If the row's library media stops playing its key (below), the video is withdrawn too. It
  plays again at the next read of its record that finds all of the above true.

**Library media** (``source="library"``, and any video whose ``media`` is that media) follow
every read of the media from Kollus: callbacks, the library's refresh, ``kollus_refresh_media``.

* A library video is available while its media is *ready* with a playback key in
  ``KOLLUS_CHANNEL_KEY``, and takes that key. Deleted (in the library or in the Kollus console),
  failed, or removed from the channel (channel-delete callback) withdraws it; back in the
  channel, it plays again with the key it has there.
* Kollus answering 404 for a media the site has (deleted in the console) withdraws its videos
  at once; a later read that finds the media ready puts them back.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .api.types import Content
from .models import KollusMedia, KollusVideo, MediaState, VideoSource

#: The contents API statuses whose chapter items play. An allow-list: a status the plugin does
#: not know (the API's list is not documented as closed) must not put a video back.
PLAYABLE_STATUSES = frozenset({"publish"})


@dataclass
class AvailabilityChanges:
    """What one pass changed, for the pull's summary."""

    withdrawn: int = 0
    restored: int = 0
    rekeyed: int = 0

    def __iadd__(self, other: AvailabilityChanges) -> AvailabilityChanges:
        self.withdrawn += other.withdrawn
        self.restored += other.restored
        self.rekeyed += other.rekeyed
        return self


@dataclass(frozen=True)
class ItemState:
    """What a content record says about one of its chapter items."""

    record_plays: bool
    #: The Kollus key the item plays now; ``None`` when the item is gone or not on Kollus.
    media_content_key: str | None
    chapter_id: int | None

    @property
    def available(self) -> bool:
        return self.record_plays and bool(self.media_content_key)


# --- the rules, without the database ---------------------------------------------------------
def status_plays(status: str) -> bool:
    return status in PLAYABLE_STATUSES


def item_state(content: Content, item_id: int | None) -> ItemState:
    for chapter in content.chapters:
        for item in chapter.items:
            if item.item_id == item_id:
                return ItemState(
                    status_plays(content.status), item.kollus_media_content_key, chapter.chapter_id
                )
    return ItemState(status_plays(content.status), None, None)


def media_plays(media: KollusMedia | None) -> bool:
    """Ready, with a playback key in the configured channel."""
    return media is not None and media.state == MediaState.READY and bool(media.media_content_key)


def media_for_key(media_content_key: str, *, lock: bool = False) -> KollusMedia | None:
    """The library media that plays ``media_content_key``, if this site has it.

    ``lock``: inside a transaction that writes a video's ``is_available`` from this media,
    lock its row (``SELECT … FOR UPDATE``) so that a mirror of the media waits for that commit.
    """
    if not media_content_key:
        return None
    media = KollusMedia.objects.filter(media_content_key=media_content_key)
    return (media.select_for_update() if lock else media).first()


def _lock_media(pks: set[int], keys: set[str]) -> None:
    """Lock the media rows a pass is about to read, in one statement and in pk order (so two
    passes, or a pass and a mirror, which locks the media before its videos, never deadlock)."""
    if pks or keys:
        list(
            KollusMedia.objects.select_for_update()
            .filter(Q(pk__in=pks) | Q(media_content_key__in=keys))
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def item_video_available(state: ItemState, media: KollusMedia | None) -> bool:
    """A chapter item's video plays when its record says so and its library media (if the
    site has it) plays that very key: media back in the channel under a new key do not bring
    back an item that still names the old one."""
    if not state.available:
        return False
    return media is None or (
        media_plays(media) and media.media_content_key == state.media_content_key
    )


# --- chapter items: a read of their content record --------------------------------------------
@transaction.atomic
def apply_content(content: Content) -> AvailabilityChanges:
    """Bring every video chosen from ``content`` in line with it (the rules above)."""
    changes = AvailabilityChanges()
    if content.content_id is None or not content.status:
        return changes
    videos = KollusVideo.objects.filter(
        source=VideoSource.CONTENT_ITEM, content_id=content.content_id
    )
    # The media are read after they are locked, so the rule sees their committed state and a
    # callback that changes one now waits for this commit, then corrects the videos itself.
    _lock_media(
        {pk for pk in videos.values_list("media_id", flat=True) if pk is not None},
        {key for key in _item_keys(content) if key},
    )
    now = timezone.now()
    for video in videos.select_related("media"):
        state = item_state(content, video.item_id)
        wanted: dict[str, object] = {"content_status": content.status[:20]}
        if state.chapter_id is not None:
            wanted["chapter_id"] = state.chapter_id
        media = video.media
        if state.media_content_key and state.media_content_key != video.media_content_key:
            media = media_for_key(state.media_content_key)
            wanted.update(media_content_key=state.media_content_key, media=media)
        wanted["is_available"] = item_video_available(state, media)
        changes += _save_if_changed(video, wanted, now)
    return changes


def _item_keys(content: Content) -> set[str]:
    return {item.kollus_media_content_key or "" for c in content.chapters for item in c.items}


def withdraw_content(content_id: int) -> AvailabilityChanges:
    """The record is gone (the API answered 404): withdraw every video chosen from it."""
    withdrawn = KollusVideo.objects.filter(
        source=VideoSource.CONTENT_ITEM, content_id=content_id, is_available=True
    ).update(is_available=False, updated_at=timezone.now())
    return AvailabilityChanges(withdrawn=withdrawn)


def chosen_content_languages() -> dict[int, str]:
    """Every content record a chapter-item video was chosen from → a language to read it in."""
    rows = (
        KollusVideo.objects.filter(source=VideoSource.CONTENT_ITEM, content_id__isnull=False)
        .order_by("content_id", "language")
        .values_list("content_id", "language")
    )
    return dict(rows)


def _save_if_changed(video: KollusVideo, wanted: dict, now) -> AvailabilityChanges:
    changed = [name for name, value in wanted.items() if getattr(video, name) != value]
    if not changed:
        return AvailabilityChanges()
    result = AvailabilityChanges(rekeyed=int("media_content_key" in changed))
    if "is_available" in changed:
        if wanted["is_available"]:
            result.restored = 1
        else:
            result.withdrawn = 1
    for name in changed:
        setattr(video, name, wanted[name])
    video.last_fetched_at = now
    video.save(update_fields=[*changed, "last_fetched_at", "updated_at"])
    return result


# --- library media: a read of the media from Kollus -------------------------------------------
def apply_media(media: KollusMedia) -> int:
    """Bring the videos of ``media`` in line with it (call after saving the media row).

    Returns how many video rows changed.
    """
    plays = media_plays(media)
    now = timezone.now()
    key = media.media_content_key
    changed = (
        KollusVideo.objects.filter(source=VideoSource.LIBRARY, media=media)
        .exclude(is_available=plays, media_content_key=key)
        .update(is_available=plays, media_content_key=key, updated_at=now)
    )
    # A chapter item's record decides what it plays, so only its next read puts it back; a
    # media read can only tell that the item's key stopped playing.
    items = KollusVideo.objects.filter(media=media, is_available=True).exclude(
        source=VideoSource.LIBRARY
    )
    if plays:
        items = items.exclude(media_content_key=media.media_content_key)
    return changed + items.update(is_available=False, updated_at=now)


def withdraw_media(upload_file_key: str) -> int:
    """Kollus does not know ``upload_file_key`` (any more): withdraw the videos of its media."""
    if not upload_file_key:
        return 0
    return KollusVideo.objects.filter(
        media__upload_file_key=upload_file_key, is_available=True
    ).update(is_available=False, updated_at=timezone.now())
