"""Admin registration of the statistics screens (imported by ``wagtail_kollus.wagtail_hooks``)."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import URLResolver, include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import urls
from .panels import StatisticsPanel
from .views import user_can_view_statistics


class StatisticsMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return user_can_view_statistics(request.user)


@hooks.register("register_admin_urls")
def register_statistics_urls() -> list[URLResolver]:
    return [path("kollus/statistics/", include(urls, namespace="wagtail_kollus_stats"))]


@hooks.register("register_reports_menu_item")
def register_statistics_menu_item() -> MenuItem:
    return StatisticsMenuItem(
        _("Kollus statistics"),
        reverse("wagtail_kollus_stats:report"),
        name="kollus-statistics",
        icon_name="media",
        order=900,
    )


@hooks.register("construct_homepage_panels")
def add_statistics_panel(request: HttpRequest, panels: list) -> None:
    if user_can_view_statistics(request.user):
        panels.append(StatisticsPanel())


@hooks.register("register_permissions")
def register_statistics_permission() -> QuerySet[Permission]:
    # So that the permission can be given to groups in Settings → Groups.
    return Permission.objects.filter(
        content_type__app_label="wagtail_kollus", codename="view_kollus_statistics"
    )
