"""Which chapter items an editor may choose, and why the others cannot be.

The item step lists every item of a content; an item that would not play (not a Kollus video,
or a Kollus video that is not ready) is shown disabled with its reason, and the chosen step
refuses it even from a hand-made URL. Both ask :func:`item_choices`, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from ..models import KollusMedia, MediaState
from .remote import PlayableItem

# Names editors know, for an item's ``media_source_type`` or its URL's host.
SOURCE_NAMES = {"youtube": "YouTube", "vimeo": "Vimeo"}
SOURCE_HOSTS = {"youtube.com": "YouTube", "youtu.be": "YouTube", "vimeo.com": "Vimeo"}


@dataclass(frozen=True)
class ItemChoice:
    """One chapter item as the item step shows it: choosable, or not with a reason."""

    entry: PlayableItem
    reason: str = ""

    @property
    def choosable(self) -> bool:
        return not self.reason


def item_choices(entries: Iterable[PlayableItem]) -> list[ItemChoice]:
    """Each entry with the reason it cannot be chosen ("" when it can); two queries at most."""
    entries = list(entries)
    keys = {entry.media_content_key for entry in entries if entry.media_content_key}
    library_states: dict[str, str] = {}
    mirrors_library = False
    if keys:
        library_states = dict(
            KollusMedia.objects.filter(media_content_key__in=keys).values_list(
                "media_content_key", "state"
            )
        )
        mirrors_library = bool(library_states) or KollusMedia.objects.exists()
    return [
        ItemChoice(entry, unavailable_reason(entry, library_states, mirrors_library))
        for entry in entries
    ]


def unavailable_reason(
    entry: PlayableItem, library_states: dict[str, str], mirrors_library: bool = False
) -> str:
    """Why ``entry`` cannot be chosen, in the editor's words; "" when it can.

    ``library_states`` maps the keys the video library knows to their state;
    ``mirrors_library`` says whether this site keeps a library at all (any row).
    """
    item = entry.item
    if not item.media_url:
        return _("This item has no video.")
    key = entry.media_content_key
    if not key:
        return _(
            "This video is hosted on %(source)s, not on Kollus, so it cannot be played here."
        ) % {"source": _source_name(item.media_source_type, item.media_url)}
    state = library_states.get(key)
    if state in (MediaState.UPLOADING, MediaState.TRANSCODING):
        return _("Kollus is still processing this video. It can be chosen once it is ready.")
    if state == MediaState.FAILED:
        return _("Kollus could not transcode this video, so it cannot be played.")
    if state == MediaState.DELETED:
        return _("This video was deleted from the Kollus library.")
    if state is None and mirrors_library and item.duration_seconds is None:
        # A site that keeps its video library learns every upload and each new key from
        # Kollus's callbacks; a key it has not heard of, on an item the contents site has not
        # given a duration yet, is a video Kollus has not finished (docs/chooser.md). Without
        # a library there is nothing to go on: the item stays choosable.
        return _(
            "Kollus is still processing this video (it has no duration yet). It can be "
            "chosen once it is ready."
        )
    return ""


def _source_name(source_type: str, media_url: str) -> str:
    known = SOURCE_NAMES.get((source_type or "").strip().lower())
    if known:
        return known
    host = (urlsplit(media_url).hostname or "").lower().removeprefix("www.").removeprefix("m.")
    return SOURCE_HOSTS.get(host) or host or _("another service")
