"""Plays the play callback refused: what *Reports → Refused plays* lists.

One row per refusing answer (Kollus asks twice per play, kinds 1 and 3; a refused kind 1
usually ends the play there). Written by the play callback with one ``INSERT`` and nothing
else: an approved play writes nothing here. The sweep deletes rows older than
``REFUSED_PLAYS_RETENTION_DAYS``.

``user`` and ``page`` are foreign keys without database constraints (``DO_NOTHING``): the row
is a record of what happened, so deleting a user or a page neither deletes the history nor
fails the callback's insert when the page was deleted after the player was shown; the report
then shows the page's id.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import models, router
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..compat import page_model_name
from ..prepared import PreparedStatement, prepare_insert


class RefusalReason(models.TextChoices):
    """Why a play was refused. A site's policy may give codes of its own
    (``Decision.refuse(message, reason="not_bought")``): they are stored and shown as they are."""

    INVALID_CONTEXT = "invalid_context", _("No valid play context")
    LOGIN_REQUIRED = "login_required", _("Login required")
    GROUP_REQUIRED = "group_required", _("Group membership required")
    PASSWORD_REQUIRED = "password_required", _("Page password required")
    STREAM_LIMIT = "stream_limit", _("Too many streams")
    POLICY = "policy", _("Refused by the site's policy")


class RefusedPlay(models.Model):
    refused_at = models.DateTimeField(_("refused at"), default=timezone.now, db_index=True)
    # The viewer id Kollus sent (the token's cuid), whatever it maps to.
    cuid = models.CharField(_("viewer ID"), max_length=200, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    page = models.ForeignKey(
        page_model_name(),
        verbose_name=_("page"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    media_content_key = models.CharField(_("media content key"), max_length=100, blank=True)
    kind = models.PositiveSmallIntegerField(_("callback kind"), default=0)
    reason = models.CharField(_("reason"), max_length=50, db_index=True)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("refused play")
        verbose_name_plural = _("refused plays")
        ordering = ["-refused_at", "-pk"]

    def __str__(self) -> str:
        return (
            f"{self.media_content_key} refused ({self.reason}) at {self.refused_at:%Y-%m-%d %H:%M}"
        )

    @property
    def reason_label(self) -> str:
        """The reason's label, or the code itself for a code of the site's own policy."""
        try:
            return str(RefusalReason(self.reason).label)
        except ValueError:
            return self.reason

    @classmethod
    def record(cls, **fields: Any) -> None:
        """Write one refusal: a single ``INSERT``, compiled once (:mod:`wagtail_kollus.prepared`:
        the play callback writes it on every refusal), so no model signal is sent, as with
        ``bulk_create``. ``fields`` by attribute name (``user_id``, ``page_id``); those left
        out take their defaults.

        Text is cut to its column: the callback accepts fields up to 200 characters and a
        site's policy may give a long reason code; PostgreSQL would refuse the row instead.
        """
        values = {}
        for field in cls._meta.concrete_fields:
            if field.primary_key:
                continue
            value = fields.pop(field.attname) if field.attname in fields else field.get_default()
            if field.max_length and isinstance(value, str):
                value = value[: field.max_length]
            values[field.attname] = value
        if fields:
            raise TypeError(f"RefusedPlay has no fields {sorted(fields)}.")
        using = router.db_for_write(cls)
        _insert_statement(using).execute(using, **values)

    @classmethod
    def delete_older_than(cls, days: int) -> int:
        """Delete rows older than ``days`` days (the sweep calls it); 0 or less keeps all."""
        if int(days or 0) <= 0:
            return 0
        cutoff = timezone.now() - timedelta(days=int(days))
        deleted, _by_model = cls.objects.filter(refused_at__lt=cutoff).delete()
        return deleted


@lru_cache(maxsize=8)
def _insert_statement(using: str) -> PreparedStatement:
    return prepare_insert(RefusedPlay, using=using)
