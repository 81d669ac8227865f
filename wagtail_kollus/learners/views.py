"""The learner progress reports: the lessons overview, one page's learners, one learner's
lessons, and one learner's data (what a learner may ask for).

Gated by ``wagtail_kollus.view_learnerprogress`` (Django's own "view" permission of the
model, offered to groups in Settings → Groups) and answering 403 without it, as the
statistics screens do: progress is personal data, and a bookmarked report should say why it
is closed.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Max
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.reports import ReportView
from wagtail.admin.widgets import Button

from ..compat import get_page_model
from ..models import LearnerProgress
from ..spreadsheets import CSVInRequestLanguageMixin
from ..stats.charts import render_chart
from ..stats.periods import utc_today
from ..stats.views import BARS_UP_TO_DAYS, ViewsColumn
from . import figures, privacy
from .forms import ProgressFilterForm, section_choices
from .permissions import user_can_view_progress

CHART_DEFAULT_DAYS = 30


class ProgressPermissionMixin:
    def dispatch(self, request, *args, **kwargs):
        if not user_can_view_progress(request.user):
            return TemplateResponse(
                request, "wagtail_kollus/learners/forbidden.html", {}, status=403
            )
        return super().dispatch(request, *args, **kwargs)


class NumberColumn(ViewsColumn):
    """A figure, grouped by thousands (the statistics screens' number cell)."""


class PercentColumn(Column):
    cell_template_name = "wagtail_kollus/learners/cells/percent.html"


class CountedPaginator(WagtailPaginator):
    """The count under a listing in the listing's own noun: Wagtail's says "1 learner
    progress" (the model's verbose name) whatever a row of the report is."""

    def noun_phrase(self, count: int) -> str:  # "%(count)s …", through ngettext
        raise NotImplementedError

    @cached_property
    def items_count_label(self) -> str:
        return self.noun_phrase(self.count) % {
            "count": number_format(self.count, force_grouping=True)
        }


class PagesPaginator(CountedPaginator):
    def noun_phrase(self, count: int) -> str:
        return ngettext("%(count)s page", "%(count)s pages", count)


class LearnersPaginator(CountedPaginator):
    def noun_phrase(self, count: int) -> str:
        return ngettext("%(count)s learner", "%(count)s learners", count)


class VideosPaginator(CountedPaginator):
    def noun_phrase(self, count: int) -> str:
        return ngettext("%(count)s video", "%(count)s videos", count)


class ProgressReportMixin(ProgressPermissionMixin, CSVInRequestLanguageMixin):
    """Filters from the query string, and spreadsheets that stream (in the editor's
    language)."""

    header_icon = "user"
    paginate_by = 50
    sections_enabled = False

    def section_page_ids(self) -> set[int]:
        return set()

    @cached_property
    def filter_form(self) -> ProgressFilterForm:
        sections = section_choices(self.section_page_ids()) if self.sections_enabled else None
        return ProgressFilterForm(self.request.GET or None, sections=sections)

    @cached_property
    def progress_filters(self) -> figures.Filters:
        return self.filter_form.filters()

    def get(self, request, *args, **kwargs):
        if not self.is_export:
            return super().get(request, *args, **kwargs)
        return self.as_spreadsheet(self.export_rows(), request.GET.get("export"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        return context


EXPORT_COLUMNS = [
    "learner_id",
    "learner_name",
    "learner_email",
    "page_id",
    "page_title",
    "media_content_key",
    "video_title",
    "percent",
    "watched_seconds",
    "duration",
    "last_position",
    "first_watched_at",
    "last_watched_at",
    "completed_at",
]


def export_headings() -> dict:
    return {
        "learner_id": _("Learner ID"),
        "learner_name": _("Learner"),
        "learner_email": _("Email"),
        "page_id": _("Page ID"),
        "page_title": _("Page"),
        "media_content_key": _("Media content key"),
        "video_title": _("Video"),
        "percent": _("Percent watched"),
        "watched_seconds": _("Watched (seconds)"),
        "duration": _("Duration (seconds)"),
        "last_position": _("Last position (seconds)"),
        "first_watched_at": _("First watched"),
        "last_watched_at": _("Last watched"),
        "completed_at": _("Completed"),
    }


# --- the lessons overview ------------------------------------------------------------------------


class ProgressPagesView(ProgressReportMixin, ReportView):
    """Every page with progress: its learners, their average and the last activity."""

    paginator_class = PagesPaginator
    template_name = "wagtail_kollus/learners/pages.html"
    results_template_name = "wagtail_kollus/learners/results.html"
    page_title = _("Learner progress")
    index_url_name = "wagtail_kollus_progress:pages"
    index_results_url_name = "wagtail_kollus_progress:pages_results"
    default_ordering = "-last_watched"
    sections_enabled = True
    list_export = EXPORT_COLUMNS
    columns = [
        TitleColumn(
            "page_title",
            label=_("Page"),
            get_url=lambda row: reverse("wagtail_kollus_progress:page", args=[row["page_id"]]),
        ),
        NumberColumn("learners", label=_("Learners"), sort_key="learners"),
        NumberColumn("completions", label=_("Videos completed"), sort_key="completions"),
        PercentColumn("average_percent", label=_("Average watched")),
        DateColumn("last_watched", label=_("Last watched"), sort_key="last_watched"),
    ]

    def section_page_ids(self) -> set[int]:
        return set(
            LearnerProgress.objects.order_by().values_list("page_id", flat=True).distinct()
        )

    def get_filename(self) -> str:
        return "learner-progress"

    @property
    def export_headings(self):
        return export_headings()

    def filtered_rows(self):
        rows = figures.active_rows(LearnerProgress.objects.all(), self.progress_filters)
        if self.progress_filters.state == figures.COMPLETED:
            rows = rows.filter(completed_at__isnull=False)
        elif self.progress_filters.state == figures.IN_PROGRESS:
            rows = rows.filter(completed_at__isnull=True)
        return rows

    def get_queryset(self):
        grouped = (
            self.filtered_rows()
            .order_by()
            .values("page_id")
            .annotate(
                learners=Count("learner_id", distinct=True),
                completions=Count("completed_at"),
                last_watched=Max("last_watched_at"),
            )
        )
        return grouped.order_by(self.ordering, "page_id")

    def paginate_queryset(self, queryset, page_size):
        paginator, page, object_list, is_paginated = super().paginate_queryset(
            queryset, page_size
        )
        items = list(object_list)
        page_ids = [item["page_id"] for item in items]
        pages = get_page_model().objects.in_bulk(page_ids)
        # As each page's report: over the videos the page shows, one not started as 0 %.
        averages = figures.pages_average_percent(self.filtered_rows(), page_ids)
        for item in items:
            page_obj = pages.get(item["page_id"])
            item["page_title"] = page_obj.get_admin_display_title() if page_obj else ""
            item["average_percent"] = averages[item["page_id"]]
        page.object_list = items
        return paginator, page, items, is_paginated

    def export_rows(self):
        return figures.export_rows(self.filtered_rows().order_by("page_id", "learner_id", "pk"))


class ProgressPagesResultsView(ProgressPagesView):
    results_only = True


# --- one page ------------------------------------------------------------------------------------


class PageProgressView(ProgressReportMixin, ReportView):
    """One page: its figures, two charts, each video, then its learners."""

    paginator_class = LearnersPaginator
    template_name = "wagtail_kollus/learners/page.html"
    results_template_name = "wagtail_kollus/learners/results.html"
    index_url_name = "wagtail_kollus_progress:page"
    index_results_url_name = "wagtail_kollus_progress:page_results"
    default_ordering = "-last_watched"
    list_export = EXPORT_COLUMNS
    columns = [
        TitleColumn(
            "learner_name",
            label=_("Learner"),
            get_url=lambda row: reverse("wagtail_kollus_progress:learner", args=[row.learner_id]),
        ),
        # A page's videos are few: plain numbers (no thousands grouping to compute per cell).
        Column("videos", label=_("Videos started"), sort_key="videos"),
        Column("videos_completed", label=_("Videos completed"), sort_key="videos_completed"),
        PercentColumn("percent", label=_("Watched"), sort_key="percent_sum"),
        # One human-readable date per row (each costs a "time since" and a tooltip to format);
        # the first watched date is in the exports.
        DateColumn("last_watched", label=_("Last watched"), sort_key="last_watched"),
    ]

    @cached_property
    def page(self):
        return get_object_or_404(get_page_model(), pk=self.kwargs["page_id"]).specific_deferred

    @cached_property
    def progress(self) -> figures.PageProgress:
        return figures.PageProgress(self.page.pk, self.progress_filters)

    @cached_property
    def page_figures(self) -> figures.PageFigures:
        return self.progress.figures()

    @property
    def video_count(self) -> int:
        return max(len(self.page_figures.videos), 1)

    def get_page_title(self) -> str:
        return gettext("Learner progress")

    def get_page_subtitle(self) -> str:
        return self.page.get_admin_display_title()

    def get_index_url(self):
        return reverse(self.index_url_name, args=[self.page.pk])

    def get_index_results_url(self):
        return reverse(self.index_results_url_name, args=[self.page.pk])

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtail_kollus_progress:pages"), "label": _("Learner progress")},
            {"url": "", "label": self.page.get_admin_display_title()},
        ]

    def get_filename(self) -> str:
        return f"learner-progress-page-{self.page.pk}"

    @property
    def export_headings(self):
        return export_headings()

    def get_queryset(self):
        return self.progress.per_learner(self.video_count, self.ordering)

    def get_paginator(self, queryset, per_page, **kwargs):
        paginator = super().get_paginator(queryset, per_page, **kwargs)
        # The figures counted the learners already: no second grouping of the page's rows.
        paginator.count = self.page_figures.learners
        return paginator

    def paginate_queryset(self, queryset, page_size):
        paginator, page, object_list, is_paginated = super().paginate_queryset(
            queryset, page_size
        )
        rows = figures.learner_rows_for(object_list, self.video_count)
        page.object_list = rows
        return paginator, page, rows, is_paginated

    def export_rows(self):
        # Every (learner, video) row of the learners the filters select, streamed.
        learners = self.progress.per_learner(self.video_count).values("learner_id")
        rows = self.progress.page_rows()
        if self.progress_filters != figures.Filters():
            rows = rows.filter(learner_id__in=learners)
        titles = {video.media_content_key: video.title for video in self.page_figures.videos}
        return figures.export_rows(rows.order_by("learner_id", "pk"), titles=titles)

    def chart_days(self) -> list:
        today = utc_today()
        end = min(self.progress_filters.end or today, today)
        start = self.progress_filters.start or end - timedelta(days=CHART_DEFAULT_DAYS - 1)
        start = min(start, end)
        return [start + timedelta(days=n) for n in range((end - start).days + 1)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.is_export:
            return context
        days = self.chart_days()
        started, completed = self.progress.daily(days)
        kind = "bars" if len(days) <= BARS_UP_TO_DAYS else "line"
        context.update(
            {
                "page": self.page,
                "figures": self.page_figures,
                "days": days,
                "started_chart": render_chart(
                    started,
                    chart_id="kollus-progress-started",
                    title=gettext("Videos started, per day"),
                    value_name=gettext("Videos started"),
                    kind=kind,
                ),
                "completed_chart": render_chart(
                    completed,
                    chart_id="kollus-progress-completed",
                    title=gettext("Videos completed, per day"),
                    value_name=gettext("Videos completed"),
                    kind=kind,
                ),
            }
        )
        return context


class PageProgressResultsView(PageProgressView):
    results_only = True


# --- one learner ---------------------------------------------------------------------------------


class LearnerProgressView(ProgressReportMixin, ReportView):
    """One learner's lessons: each page and video, how much was watched, when."""

    paginator_class = VideosPaginator
    template_name = "wagtail_kollus/learners/learner.html"
    results_template_name = "wagtail_kollus/learners/results.html"
    index_url_name = "wagtail_kollus_progress:learner"
    index_results_url_name = "wagtail_kollus_progress:learner_results"
    sections_enabled = True
    list_export = EXPORT_COLUMNS
    columns = [
        TitleColumn(
            "page_title",
            label=_("Page"),
            get_url=lambda row: reverse("wagtail_kollus_progress:page", args=[row.page_id]),
        ),
        Column("video_title", label=_("Video")),
        PercentColumn("percent", label=_("Watched")),
        NumberColumn("last_position", label=_("Last position (seconds)")),
        DateColumn("last_watched_at", label=_("Last watched")),
        DateColumn("completed_at", label=_("Completed")),
    ]

    @cached_property
    def learner(self):
        return get_object_or_404(get_user_model(), pk=self.kwargs["user_id"])

    @property
    def learner_name(self) -> str:
        return self.learner.get_full_name() or self.learner.get_username()

    def section_page_ids(self) -> set[int]:
        return set(
            LearnerProgress.objects.filter(learner=self.learner)
            .order_by()
            .values_list("page_id", flat=True)
            .distinct()
        )

    def get_page_title(self) -> str:
        return gettext("Learner progress")

    def get_page_subtitle(self) -> str:
        return self.learner_name

    def get_index_url(self):
        return reverse(self.index_url_name, args=[self.learner.pk])

    def get_index_results_url(self):
        return reverse(self.index_results_url_name, args=[self.learner.pk])

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtail_kollus_progress:pages"), "label": _("Learner progress")},
            {"url": "", "label": self.learner_name},
        ]

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        buttons.append(
            Button(
                _("Download the learner's data (JSON)"),
                url=reverse("wagtail_kollus_progress:learner_data", args=[self.learner.pk]),
                icon_name="download",
                priority=110,
            )
        )
        return buttons

    def get_filename(self) -> str:
        return f"learner-progress-user-{self.learner.pk}"

    @property
    def export_headings(self):
        return export_headings()

    def get_queryset(self):
        return figures.learner_rows(self.learner.pk, self.progress_filters)

    def paginate_queryset(self, queryset, page_size):
        paginator, page, object_list, is_paginated = super().paginate_queryset(
            queryset, page_size
        )
        rows = figures.with_video_titles(list(object_list))
        page.object_list = rows
        return paginator, page, rows, is_paginated

    def export_rows(self):
        return figures.export_rows(self.get_queryset())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["learner"] = self.learner
        context["learner_name"] = self.learner_name
        return context


class LearnerProgressResultsView(LearnerProgressView):
    results_only = True


class LearnerDataView(ProgressPermissionMixin, View):
    """GET: everything stored about one learner's progress, as JSON (a download)."""

    def get(self, request, user_id: int):
        learner = get_user_model()._default_manager.filter(pk=user_id).first()
        if learner is None:
            raise Http404
        response = HttpResponse(content_type="application/json")
        response["Content-Disposition"] = (
            f'attachment; filename="learner-progress-user-{learner.pk}.json"'
        )
        json.dump(privacy.learner_data(learner), response, indent=2, ensure_ascii=False)
        return response
