"""The exact callback URLs to paste into the Kollus console, built for a given request's host.

Shown only to superusers (the URL contains the secret token). Without a token, the URLs show
a placeholder so the page never suggests a URL that would be refused.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from ..accounts import KollusAccount, default_account
from ..models import CallbackKind

TOKEN_PLACEHOLDER = "<CALLBACK_TOKEN>"  # noqa: S105 (a placeholder, not a secret)


def callback_urls(
    request: HttpRequest | None = None,
    *,
    base_url: str = "",
    account: KollusAccount | None = None,
) -> list[dict]:
    """``[{"kind", "label", "url"}]``, absolute when a request or base URL is given, with the
    callback token of ``account`` (by default the settings' account)."""
    token = str((account or default_account()).callback_token or "") or TOKEN_PLACEHOLDER
    rows = []
    for kind, label in CallbackKind.choices:
        path = reverse(f"wagtail_kollus:callback-{kind}", kwargs={"token": "__token__"})
        path = path.replace("__token__", token)
        if request is not None:
            url = request.build_absolute_uri(path)
        else:
            url = base_url.rstrip("/") + path
        rows.append({"kind": kind, "label": str(label), "url": url})
    if token == TOKEN_PLACEHOLDER:
        for row in rows:
            row["warning"] = _("Set CALLBACK_TOKEN first: callbacks are refused without it.")
    return rows
