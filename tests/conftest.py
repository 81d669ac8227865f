"""Shared fixtures. The sandbox fixtures live in ``wagtail_kollus.sandbox.testing``."""
