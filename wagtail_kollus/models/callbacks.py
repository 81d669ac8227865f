"""The log of Kollus platform callbacks: one row per distinct delivery.

Kollus retries a callback that was not answered with 200 in time (every 5 minutes, up to 3
more times), so the same delivery can arrive several times. The ``fingerprint`` (a hash of the
kind and the whole payload) is unique: a repeat finds the row and changes nothing.
"""

from __future__ import annotations

import hashlib
import json

from django.db import models
from django.utils.translation import gettext_lazy as _


class CallbackKind(models.TextChoices):
    UPLOAD = "upload", _("Upload")
    TRANSCODING = "transcoding", _("Transcoding")
    CONTENT_UPDATE = "content-update", _("Content update")
    CHANNEL_ADD = "channel-add", _("Channel add")
    CHANNEL_DELETE = "channel-delete", _("Channel delete")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    PROCESSING = "processing", _("Processing")
    PROCESSED = "processed", _("Processed")
    # Kollus does not know the upload file key (or it belongs to nobody we track).
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


def delivery_fingerprint(kind: str, payload: dict[str, str]) -> str:
    """sha256 of the kind and the payload with sorted keys: identical deliveries collide."""
    canonical = json.dumps([kind, sorted(payload.items())], separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class CallbackDelivery(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=CallbackKind.choices)
    fingerprint = models.CharField(max_length=64, unique=True)
    upload_file_key = models.CharField(_("upload file key"), max_length=100, db_index=True)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    # How many times this exact delivery arrived (1 = once). Repeats are normal, not errors.
    times_received = models.PositiveIntegerField(default=1)
    error_message = models.TextField(_("error"), blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    last_received_at = models.DateTimeField(_("last received"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("Kollus callback delivery")
        verbose_name_plural = _("Kollus callback deliveries")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.upload_file_key}"
