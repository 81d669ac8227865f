"""Local mirror rows. One module per concern; every model is re-exported here."""

from .callbacks import CallbackDelivery, CallbackKind, DeliveryStatus
from .media import KollusMedia, KollusMediaCategory, MediaState
from .plays import ApprovedPlay
from .progress import LearnerProgress
from .stats import DailyStatsSnapshot, DailyVideoViews, StatsRollup, StatsRollupRow
from .sync import ContentRecord, PageContentLink, SyncAction, SyncLogEntry, SyncState  # noqa: F401
from .videos import KollusVideo, VideoSource

__all__ = [
    "ApprovedPlay",
    "CallbackDelivery",
    "CallbackKind",
    "DailyStatsSnapshot",
    "DailyVideoViews",
    "DeliveryStatus",
    "KollusMedia",
    "KollusMediaCategory",
    "KollusVideo",
    "LearnerProgress",
    "MediaState",
    "StatsRollup",
    "StatsRollupRow",
    "VideoSource",
]
