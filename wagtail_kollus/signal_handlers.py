"""Django/Wagtail signal receivers. Each feature connects its receivers here."""
from .chooser import receivers as chooser_receivers  # noqa: F401
from .media import receivers as media_receivers  # noqa: F401
from .sync import receivers as sync_receivers  # noqa: F401
