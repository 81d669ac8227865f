"""The base of admin views about library videos: the permission policy (every view), and for
views about one video (delete, replace) the (not deleted) object from the URL and the
breadcrumbs back to it in the library."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permission_policies import ModelPermissionPolicy

from ..models import KollusMedia, MediaState


class MediaPermissionMixin(PermissionCheckedMixin):
    """Wagtail 7.0 passes ``permission_policy`` from the viewset; 8.0 looks it up. Be explicit."""

    @cached_property
    def permission_policy(self) -> ModelPermissionPolicy:
        return ModelPermissionPolicy(KollusMedia)


class MediaObjectView(MediaPermissionMixin, WagtailAdminTemplateMixin, TemplateView):
    model = None

    @cached_property
    def object(self) -> KollusMedia:
        return get_object_or_404(
            KollusMedia.objects.exclude(state=MediaState.DELETED), pk=self.kwargs["pk"]
        )

    def get_page_subtitle(self) -> str:
        return str(self.object)

    def get_breadcrumbs_items(self) -> list[dict]:
        return [
            {"url": reverse("kollus_media:index"), "label": _("Kollus videos")},
            {"url": reverse("kollus_media:edit", args=(self.object.pk,)), "label": str(self.object)},
            {"url": "", "label": self.page_title},
        ]
