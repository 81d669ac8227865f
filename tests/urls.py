from django.apps import apps
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.documents import urls as wagtaildocs_urls

from tests.testapp.views import cached_player_page
from wagtail_kollus.headless.api import KollusPagesAPIViewSet

# Wagtail's API v2, as a headless site registers it (docs/headless.md).
api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("pages", KollusPagesAPIViewSet)

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("kollus/", include("wagtail_kollus.urls")),
    path("api/v2/", api_router.urls),
    path("_tests/cached-player/", cached_player_page, name="cached_player_page"),
]
if apps.is_installed("grapple"):  # the optional [graphql] extra: POST /graphql/
    urlpatterns.append(path("", include("grapple.urls")))
urlpatterns.append(path("", include(wagtail_urls)))
