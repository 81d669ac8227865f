"""Admin registration of the video chooser (imported by ``wagtail_kollus.wagtail_hooks``)."""

from wagtail import hooks

from .viewsets import KollusVideoChooserViewSet, kollus_video_chooser_viewset


@hooks.register("register_admin_viewset")
def register_kollus_video_chooser() -> KollusVideoChooserViewSet:
    return kollus_video_chooser_viewset
