"""Admin registration of playback: the refused plays report (imported by ``wagtail_hooks``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission
from django.db.models import QuerySet
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import admin_urls
from .report import user_can_view_refused_plays


@hooks.register("register_admin_urls")
def register_refused_plays_urls() -> list[Any]:
    return [path("kollus/refused-plays/", include(admin_urls, namespace=admin_urls.app_name))]


class RefusedPlaysMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        return user_can_view_refused_plays(request.user)


@hooks.register("register_reports_menu_item")
def register_refused_plays_menu_item() -> MenuItem:
    return RefusedPlaysMenuItem(
        _("Kollus refused plays"),
        reverse("wagtail_kollus_refused_plays:index"),
        name="kollus-refused-plays",
        icon_name="lock",
        order=915,
    )


@hooks.register("register_permissions")
def register_refused_plays_permission() -> QuerySet[Permission]:
    # So that the report can be given to groups in Settings → Groups (it names viewers).
    return Permission.objects.filter(
        content_type__app_label="wagtail_kollus", codename="view_refusedplay"
    )
