"""Admin registration of the video library and its callback log."""

from __future__ import annotations

from typing import Any

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import callback_log
from .bulk_actions import DeleteBulkAction, RefreshBulkAction, SetCategoryBulkAction
from .library import KollusMediaViewSet, kollus_media_viewset


@hooks.register("register_admin_viewset")
def register_kollus_media_viewset() -> KollusMediaViewSet:
    return kollus_media_viewset


@hooks.register("register_admin_urls")
def register_callback_log_urls() -> list[Any]:
    return [path("kollus/callbacks/", include(callback_log, namespace=callback_log.app_name))]


class CallbackLogMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        return callback_log.user_can_read_log(request.user)


@hooks.register("register_reports_menu_item")
def register_callback_log_menu_item() -> MenuItem:
    return CallbackLogMenuItem(
        _("Kollus callbacks"),
        reverse("wagtail_kollus_callbacks:index"),
        name="kollus-callbacks",
        icon_name="media",
        order=910,
    )


for bulk_action in (RefreshBulkAction, SetCategoryBulkAction, DeleteBulkAction):
    hooks.register("register_bulk_action", bulk_action)
