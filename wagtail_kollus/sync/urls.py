"""Admin URLs of the sync feature, mounted under /admin/kollus/sync/ by ``sync.hooks``."""

from django.urls import path

from . import report, views

app_name = "wagtail_kollus_sync"

urlpatterns = [
    path("", report.SyncReportView.as_view(), name="report"),
    path("results/", report.SyncReportResultsView.as_view(), name="report_results"),
    path("pages/<int:page_id>/status/", views.page_status, name="status"),
    path("pages/<int:page_id>/retry/", views.retry_page, name="retry"),
]
