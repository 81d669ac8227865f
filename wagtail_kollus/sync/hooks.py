"""Wagtail hooks of the sync feature: admin URLs and the report in the Reports menu."""

from __future__ import annotations

from typing import Any

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import urls
from .report import REPORT_PERMISSION


@hooks.register("register_admin_urls")
def register_sync_urls() -> list[Any]:
    return [path("kollus/sync/", include(urls, namespace="wagtail_kollus_sync"))]


class SyncReportMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        return request.user.has_perm(REPORT_PERMISSION)


@hooks.register("register_reports_menu_item")
def register_sync_report_menu_item() -> MenuItem:
    return SyncReportMenuItem(
        _("Contents sync"),
        reverse("wagtail_kollus_sync:report"),
        name="kollus-sync",
        icon_name="resubmit",
        order=900,
    )
