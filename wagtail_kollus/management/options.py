"""Option types shared by the plugin's management commands."""

from __future__ import annotations

from argparse import ArgumentTypeError
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _


def moment(value: str) -> datetime:
    """``--resume WHEN``: an ISO date and time (UTC unless it says otherwise)."""
    parsed = parse_datetime(value)
    if parsed is None:
        raise ArgumentTypeError(_("%(value)s is not an ISO date and time.") % {"value": value})
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
