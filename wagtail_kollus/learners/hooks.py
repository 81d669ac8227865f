"""Admin registration of the learner progress reports (imported by ``wagtail_hooks``)."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import URLResolver, include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import urls
from .permissions import user_can_view_progress


class ProgressMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return user_can_view_progress(request.user)


@hooks.register("register_admin_urls")
def register_progress_urls() -> list[URLResolver]:
    return [path("kollus/progress/", include(urls, namespace="wagtail_kollus_progress"))]


@hooks.register("register_reports_menu_item")
def register_progress_menu_item() -> MenuItem:
    return ProgressMenuItem(
        _("Learner progress"),
        reverse("wagtail_kollus_progress:pages"),
        name="kollus-learner-progress",
        icon_name="user",
        order=910,
    )


@hooks.register("register_permissions")
def register_progress_permission() -> QuerySet[Permission]:
    # So that the permission can be given to groups in Settings → Groups.
    return Permission.objects.filter(
        content_type__app_label="wagtail_kollus", codename="view_learnerprogress"
    )
