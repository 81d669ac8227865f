"""Local mirror rows. One module per concern; every model is re-exported here."""

from .callbacks import CallbackDelivery, CallbackKind, DeliveryStatus
from .imports import ImportStatus, KollusImportRun
from .media import KollusMedia, KollusMediaCategory, MediaState, PosterSource
from .plays import ApprovedPlay
from .progress import LearnerProgress
from .refusals import RefusalReason, RefusedPlay
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
    "ImportStatus",
    "KollusImportRun",
    "KollusMedia",
    "KollusMediaCategory",
    "KollusVideo",
    "LearnerProgress",
    "MediaState",
    "PosterSource",
    "RefusalReason",
    "RefusedPlay",
    "StatsRollup",
    "StatsRollupRow",
    "VideoSource",
]
