"""Admin URLs of playback: the refused plays report (``admin/kollus/refused-plays/``)."""

from django.urls import path

from .report import RefusedPlaysResultsView, RefusedPlaysView

app_name = "wagtail_kollus_refused_plays"
urlpatterns = [
    path("", RefusedPlaysView.as_view(), name="index"),
    path("results/", RefusedPlaysResultsView.as_view(), name="index_results"),
]
