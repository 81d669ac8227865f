from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailKollusConfig(AppConfig):
    name = "wagtail_kollus"
    label = "wagtail_kollus"
    verbose_name = _("Kollus VOD")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported for their side effects: system checks and signal receivers register
        # themselves on import. Kept here (not at module level) so app loading stays lazy.
        from . import (
            checks,  # noqa: F401
            signal_handlers,  # noqa: F401
        )
        from .api.redaction import install_log_redaction
        from .media.callback_logging import install_callback_url_masking
        from .sync import checks as sync_checks  # noqa: F401

        install_log_redaction()
        install_callback_url_masking()
