"""The ``WAGTAIL_KOLLUS`` settings dict, read through one object.

Every setting has a documented default (see ``docs/configuration.md``). Secrets may also come
from the environment as ``WAGTAIL_KOLLUS_<NAME>`` so that they never need to live in a settings
file. The object re-reads Django settings when ``setting_changed`` fires, so ``override_settings``
and pytest-django's ``settings`` fixture work in tests (the wagtailmedia pattern).
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

SETTINGS_NAME = "WAGTAIL_KOLLUS"
ENV_PREFIX = "WAGTAIL_KOLLUS_"

DEFAULTS: dict[str, Any] = {
    # --- contents API (the customer's class/commerce site) ---
    "CONTENTS_API_URL": "",  # e.g. "https://shop.example.com/api/public/v1"
    "CONTENTS_API_KEY": "",  # SERVER_PRIVATE_API_KEY: server-side only
    "DEFAULT_LANGUAGE": "ko",  # ko, en or ja
    # Wagtail locale code -> contents API language (ko, en, ja; None: none), merged over this
    # default; a region variant falls back to its base ("en-gb" -> "en"). Unmapped locales use
    # DEFAULT_LANGUAGE. Decides the chooser's default language and the language of synced records.
    "LOCALE_LANGUAGES": {"ko": "ko", "en": "en", "ja": "ja"},
    # --- Kollus VOD ---
    "KOLLUS_API_URL": "https://c-api-kr.kollus.com",  # API host of your Kollus region
    "KOLLUS_API_PATHS": {},  # overrides of wagtail_kollus.api.paths.KOLLUS_PATHS
    "KOLLUS_ACCESS_TOKEN": "",  # API access token (sent as access_token=); server-side only
    "KOLLUS_SECURITY_KEY": "",  # HS256 secret that signs player JWTs
    "KOLLUS_CUSTOM_KEY": "",  # the "user key" sent next to the JWT in the player URL
    "KOLLUS_SERVICE_ACCOUNT_KEY": "",  # content_provider_key, sent in every callback
    "KOLLUS_CHANNEL_KEY": "",  # channel new uploads are attached to
    "KOLLUS_CATEGORY_KEY": "",  # default category for new uploads
    "PLAYER_URL": "https://v.kr.kollus.com",  # Kollus player/video gateway
    "CALLBACK_TOKEN": "",  # secret path segment of the callback URLs
    # --- HTTP behaviour ---
    "CONNECT_TIMEOUT": 3.05,  # seconds to open a connection to either API
    "READ_TIMEOUT": 15.0,  # seconds to wait for an answer
    "MAX_RETRIES": 3,  # retries on 429/502/503/504 and connection errors (idempotent calls)
    "BACKOFF_FACTOR": 0.5,  # exponential backoff base (seconds), with full jitter
    "BACKOFF_MAX": 30.0,  # longest wait between retries; a longer Retry-After raises instead
    "KOLLUS_RATE_LIMIT_PER_SECOND": 1,  # Kollus allows 1 call/s per account (0: no limiter)
    "KOLLUS_RATE_LIMIT_PER_MINUTE": 60,  # ... and 60 calls/min
    # The contents API's limits (0: none). Shared by every process through RATE_LIMIT_CACHE,
    # so more sync workers never exceed them; set them to what the contents API allows.
    "CONTENTS_RATE_LIMIT_PER_SECOND": 0,  # contents API calls per second per API key (0: none)
    "CONTENTS_RATE_LIMIT_PER_MINUTE": 0,  # ... and per minute (0: none)
    "RATE_LIMIT_CACHE": "default",  # Django cache alias shared by every process
    # --- playback ---
    "PLAYER_TOKEN_LIFETIME": 300,  # seconds; the JWT's ``expt``
    "CACHE_SAFE_PLAYBACK": False,  # True: pages hold a signed reference, browsers fetch the URL
    "CUID_RESOLVER": "wagtail_kollus.playback.default_cuid",  # dotted path: request -> viewer id
    # Cache-safe playback: how long a page's signed player reference stays valid (seconds).
    # Long on purpose: a page cached for a day must still play. 30 days.
    "PLAYER_REFERENCE_MAX_AGE": 30 * 24 * 3600,
    # Token endpoint rate limits, per fixed window of PLAYER_TOKEN_RATE_WINDOW seconds:
    # per client (IP + session) and per IP (higher: offices and mobile carriers share IPs).
    "PLAYER_TOKEN_RATE_LIMIT": 30,
    "PLAYER_TOKEN_RATE_LIMIT_PER_IP": 300,  # token requests per IP per window
    "PLAYER_TOKEN_RATE_WINDOW": 60,  # seconds of the rate-limit window
    # --- who may play (docs/selling-courses.md) ---
    # Key of the signed-in viewer's id (cuid = an HMAC of the user's pk). Empty: derived from
    # SECRET_KEY. Set it to keep viewer ids (Kollus's statistics, resume points, watermarks)
    # the same across a SECRET_KEY rotation.
    "VIEWER_ID_KEY": "",
    # Dotted path of the class that decides who may play (allow, preview, refuse).
    "PLAYBACK_POLICY": "wagtail_kollus.playback.policy.PagePrivacyPolicy",
    # The default policy: a viewer the page's privacy refuses may watch this many seconds (0: none).
    "PLAYBACK_PREVIEW_SECONDS": 0,
    # Streams one viewer may play at once, counted by the play callback (0: no limit).
    "PLAYBACK_MAX_STREAMS": 0,
    # Seconds an approved play lasts (Kollus's expiration_date), and counts as a stream.
    "PLAY_SESSION_SECONDS": 3 * 3600,
    # The player URL parameter that carries the signed play context (uservalue0..9).
    "PLAY_CONTEXT_USERVALUE": "uservalue9",
    # --- player options signed into every token (docs/player.md, "Player options") ---
    # A viewer watermark drawn by Kollus's player: None (off) or a dict {"code": "user_id",
    # "email" or "name", and optionally "font_size", "font_color" ("RRGGBB"), "alpha" (0-255),
    # "show_time" and "hide_time" (seconds), "enable_html5_player"}. Kollus enables the feature
    # per account. A block may turn it off or choose another code.
    "PLAYER_WATERMARK": None,
    # Kollus's drm_policy, passed through into every token as it is (None: none).
    "PLAYER_DRM_POLICY": None,
    # None: Kollus shows its default subtitles; "page_language": only those in the page's language.
    "PLAYER_SUBTITLES": None,
    # The subtitle_policy sent for a language; "{language}" is replaced by its Kollus code.
    "SUBTITLE_POLICY_TEMPLATE": {"filter_main": ["{language}"]},
    # Wagtail locale code -> Kollus subtitle language (None: no filter), merged over the
    # identity; a region variant falls back to its base ("en-gb" -> "en").
    "SUBTITLE_LANGUAGES": {},
    # True: viewers cannot continue a video on another device (Kollus's disable_nscreen).
    "PLAYER_DISABLE_NSCREEN": False,
    # Media content key of a video played before every video ("": none); a block may skip it.
    "PLAYER_INTRO_MEDIA_CONTENT_KEY": "",
    # The block's default markup adds schema.org VideoObject JSON-LD after the player (the
    # {% kollus_video_jsonld %} tag gives it anywhere; docs/player.md).
    "BLOCK_STRUCTURED_DATA": False,
    # Days the refused plays report keeps a refusal; the sweep deletes older rows (0: keep all).
    "REFUSED_PLAYS_RETENTION_DAYS": 90,
    # The page editor's "Who can play" panel next to pages' Kollus video blocks (False: hidden).
    "PLAYBACK_ACCESS_PANEL": True,
    # --- learner progress (Kollus's LMS callback; docs/progress.md) ---
    # True: players of signed-in learners resume where they stopped, use the lesson's media
    # content key extension ({mckey}-{page id}) on unencrypted media, and the LMS callback
    # records progress. False: the LMS callback answers 200 and records nothing.
    "PROGRESS_TRACKING": False,
    # Percent of a video watched (distinct seconds) at which it counts as completed.
    "PROGRESS_COMPLETION_PERCENT": 90,
    # Seconds an LMS callback's play context stays valid after the player URL was signed: a
    # learner may watch long after the token (PLAYER_TOKEN_LIFETIME) expired. Older reports,
    # replayed or forged, change nothing.
    "PROGRESS_CONTEXT_MAX_AGE": 12 * 3600,
    # A resume point this close to the end (seconds) starts the video from the start instead.
    "PROGRESS_RESUME_END_MARGIN": 10,
    # --- caching of remote lists in the admin ---
    "CHOOSER_CACHE_TIMEOUT": 60,  # seconds the chooser keeps a contents API answer
    "CHOOSER_TAGS": {},  # tag names for the chooser's tag filter, {id: "name"}; empty: no filter
    "CACHE_ALIAS": "default",  # Django cache used for API answers
    "CACHE_VERSION": 1,  # bump to drop every cached API answer at once
    "CATEGORIES_MAX_AGE": 3600,  # seconds before the library's screens re-read Kollus's category list
    # --- viewing statistics (wagtail_kollus.stats; docs/statistics.md) ---
    "STATS_CACHE_TIMEOUT": 300,  # seconds; Kollus itself caches statistics for 5 minutes
    "STATS_LAST_GOOD_TIMEOUT": 60 * 60 * 24 * 30,  # keep last good figures for "stale since"
    "STATS_OUTAGE_PAUSE": 60,  # seconds without remote calls after Kollus failed to answer
    "STATS_REQUEST_RETRIES": 1,  # retries inside an admin page load (the schedule uses MAX_RETRIES)
    "STATS_REQUEST_MAX_WAIT": 10.0,  # seconds a page load may wait for the rate limiter, else stale
    "STATS_RECORD_DAYS": 3,  # days the daily schedule (re)records: covers Kollus's 36 h lag
    "STATS_SCHEDULE_TIME": "02:30",  # UTC time of the daily snapshot schedule
    "STATS_LIVE_DAYS_PER_VIDEO": 3,  # unrecorded recent days a per-video chart may ask Kollus for
    # --- background work (django-q2) ---
    "Q_CLUSTER_NAME": None,  # None: django-q2's default cluster
    # A worker's death restarts the cluster's pusher and workers on a new task queue, so the
    # lock a killed worker held cannot hang the cluster (cluster_repair.py, django-q2 #23).
    "CLUSTER_QUEUE_REPAIR": True,
    # --- page → content record sync (docs/sync.md) ---
    "SYNC_ENABLED": True,  # False: receivers record nothing and enqueue nothing
    "SYNC_CONTENT_TYPE": "vod",  # content_type of records created from pages
    "SYNC_DEFAULT_CATEGORY_IDS": [],  # category_ids when the mapping names no field
    "SYNC_DEFAULT_TAG_IDS": [],  # tag_ids when the mapping names no field
    "SYNC_DEFAULT_FEATURED_IMAGE": "",  # URL sent when the page has no image (the API requires one)
    # description_html of a page with no description and no search description (the API
    # requires the field; an empty paragraph satisfies it).
    "SYNC_DEFAULT_DESCRIPTION_HTML": "<p></p>",
    "SYNC_UNPUBLISHED_STATUS": "paused",  # record status after the page is unpublished
    "SYNC_DELETED_STATUS": "paused",  # record status after the page is deleted
    "SYNC_UNLINK_ON_DELETE": True,  # forget the content_id once the deleted page's record is paused
    "SYNC_CONFLICT_POLICY": "page_wins",  # remote edited since our push: page_wins, remote_wins, fail
    "SYNC_RETRY_HORIZON": 24 * 3600,  # seconds of retrying an unavailable API before "failed"
    "SYNC_RETRY_BACKOFF": 30.0,  # first retry delay (seconds), doubled per attempt
    "SYNC_RETRY_BACKOFF_MAX": 3600.0,  # longest delay between two attempts
    "SYNC_INLINE_RETRY_MAX": 5.0,  # shorter waits sleep in the worker; longer ones go to the sweep
    "SYNC_COALESCE_SECONDS": 1.0,  # a worker waits for this much quiet so bursts become one push
    "SYNC_COALESCE_MAX": 10.0,  # ... but never longer than this before pushing
    "SYNC_CLAIM_SECONDS": 120.0,  # a worker's lease on a page; keep Q_CLUSTER timeout < this ≤ retry
    # --- uploads and the video library (docs/media.md) ---
    "UPLOAD_EXPIRE_TIME": 600,  # seconds the one-time upload URL stays valid (Kollus max 21600)
    "UPLOAD_ENCRYPTION": False,  # default of Kollus's is_encryption_upload for new uploads
    "UPLOAD_AUDIO": False,  # default of is_audio_upload
    # Upload fields an editor (not only a superuser) may change from the defaults above.
    # Any of: "title", "category_key", "is_encryption_upload", "is_audio_upload".
    "UPLOAD_EDITOR_OVERRIDES": ["title", "category_key"],
    # --- importing the Kollus library (docs/media.md, "Importing your Kollus library") ---
    # Rows not refreshed for this many hours are re-read by the scheduled resync.
    "MEDIA_RESYNC_HOURS": 24,
    # Seconds one import task works before queuing the next slice (keep below Q_CLUSTER timeout).
    "IMPORT_TASK_SECONDS": 10,
    # An upload or transcode with no callback for this long is listed as "stuck".
    "STUCK_AFTER_MINUTES": 60,
    # --- callback processing (docs/callbacks.md) ---
    "CALLBACK_CLAIM_SECONDS": 120.0,  # a worker's lease on a delivery; keep Q_CLUSTER timeout < this ≤ retry
    # Seconds before each retry of a delivery (Kollus not answering or lagging, a busy database,
    # a stopped worker); once they are used up the delivery is failed, with "Retry" in the log.
    "CALLBACK_RETRY_DELAYS": [30, 60, 300, 900, 1800, 3600],
    # --- privacy of learner progress (docs/progress.md) ---
    # Days a learner's progress on a lesson is kept after it was last watched; the daily purge
    # (kollus_progress_purge --install-schedule) deletes older rows. None: kept for ever.
    "PROGRESS_RETENTION_DAYS": None,
}

# Settings that are secrets: they may come from the environment and are redacted wherever the
# plugin prints, logs or raises.
SECRET_SETTINGS = (
    "CONTENTS_API_KEY",
    "KOLLUS_ACCESS_TOKEN",
    "KOLLUS_SECURITY_KEY",
    "KOLLUS_CUSTOM_KEY",
    "KOLLUS_SERVICE_ACCOUNT_KEY",
    "CALLBACK_TOKEN",
)
# Secrets of the site rather than of the Kollus account (not fields of KollusAccount).
SITE_SECRET_SETTINGS = ("VIEWER_ID_KEY",)
ENV_SETTINGS = SECRET_SETTINGS + SITE_SECRET_SETTINGS + ("CONTENTS_API_URL", "KOLLUS_API_URL", "PLAYER_URL")


class KollusSettings:
    """Attribute access to ``settings.WAGTAIL_KOLLUS`` with defaults and env fallbacks."""

    @property
    def user_settings(self) -> dict[str, Any]:
        value = getattr(settings, SETTINGS_NAME, None) or {}
        if not isinstance(value, dict):
            return {}
        return value

    def __getattr__(self, name: str) -> Any:
        # Called only for a setting not read since the last reload: the value is then kept as
        # an instance attribute, which later reads find without coming here (a plain attribute
        # read; the plugin reads settings on every request and callback).
        if name.startswith("_") or name not in DEFAULTS:
            raise AttributeError(f"Unknown {SETTINGS_NAME} setting: {name!r}")
        value = self.user_settings.get(name)
        if value in (None, "") and name in ENV_SETTINGS:
            value = os.environ.get(ENV_PREFIX + name) or None
        if value is None:
            value = DEFAULTS[name]
        self.__dict__[name] = value
        return value

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return getattr(self, name)
        except AttributeError:
            return default

    def secret_values(self) -> list[str]:
        """Every configured secret, for redaction. Short values are skipped to avoid noise."""
        values = []
        for name in SECRET_SETTINGS + SITE_SECRET_SETTINGS:
            value = getattr(self, name)
            if isinstance(value, str) and len(value) >= 4:
                values.append(value)
        return values

    def reload(self) -> None:
        for name in DEFAULTS:
            self.__dict__.pop(name, None)


kollus_settings = KollusSettings()


@receiver(setting_changed)
def _reload_on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        kollus_settings.reload()
