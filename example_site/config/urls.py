from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.documents import urls as wagtaildocs_urls

from wagtail_kollus.headless.api import KollusPagesAPIViewSet

# Wagtail's API v2 for a headless front end: each video's player minted for the viewer asking.
api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("pages", KollusPagesAPIViewSet)

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    # Public endpoints of the plugin: player tokens (cache-safe playback) and Kollus callbacks.
    path("kollus/", include("wagtail_kollus.urls")),
    path("api/v2/", api_router.urls),
    path("", include(wagtail_urls)),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
