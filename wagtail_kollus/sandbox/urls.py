"""Mount the sandbox in a Django site: ``path("sandbox/", include("wagtail_kollus.sandbox.urls"))``.

Then ``CONTENTS_API_URL = "http://HOST/sandbox/api/public/v1"``, ``KOLLUS_API_URL =
"http://HOST/sandbox/kollus"``, ``PLAYER_URL = "http://HOST/sandbox/player"``.
"""

from django.urls import re_path

from .django_view import sandbox_view

app_name = "wagtail_kollus_sandbox"

urlpatterns = [re_path(r"^(?P<subpath>.*)$", sandbox_view, name="sandbox")]
