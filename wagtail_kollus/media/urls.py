"""Public URLs of the media feature: the Kollus callback endpoints.

Included by ``wagtail_kollus.urls`` under ``callbacks/``; names are
``wagtail_kollus:callback-<kind>`` (kinds: upload, transcoding, content-update, channel-add,
channel-delete). The token is a path segment because Kollus's console takes only a URL.

Each URL is also served without its trailing slash (``callback-<kind>-unslashed``): Kollus posts
to exactly what was pasted, and Django's ``APPEND_SLASH`` would answer that POST with a 301
that loses the body (or a 500 with ``DEBUG``), logging the URL. Everything else under
``callbacks/`` gets a 404 of the plugin's (``callback-unknown``), never the site's.
"""

from django.urls import path, re_path

from .callbacks import CALLBACK_VIEWS, unknown_callback_url

urlpatterns = []
for kind, view_class in CALLBACK_VIEWS.items():
    view = view_class.as_view()
    urlpatterns += [
        path(f"{kind}/<str:token>/", view, name=f"callback-{kind}"),
        path(f"{kind}/<str:token>", view, name=f"callback-{kind}-unslashed"),
    ]
urlpatterns.append(re_path(r"^", unknown_callback_url, name="callback-unknown"))
