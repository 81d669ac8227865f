"""Admin URLs of the learner progress reports (namespace ``wagtail_kollus_progress``)."""

from django.urls import path

from . import views

app_name = "wagtail_kollus_progress"

urlpatterns = [
    path("", views.ProgressPagesView.as_view(), name="pages"),
    path("results/", views.ProgressPagesResultsView.as_view(), name="pages_results"),
    path("page/<int:page_id>/", views.PageProgressView.as_view(), name="page"),
    path(
        "page/<int:page_id>/results/", views.PageProgressResultsView.as_view(), name="page_results"
    ),
    path("learner/<int:user_id>/", views.LearnerProgressView.as_view(), name="learner"),
    path(
        "learner/<int:user_id>/results/",
        views.LearnerProgressResultsView.as_view(),
        name="learner_results",
    ),
    path("learner/<int:user_id>/data/", views.LearnerDataView.as_view(), name="learner_data"),
]
