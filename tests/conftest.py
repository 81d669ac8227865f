"""Shared fixtures. The sandbox fixtures live in ``wagtail_kollus.sandbox.testing``."""

from wagtail_kollus.sandbox.testing import sandbox, sandbox_server  # noqa: E402,F401
