from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from tests.testapp.views import cached_player_page

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("kollus/", include("wagtail_kollus.urls")),
    path("_tests/cached-player/", cached_player_page, name="cached_player_page"),
    path("", include(wagtail_urls)),
]
