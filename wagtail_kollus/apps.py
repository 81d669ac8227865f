from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _

from .api.redaction import install_log_redaction
from .cluster_repair import install as install_cluster_repair
from .conf import kollus_settings
from .media.callback_logging import install_callback_url_masking


class WagtailKollusConfig(AppConfig):
    name = "wagtail_kollus"
    label = "wagtail_kollus"
    verbose_name = _("Kollus VOD")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, once the app registry is ready: these modules import models. Checks
        # and signal receivers register themselves on import (their side effect).
        from . import (
            checks,  # noqa: F401
            signal_handlers,  # noqa: F401
        )
        from .playback import checks as playback_checks  # noqa: F401

        # The "Who can play" panel on page types with Kollus video blocks; once every
        # page model is loaded, before any edit handler is built.
        from .playback.panels import add_access_panels
        from .sync import checks as sync_checks  # noqa: F401

        add_access_panels()
        install_log_redaction()
        install_callback_url_masking()
        if kollus_settings.CLUSTER_QUEUE_REPAIR:
            install_cluster_repair()
        if apps.is_installed("grapple"):
            # The optional GraphQL type (pip install wagtail-kollus[graphql]).
            from .headless import graphql

            graphql.register()
