"""The chooser's registration with Wagtail: one ``ChooserViewSet`` over the real ``KollusVideo``.

The viewset's model is the local ``KollusVideo`` (never ``None``: that crashes on Wagtail 8.0),
so the widget, ``ChooserBlock``, foreign-key form fields and the reference index all work over
a real table. Only the listing steps read the contents API.
"""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.chooser import ChooserViewSet

from . import views
from .widgets import KollusVideoChooserAdapter, KollusVideoChooserWidget


class KollusVideoChooserViewSet(ChooserViewSet):
    model = "wagtail_kollus.KollusVideo"
    icon = "media"
    # The chosen video shows its poster, details and a preview link (widgets.py).
    base_widget_class = KollusVideoChooserWidget
    widget_telepath_adapter_class = KollusVideoChooserAdapter
    choose_one_text = _("Choose a video")
    choose_another_text = _("Choose another video")
    edit_item_text = _("Edit video")
    page_title = _("Choose a video")
    # Lazy here: Wagtail's ChooserViewSet translates its own default at import time, so the tab
    # kept the language active then (Korean on a Korean-default site) in every admin language.
    search_tab_label = _("Search")
    # Wagtail's creation tab, used for uploading (views.UploadTabMixin).
    creation_tab_label = _("Upload")
    per_page = 20
    # Filters travel in the querystring of the search form and of every pagination link;
    # nothing needs preserving beyond what Wagtail preserves itself.
    preserve_url_parameters = ["multiple"]

    choose_view_class = views.KollusContentChooseView
    choose_results_view_class = views.KollusContentChooseResultsView
    chosen_view_class = views.KollusVideoChosenView
    choose_item_view_class = views.ChooseItemView
    chosen_library_view_class = views.LibraryVideoChosenView
    preview_view_class = views.ChosenVideoPreviewView

    @property
    def choose_view(self):
        return self.construct_view(
            self.choose_view_class,
            icon=self.icon,
            page_title=self.page_title,
            search_tab_label=self.search_tab_label,
            creation_tab_label=self.creation_tab_label,
            choose_item_url_name=self.get_url_name("choose_item"),
            chosen_library_url_name=self.get_url_name("chosen_library"),
        )

    @property
    def choose_results_view(self):
        return self.construct_view(
            self.choose_results_view_class,
            choose_item_url_name=self.get_url_name("choose_item"),
            choose_url_name=self.get_url_name("choose"),
        )

    @property
    def choose_item_view(self):
        return self.choose_item_view_class.as_view(
            choose_url_name=self.get_url_name("choose"),
            chosen_url_name=self.get_url_name("chosen"),
        )

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("content/<int:content_id>/", self.choose_item_view, name="choose_item"),
            path(
                "library/",
                self.chosen_library_view_class.as_view(),
                name="chosen_library",
            ),
            path("preview/<int:video_id>/", self.preview_view_class.as_view(), name="preview"),
        ]


kollus_video_chooser_viewset = KollusVideoChooserViewSet(
    "kollus_video_chooser", url_prefix="kollus/video-chooser"
)
