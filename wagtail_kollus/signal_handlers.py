"""Django/Wagtail signal receivers. Each feature connects its receivers here."""
