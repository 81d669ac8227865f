"""The statistics report and the per-video statistics view.

Both are gated by ``wagtail_kollus.view_kollus_statistics`` and answer 403 without it (not
Wagtail's usual redirect to the dashboard: a bookmarked report should say why it is closed).
Neither ever shows an error page for a Kollus failure: the service falls back to the last good
figures and the template says since when they are stale.
"""

from __future__ import annotations

from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.admin.views.reports import ReportView

from ..models import KollusMedia
from . import service
from .charts import Point, format_bytes, render_chart
from .forms import StatisticsRangeForm
from .periods import DateRange
from .rows import join_local, ranking_rows

STATS_PERMISSION = "wagtail_kollus.view_kollus_statistics"
# Over about three months one bar per day gets too thin to read; a line is clearer.
BARS_UP_TO_DAYS = 92


def user_can_view_statistics(user) -> bool:
    return bool(user and user.is_active and user.has_perm(STATS_PERMISSION))


class StatisticsPermissionMixin:
    def dispatch(self, request, *args, **kwargs):
        if not user_can_view_statistics(request.user):
            return TemplateResponse(request, "wagtail_kollus/stats/forbidden.html", {}, status=403)
        return super().dispatch(request, *args, **kwargs)


class RangeMixin:
    """Reads the date range from the query string (presets or custom)."""

    @cached_property
    def range_form(self) -> StatisticsRangeForm:
        return StatisticsRangeForm(self.request.GET or None)

    @cached_property
    def period(self) -> DateRange:
        return self.range_form.period()

    @cached_property
    def range_query(self) -> str:
        return self.range_form.query_string(self.period)


def account_charts(
    series: service.AccountSeries, prefix: str, *, compact: bool = False
) -> tuple[SafeString, SafeString]:
    """The visitors and transfer charts of ``series`` (bars up to 92 days, then a line)."""
    kind = "bars" if series.period.days <= BARS_UP_TO_DAYS else "line"
    visitors = render_chart(
        [Point(p.date, p.unique_visitors) for p in series.points],
        chart_id=f"{prefix}-visitors",
        title=_("Unique visitors per day"),
        value_name=_("Unique visitors"),
        kind=kind,
        compact=compact,
    )
    transfer = render_chart(
        [Point(p.date, p.transfer_bytes) for p in series.points],
        chart_id=f"{prefix}-transfer",
        title=_("Transfer per day"),
        value_name=_("Transfer"),
        format_value=format_bytes,
        kind=kind,
        compact=compact,
    )
    return visitors, transfer


class ViewsColumn(Column):
    cell_template_name = "wagtail_kollus/stats/cells/number.html"


class VideoColumn(Column):
    cell_template_name = "wagtail_kollus/stats/cells/video.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        # The per-video link keeps the report's period.
        context["range_query"] = getattr(parent_context["table"], "range_query", "")
        return context


class PagesColumn(Column):
    cell_template_name = "wagtail_kollus/stats/cells/pages.html"


class StatisticsReportView(StatisticsPermissionMixin, RangeMixin, ReportView):
    template_name = "wagtail_kollus/stats/report.html"
    results_template_name = "wagtail_kollus/stats/report_results.html"
    page_title = _("Kollus statistics")
    header_icon = "media"
    index_url_name = "wagtail_kollus_stats:report"
    index_results_url_name = "wagtail_kollus_stats:report_results"
    default_ordering = "-views"
    paginate_by = 50
    columns = [
        ViewsColumn("rank", label="#", width="4em"),
        VideoColumn("display_title", label=_("Video"), sort_key="title"),
        ViewsColumn("views", label=_("Views"), sort_key="views"),
        ViewsColumn("play_time_hours", label=_("Play time (hours)"), sort_key="play_time"),
        PagesColumn("pages", label=_("Used on pages")),
    ]
    list_export = [
        "rank",
        "upload_file_key",
        "display_title",
        "views",
        "play_time_seconds",
        "page_titles",
    ]
    export_headings = {
        "rank": _("Rank"),
        "upload_file_key": _("Upload file key"),
        "display_title": _("Title"),
        "views": _("Views"),
        "play_time_seconds": _("Play time (seconds)"),
        "page_titles": _("Used on pages"),
    }
    _sort_keys = {
        "views": lambda row: (row.views, row.play_time_seconds),
        "play_time": lambda row: (row.play_time_seconds, row.views),
        "title": lambda row: row.display_title.casefold(),
    }

    @cached_property
    def ranking(self) -> service.Ranking:
        return service.ranking(self.period)

    @cached_property
    def account(self) -> service.AccountSeries:
        return service.account_series(self.period)

    def get_filename(self) -> str:
        return f"kollus-statistics-{self.period.start}-{self.period.end}"

    def stream_csv(self, queryset):
        # Wagtail streams a CSV after the view has returned, outside the editor's language
        # (the admin activates it around the view only), so its headings would come out in
        # the site's LANGUAGE_CODE while the XLSX's, written at once, are in the editor's.
        # The ranking is in memory already: write it now, in the editor's language.
        return iter(list(super().stream_csv(queryset)))

    def get_queryset(self):
        rows = ranking_rows(self.ranking.rows)
        ordering = self.ordering or self.default_ordering
        name = ordering.lstrip("-")
        descending = ordering.startswith("-")
        self._joined = name == "title"
        if self._joined:
            # Titles come from the local mirror, so sorting by title needs the join first.
            join_local(rows)
        rows.sort(key=self._sort_keys[name], reverse=descending)
        return rows

    def get_table(self, object_list):
        table = super().get_table(object_list)
        table.range_query = self.range_query  # read by VideoColumn's links
        return table

    def decorate_paginated_queryset(self, object_list):
        rows = list(object_list)
        if not getattr(self, "_joined", False):
            join_local(rows)
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.is_export:  # a spreadsheet holds the ranking only: no charts to draw
            return context
        provenance = service.Provenance()
        provenance.merge(self.account.provenance)
        provenance.merge(self.ranking.provenance)
        visitors_chart, transfer_chart = account_charts(self.account, "kollus-report")
        context.update(
            {
                "range_form": self.range_form,
                "period": self.period,
                "range_query": self.range_query,
                "account": self.account,
                "provenance": provenance,
                "visitors_chart": visitors_chart,
                "transfer_chart": transfer_chart,
                "total_views": sum(row.views for row in self.ranking.rows),
                "total_transfer": format_bytes(self.account.total_transfer_bytes),
            }
        )
        return context


class StatisticsReportResultsView(StatisticsReportView):
    results_only = True


class VideoStatisticsView(
    StatisticsPermissionMixin, RangeMixin, WagtailAdminTemplateMixin, TemplateView
):
    """Daily views of one video (``wagtail_kollus_stats:video``, by upload file key)."""

    template_name = "wagtail_kollus/stats/video.html"
    header_icon = "media"

    @cached_property
    def media(self) -> KollusMedia | None:
        return KollusMedia.objects.filter(upload_file_key=self.kwargs["upload_file_key"]).first()

    @cached_property
    def daily(self) -> tuple[list[service.DailyPoint], service.Provenance]:
        return service.video_daily_views(self.kwargs["upload_file_key"], self.period)

    def get_page_title(self) -> str:
        return _("Kollus statistics")

    def get_page_subtitle(self) -> str:
        if self.media is not None:
            return self.media.title
        from ..models import DailyVideoViews

        known = (
            DailyVideoViews.objects.filter(upload_file_key=self.kwargs["upload_file_key"])
            .exclude(title="")
            .order_by("-date")
            .values_list("title", flat=True)
            .first()
        )
        return known or self.kwargs["upload_file_key"]

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtail_kollus_stats:report"), "label": _("Kollus statistics")},
            {"url": "", "label": self.get_page_subtitle()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        points, provenance = self.daily
        kind = "bars" if self.period.days <= BARS_UP_TO_DAYS else "line"
        context.update(
            {
                "range_form": self.range_form,
                "period": self.period,
                "range_query": self.range_query,
                "media": self.media,
                "upload_file_key": self.kwargs["upload_file_key"],
                "provenance": provenance,
                "total_views": sum(p.unique_visitors or 0 for p in points),
                "views_chart": render_chart(
                    [Point(p.date, p.unique_visitors) for p in points],
                    chart_id="kollus-video-views",
                    title=_("Views per day"),
                    value_name=_("Views"),
                    kind=kind,
                ),
                "report_url": reverse("wagtail_kollus_stats:report"),
            }
        )
        return context
