"""Public signals site code can listen to.

Every signal is sent *after* the local mirror has been updated and committed, from the
background worker (never from the request that received a Kollus callback), with
``sender=<the model class>`` and ``instance=<the row>``.
"""

from django.dispatch import Signal

# A source file reached Kollus (the upload callback); transcoding starts next.
video_uploaded = Signal()
# Transcoding finished; the video can be played. Also sent after a replaced source is ready.
video_ready = Signal()
# Transcoding failed (``instance.error_message`` says why, when Kollus said).
video_failed = Signal()
# The media was attached to or detached from a channel (``channel_key``, ``action``).
video_channel_changed = Signal()
# Title, category or other metadata changed (``changed_fields``: list of field names).
video_updated = Signal()
# The media was deleted on Kollus and marked deleted locally.
video_deleted = Signal()
# Contents API sync (see docs/sync.md).
content_synced = Signal()
sync_failed = Signal()
