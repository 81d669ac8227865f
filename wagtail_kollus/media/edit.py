"""The video edit screen, shaped like Wagtail's image edit screen.

The form (title, category) on the left; on the right what the editor came to check: a player
preview when the video is ready (else its poster), its state with the reason when it failed,
and its details (duration, size, file, keys, channels, dates, usage). The status side panel
says the video's state, not Wagtail's "Live", which means nothing for a Kollus video.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.side_panels import StatusSidePanel
from wagtail.admin.views import generic
from wagtail.admin.widgets import Button

from ..models import KollusMedia, MediaState
from ..player import Playable
from ..templatetags.kollus import render_player
from . import jobs
from .object_views import MediaPermissionMixin
from .refresh import post_action_attrs
from .states import state_display
from .usage import media_usage

WAGTAIL_LIVE_STATUS = "wagtailadmin/shared/side_panels/includes/status/workflow.html"
STATE_STATUS = "wagtail_kollus/media/side_panels/state.html"


class MediaStatusSidePanel(StatusSidePanel):
    """Wagtail's status panel with the video's state in place of "Live", and the usage
    counted through chosen videos (blocks point at ``KollusVideo``, not at the media)."""

    def get_status_templates(self, context: dict) -> list[str]:
        templates = [t for t in super().get_status_templates(context) if t != WAGTAIL_LIVE_STATUS]
        return [STATE_STATUS, *templates]

    def get_usage_context(self) -> dict:
        return {"usage_count": media_usage(self.object).source_count, "usage_url": self.usage_url}

    def get_context_data(self, parent_context: dict) -> dict:
        context = super().get_context_data(parent_context)
        context["kollus_state"] = state_display(self.object)
        return context


def preview_player(request: Any, media: KollusMedia) -> str:
    """A player for the editor, or ``""`` when there is nothing to play yet.

    Cache-safe, although the admin is never cached: Kollus's player URL carries the custom
    key, and admin HTML holds no key (docs/security.md); the browser fetches the URL from the
    token endpoint instead.
    """
    if media.state != MediaState.READY or not media.media_content_key:
        return ""
    playable = Playable(
        media_content_key=media.media_content_key,
        title=media.title,
        poster_url=media.poster_url,
        duration_seconds=media.duration_seconds,
    )
    return render_player(playable, request=request, cache_safe=True, css_class="kollus-preview")


class MediaEditView(MediaPermissionMixin, generic.EditView):
    template_name = "wagtail_kollus/media/edit.html"
    success_message = _("Video '%(object)s' saved; Kollus will be updated in a moment.")

    def save_instance(self) -> KollusMedia:
        before = KollusMedia.objects.values("title", "category_key").get(pk=self.object.pk)
        instance = super().save_instance()
        if before != {"title": instance.title, "category_key": instance.category_key}:
            # Queued: Kollus allows one call a second; the worker shares the rate limiter.
            jobs.enqueue("push_metadata", instance.pk)
        return instance

    def get_side_panels(self):
        panels = super().get_side_panels()
        # Swap Wagtail's status panel (built with the same arguments) for ours.
        return type(panels)(
            MediaStatusSidePanel(
                panel.object,
                panel.request,
                locale=panel.locale,
                translations=panel.translations,
                usage_url=panel.usage_url,
                history_url=panel.history_url,
                last_updated_info=panel.last_updated_info,
            )
            if type(panel) is StatusSidePanel
            else panel
            for panel in panels
        )

    @property
    def header_more_buttons(self) -> list:
        buttons = list(super().header_more_buttons)
        if self.object.state == MediaState.DELETED:
            return buttons
        refresh_url = reverse("kollus_media:refresh", args=(self.object.pk,))
        buttons.append(
            Button(
                _("Refresh from Kollus"),
                url=refresh_url,
                icon_name="rotate",
                attrs=post_action_attrs(refresh_url),
                priority=40,
            )
        )
        buttons.append(
            Button(
                _("Set poster"),
                url=reverse("kollus_media:poster", args=(self.object.pk,)),
                icon_name="image",
                priority=42,
            )
        )
        if self.object.state == MediaState.READY:
            buttons.append(
                Button(
                    _("Replace source"),
                    url=reverse("kollus_media:replace", args=(self.object.pk,)),
                    icon_name="upload",
                    priority=45,
                )
            )
        return buttons

    def get_context_data(self, **kwargs: Any) -> dict:
        context = super().get_context_data(**kwargs)
        media = self.object
        usage = media_usage(media)
        context.update(
            kollus_state=state_display(media),
            preview_player=preview_player(self.request, media),
            usage_count=usage.source_count,
            usage_url=self.get_usage_url(),
            channels=media.channels or [],
        )
        return context
