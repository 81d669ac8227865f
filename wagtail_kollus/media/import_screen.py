"""The library's "Import from Kollus" screen: start or resume an import run, watch it.

The import itself runs as a django-q2 task (``media.tasks.import_library``), a slice of pages
at a time, because Kollus allows one call a second and a request must not wait for minutes.
The screen shows the latest run's progress and polls a fragment of it
(``static/wagtail_kollus/js/library_import.js``) while a run is queued or running. A run that
stopped (Kollus down, a refused token, a garbled answer, a killed worker) says why, and
"Resume import" goes on from the page it had not written.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin.views.generic import WagtailAdminTemplateMixin

from ..models import ImportStatus, KollusImportRun
from . import jobs
from .importing import IMPORT_CLAIM_SECONDS, is_active, latest_run, start_or_resume
from .object_views import MediaPermissionMixin

PROGRESS_TEMPLATE = "wagtail_kollus/media/includes/import_progress.html"


def waiting_for_a_worker(run: KollusImportRun) -> bool:
    """Queued recently: a worker is about to take it (between two slices, or just started).
    Queued for longer than a lease, its job was probably lost (no cluster running)."""
    recent = timezone.now() - timedelta(seconds=IMPORT_CLAIM_SECONDS)
    return run.status == ImportStatus.QUEUED and run.updated_at > recent


def progress_context(request: HttpRequest, run: KollusImportRun | None) -> dict[str, Any]:
    active = run is not None and (is_active(run) or waiting_for_a_worker(run))
    waiting = run is not None and run.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
    return {
        "run": run,
        "active": active,
        # A run marked running whose worker's lease expired: that worker stopped.
        "interrupted": run is not None and run.status == ImportStatus.RUNNING and not active,
        "polling": waiting,
        "resumable": run is not None and not run.is_finished and not active,
        "start_url": reverse("kollus_media:import"),
        "progress_url": reverse("kollus_media:import_progress"),
    }


class ImportView(MediaPermissionMixin, WagtailAdminTemplateMixin, TemplateView):
    """GET: the latest run and the button; POST: start a run, or resume the stopped one."""

    permission_required = "add"
    template_name = "wagtail_kollus/media/import.html"
    page_title = gettext_lazy("Import from Kollus")
    header_icon = "download"
    model = None

    def get_breadcrumbs_items(self) -> list[dict]:
        return [
            {"url": reverse("kollus_media:index"), "label": _("Kollus videos")},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs: Any) -> dict:
        context = super().get_context_data(**kwargs)
        run = latest_run()
        if run is not None and run.status == ImportStatus.FAILED and run.error_display:
            messages.error(
                self.request,
                _("The import stopped: %(reason)s You can resume it.")
                % {"reason": run.error_display},
            )
        context.update(progress_context(self.request, run))
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        run, created = start_or_resume(request.user)
        if is_active(run):
            messages.info(request, _("The import is already running."))
        else:
            jobs.enqueue_now("import_library", run.pk)
            if created:
                messages.success(request, _("The import has started."))
            else:
                messages.success(
                    request,
                    _("The import goes on from page %(page)d.") % {"page": run.next_page},
                )
        return HttpResponseRedirect(reverse("kollus_media:import"))


class ImportProgressView(MediaPermissionMixin, View):
    """GET: the progress fragment, polled by the screen."""

    permission_required = "add"

    def get(self, request: HttpRequest) -> HttpResponse:
        html = render_to_string(
            PROGRESS_TEMPLATE, progress_context(request, latest_run()), request=request
        )
        # Wagtail's admin marks every response no-store: a poll always reads the database.
        return HttpResponse(html)


def import_urlpatterns(viewset: Any) -> list:
    return [
        path("import/", viewset.construct_view(ImportView), name="import"),
        path(
            "import/progress/",
            viewset.construct_view(ImportProgressView),
            name="import_progress",
        ),
    ]
