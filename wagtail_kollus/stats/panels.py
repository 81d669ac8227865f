"""The dashboard panel: top videos of the last 7 and 30 days and the account's 30-day trend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.forms import Media
from django.templatetags.static import static
from django.urls import reverse
from wagtail.admin.ui.components import Component

from . import service
from .charts import format_known_bytes
from .periods import DateRange, utc_today
from .rows import join_local, ranking_rows
from .views import account_charts

TOP_VIDEOS = 5


class StatisticsPanel(Component):
    name = "kollus_statistics"
    template_name = "wagtail_kollus/stats/panel.html"
    order = 150  # after "awaiting your review", before "your most recent edits"

    @property
    def media(self) -> Media:
        return Media(css={"all": [static("wagtail_kollus/css/stats.css")]})

    def get_context_data(self, parent_context: Mapping[str, Any] | None = None) -> dict:
        # One reading of the clock for the whole panel: read again per period, a load at
        # midnight UTC could show a week and a month that end on different days.
        today = utc_today()
        month = DateRange.last_days(30, today)
        week = DateRange.last_days(7, today)
        account = service.account_series(month, today=today)
        rankings = []
        provenance = service.Provenance()
        provenance.merge(account.provenance)
        for period, query in ((week, "range=7"), (month, "range=30")):
            ranking = service.ranking(period, today=today)
            provenance.merge(ranking.provenance)
            rows = ranking_rows(ranking.top(TOP_VIDEOS))  # five rows read, not the ranking
            rankings.append(
                {"period": period, "rows": rows, "query": query, "measured": ranking.measured}
            )
        join_local([row for ranking in rankings for row in ranking["rows"]])  # one join
        visitors_chart, transfer_chart = account_charts(account, "kollus-panel", compact=True)
        return {
            "rankings": rankings,
            "account": account,
            "total_transfer": format_known_bytes(account.total_transfer_bytes),
            "visitors_chart": visitors_chart,
            "transfer_chart": transfer_chart,
            "provenance": provenance,
            "report_url": reverse("wagtail_kollus_stats:report"),
        }
