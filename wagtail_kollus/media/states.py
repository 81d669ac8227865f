"""What each state of a library video means, said once for every screen that shows it.

The library's State column, the edit screen and its status panel, the upload form (through
``upload.media_json``, which the upload script reads) and the replace page all take the label,
the sentence and the status tag style from here, so no screen can say "transcoding" while
another says "uploading", or tell an editor to wait for a video that is already ready.

Tag styles are Wagtail's own: its status tag (``{% status %}``), plain for a live ("primary")
object, striped for work in progress, and Wagtail's info and critical colours.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from ..messages import Message
from ..models import KollusMedia, MediaState

STATE_DESCRIPTIONS = {
    MediaState.UPLOADING: _("Waiting for Kollus to confirm that it has the file."),
    MediaState.TRANSCODING: _(
        "Kollus has the file and is transcoding it. Pages show a placeholder until it is ready."
    ),
    MediaState.READY: _("Transcoded and ready to play."),
    MediaState.FAILED: _("Kollus could not take or transcode this video."),
    MediaState.DELETED: _("Deleted from Kollus. Pages that still use it show a placeholder."),
}

# Classes added to Wagtail's ``w-status`` tag.
STATE_TAG_CLASSES = {
    MediaState.UPLOADING: "",
    MediaState.TRANSCODING: "w-bg-info-50 w-text-info-125",
    MediaState.READY: "w-status--primary",
    MediaState.FAILED: "w-bg-critical-50 w-text-critical-200",
    MediaState.DELETED: "w-status--disabled",
}

# Icons of the state in the edit screen's status side panel.
STATE_ICONS = {
    MediaState.UPLOADING: "upload",
    MediaState.TRANSCODING: "cogs",
    MediaState.READY: "circle-check",
    MediaState.FAILED: "warning",
    MediaState.DELETED: "bin",
}

# Kollus says only "fail" when a transcoding fails; this is the reason shown then.
TRANSCODING_FAILED = _("Kollus could not transcode the file (it may be damaged or in a format Kollus does not accept).")

# Set by a refresh that finds an old upload Kollus never heard of (see tasks.refresh_media).
# A stored message (wagtail_kollus.messages): shown in the language of whoever reads it.
UPLOAD_ABANDONED = Message.gettext(
    "The file never reached Kollus: the upload was interrupted (the page was closed or the "
    "connection was lost). Upload it again."
)


@dataclass(frozen=True)
class StateDisplay:
    """How one video's state reads: ``{% status display.label classname=display.classname %}``
    then ``display.description``, and ``display.reason`` when something went wrong."""

    state: str
    label: str
    description: str
    classname: str
    reason: str
    icon_name: str

    @property
    def is_failed(self) -> bool:
        return self.state == MediaState.FAILED

    @property
    def is_final(self) -> bool:
        """No further change is expected without someone acting."""
        return self.state in (MediaState.READY, MediaState.FAILED, MediaState.DELETED)


def state_display(media: KollusMedia) -> StateDisplay:
    state = MediaState(media.state) if media.state in MediaState.values else MediaState.UPLOADING
    reason = media.error_display
    if state == MediaState.FAILED and not reason:
        reason = str(TRANSCODING_FAILED)
    return StateDisplay(
        state=state.value,
        label=str(state.label),
        description=str(STATE_DESCRIPTIONS[state]),
        classname=STATE_TAG_CLASSES[state],
        reason=reason,
        icon_name=STATE_ICONS[state],
    )
