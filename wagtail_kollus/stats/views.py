"""The statistics report and the per-video statistics view.

Both are gated by ``wagtail_kollus.view_kollus_statistics`` and answer 403 without it (not
Wagtail's usual redirect to the dashboard: a bookmarked report should say why it is closed).
Neither ever shows an error page for a Kollus failure: the service falls back to the last good
figures and the template says since when they are stale, and why Kollus failed
(``stats.failures``); a figure no day of the period gives is shown as unknown, not as 0.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import date_format, time_format
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.admin.views.reports import ReportView

from ..models import DailyVideoViews, KollusMedia
from ..spreadsheets import CSVInRequestLanguageMixin
from . import recording, rollups, service
from .charts import Point, format_bytes, format_known_bytes, render_chart
from .forms import StatisticsRangeForm
from .periods import DateRange, utc_today
from .rows import join_local, joined_chunks, ranking_rows

STATS_PERMISSION = "wagtail_kollus.view_kollus_statistics"
# Over about three months one bar per day gets too thin to read; a line is clearer.
BARS_UP_TO_DAYS = 92


def user_can_view_statistics(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return bool(user and user.is_active and user.has_perm(STATS_PERMISSION))


class StatisticsPermissionMixin:
    def dispatch(self, request, *args, **kwargs):
        if not user_can_view_statistics(request.user):
            return TemplateResponse(request, "wagtail_kollus/stats/forbidden.html", {}, status=403)
        return super().dispatch(request, *args, **kwargs)


class RangeMixin:
    """Reads the date range from the query string (presets or custom)."""

    @cached_property
    def today(self) -> date:
        """The UTC day of this request, read once: the period and every figure of the screen
        are computed for it, even when the request runs across midnight UTC."""
        return utc_today()

    @cached_property
    def range_form(self) -> StatisticsRangeForm:
        return StatisticsRangeForm(self.request.GET or None, today=self.today)

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

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        # The number itself, for intcomma: Column gives it unlocalized as "value", and only
        # Wagtail 7.1+ adds "raw_value" (on 7.0 the cells were blank).
        context["number"] = self.get_value(instance)
        return context


class VideoColumn(Column):
    cell_template_name = "wagtail_kollus/stats/cells/video.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        # The per-video link keeps the report's period.
        context["range_query"] = getattr(parent_context["table"], "range_query", "")
        return context


class PagesColumn(Column):
    cell_template_name = "wagtail_kollus/stats/cells/pages.html"


class StatisticsReportView(
    StatisticsPermissionMixin, RangeMixin, CSVInRequestLanguageMixin, ReportView
):
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
    @cached_property
    def ranking(self) -> service.Ranking:
        return service.ranking(self.period, today=self.today)

    @cached_property
    def account(self) -> service.AccountSeries:
        return service.account_series(self.period, today=self.today)

    def get_filename(self) -> str:
        return f"kollus-statistics-{self.period.start}-{self.period.end}"

    def get_queryset(self):
        # The ranking is a stored rollup: a page of any sort is a range of one of its indexes,
        # and its length is known (no COUNT over every video).
        ordering = self.ordering if self.ordering in rollups.ORDERINGS else self.default_ordering
        return self.ranking.ordered(ordering)

    def get_table(self, object_list):
        table = super().get_table(object_list)
        table.range_query = self.range_query  # read by VideoColumn's links
        return table

    def paginate_queryset(self, queryset, page_size):
        # The page's rollup rows become joined rows before the table is built from them.
        paginator, page, object_list, is_paginated = super().paginate_queryset(
            queryset, page_size
        )
        rows = ranking_rows(object_list)
        join_local(rows)
        page.object_list = rows
        return paginator, page, rows, is_paginated

    def get(self, request, *args, **kwargs):
        if not self.is_export:
            return super().get(request, *args, **kwargs)
        # Every row, a range of positions at a time, joined with the library a chunk at a
        # time: memory stays flat whatever the number of videos.
        rows = joined_chunks(self.get_queryset().iterator())
        return self.as_spreadsheet(rows, request.GET.get("export"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.is_export:  # a spreadsheet holds the ranking only: no charts to draw
            return context
        context["ranking_measured"] = self.ranking.measured
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
                "total_views": self.ranking.total_views,
                "total_transfer": format_known_bytes(self.account.total_transfer_bytes),
            }
        )
        return context


class StatisticsReportResultsView(StatisticsReportView):
    results_only = True


class VideoStatisticsView(
    StatisticsPermissionMixin, RangeMixin, WagtailAdminTemplateMixin, TemplateView
):
    """One video over a period (``wagtail_kollus_stats:video``, by upload file key): its total
    as the report counts it, and its views per day."""

    template_name = "wagtail_kollus/stats/video.html"
    header_icon = "media"

    @cached_property
    def media(self) -> KollusMedia | None:
        return KollusMedia.objects.filter(upload_file_key=self.kwargs["upload_file_key"]).first()

    @cached_property
    def series(self) -> service.VideoSeries:
        return service.video_series(self.kwargs["upload_file_key"], self.period, today=self.today)

    @cached_property
    def title(self) -> str:
        """The library's title; else the one Kollus's ranking gives (the video may have been
        deleted here, or never imported); else the last one recorded."""
        if self.media is not None and self.media.title:
            return self.media.title
        if self.series.kollus_title:
            return self.series.kollus_title
        recorded = (
            DailyVideoViews.objects.filter(upload_file_key=self.kwargs["upload_file_key"])
            .exclude(title="")
            .order_by("-date")
            .values_list("title", flat=True)
            .first()
        )
        return recorded or gettext("Untitled video")

    def get_page_title(self) -> str:
        return _("Kollus statistics")

    def get_page_subtitle(self) -> str:
        return self.title

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtail_kollus_stats:report"), "label": _("Kollus statistics")},
            {"url": "", "label": self.title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        series = self.series
        kind = "bars" if self.period.days <= BARS_UP_TO_DAYS else "line"
        unrecorded = len(series.provenance.unrecorded_days)
        running = recording.current() if unrecorded else None
        context.update(
            {
                "range_form": self.range_form,
                "period": self.period,
                "range_query": self.range_query,
                "media": self.media,
                "title": self.title,
                "upload_file_key": self.kwargs["upload_file_key"],
                "provenance": series.provenance,
                "total_views": series.views,
                "play_time_hours": (
                    None
                    if series.play_time_seconds is None
                    else round(series.play_time_seconds / 3600, 2)
                ),
                "unrecorded_count": unrecorded,
                "recording_message": _recording_message(running) if running else "",
                "record_url": reverse("wagtail_kollus_stats:record"),
                "views_chart": render_chart(
                    [Point(p.date, p.views) for p in series.points],
                    chart_id="kollus-video-views",
                    title=_("Views per day"),
                    value_name=_("Views"),
                    kind=kind,
                ),
                "report_url": reverse("wagtail_kollus_stats:report"),
            }
        )
        return context


class RecordDaysView(StatisticsPermissionMixin, RangeMixin, View):
    """POST: queue the recording of the period's unrecorded days, then go back."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        running = recording.current()
        if running is None:
            queued = recording.request_recording(self.period, today=self.today)
            if queued is None:
                messages.info(request, gettext("Every day of this period is recorded already."))
            else:
                messages.success(
                    request,
                    ngettext(
                        "Recording %(count)s day in the background (about %(seconds)s "
                        "seconds). Its figures appear here once it is recorded.",
                        "Recording %(count)s days in the background (about %(seconds)s "
                        "seconds). Their figures appear here as they are recorded.",
                        queued.days,
                    )
                    % {"count": queued.days, "seconds": queued.expected_seconds},
                )
        else:
            messages.info(request, _recording_message(running))
        return redirect(self._next_url())

    def _next_url(self) -> str:
        target = self.request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return target
        return reverse("wagtail_kollus_stats:report")


def _recording_message(running: recording.RecordingRequest) -> str:
    return gettext(
        "Days %(start)s – %(end)s are being recorded (requested at %(time)s UTC); "
        "another recording can start once it has finished."
    ) % {
        "start": date_format(running.start, "SHORT_DATE_FORMAT"),
        "end": date_format(running.end, "SHORT_DATE_FORMAT"),
        "time": time_format(running.requested_at, "TIME_FORMAT"),
    }
