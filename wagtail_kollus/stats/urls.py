"""Admin URLs of the statistics screens (namespace ``wagtail_kollus_stats``)."""

from django.urls import path

from . import views

app_name = "wagtail_kollus_stats"

urlpatterns = [
    path("", views.StatisticsReportView.as_view(), name="report"),
    path("results/", views.StatisticsReportResultsView.as_view(), name="report_results"),
    path("video/<str:upload_file_key>/", views.VideoStatisticsView.as_view(), name="video"),
    path("record/", views.RecordDaysView.as_view(), name="record"),
]
