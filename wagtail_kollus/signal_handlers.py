"""Django/Wagtail signal receivers. Each feature connects its receivers here."""
from .sync import receivers as sync_receivers  # noqa: F401
