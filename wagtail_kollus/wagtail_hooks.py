"""Wagtail admin registrations. Each feature registers its hooks in its own module, imported here."""
