"""Local mirror rows. One module per concern; every model is re-exported here."""

from .media import KollusMedia, MediaState
from .videos import KollusVideo, VideoSource

__all__ = ["KollusMedia", "KollusVideo", "MediaState", "VideoSource"]
