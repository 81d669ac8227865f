"""Public URLs of the media feature: the Kollus callback endpoints.

Included by ``wagtail_kollus.urls`` under ``callbacks/``; names are
``wagtail_kollus:callback-<kind>`` (kinds: upload, transcoding, content-update, channel-add,
channel-delete). The token is a path segment because Kollus's console takes only a URL.
"""

from django.urls import path

from .callbacks import CALLBACK_VIEWS

urlpatterns = [
    path(f"{kind}/<str:token>/", view.as_view(), name=f"callback-{kind}")
    for kind, view in CALLBACK_VIEWS.items()
]
