"""Admin registration of the video library (imported by ``wagtail_kollus/wagtail_hooks.py``)."""

from wagtail import hooks

from .library import kollus_media_viewset


@hooks.register("register_admin_viewset")
def register_kollus_media_viewset():
    return kollus_media_viewset
