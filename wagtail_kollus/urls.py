"""Public (non-admin) URLs of the plugin: include with ``path("kollus/", include("wagtail_kollus.urls"))``.

Admin URLs are registered through Wagtail hooks instead.
"""

from django.urls import include, path  # noqa: F401

app_name = "wagtail_kollus"

urlpatterns: list = []

# Kollus's play callback (who may play), before the platform callbacks' catch-all 404. Also
# without the trailing slash: Kollus posts to exactly what was pasted in its console.
from .playback.callback import play_callback  # noqa: E402

urlpatterns += [
    path("callbacks/play/<str:token>/", play_callback, name="callback-play"),
    path("callbacks/play/<str:token>", play_callback, name="callback-play-unslashed"),
]

# Kollus's LMS (progress) callback: one upsert of the learner's progress per report.
from .progress.callback import lms_callback  # noqa: E402

urlpatterns += [
    path("callbacks/progress/<str:token>/", lms_callback, name="callback-progress"),
    path("callbacks/progress/<str:token>", lms_callback, name="callback-progress-unslashed"),
]

# Kollus platform callbacks (media feature): callbacks/<kind>/<token>/
urlpatterns += [path("callbacks/", include("wagtail_kollus.media.urls"))]  # noqa: E305

# Cache-safe playback: a signed page reference → a fresh player URL.
from .playback.views import player_token  # noqa: E402

urlpatterns += [path("player/token/", player_token, name="player_token")]
