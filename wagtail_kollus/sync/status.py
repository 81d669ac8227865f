"""A page's sync status as editors see it: one place for the panel, the JSON endpoint and the report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..models.sync import PageContentLink, SyncState
from .problems import explain_failure

LABELS = {
    "none": _("Not synced yet"),
    SyncState.PENDING: _("Pending"),
    SyncState.SYNCED: _("Synced"),
    SyncState.FAILED: _("Failed"),
    SyncState.UNLINKED: _("Unlinked"),
}


@dataclass
class SyncStatus:
    page_id: int
    state: str
    label: str
    message: str = ""
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    #: What editors read: a headline, and the field errors as sentences with the page's field
    #: labels, nothing said twice (``problems.explain_failure``).
    summary: str = ""
    problems: list[str] = field(default_factory=list)
    content_id: int | None = None
    last_synced_at: str = ""
    next_attempt_at: str = ""
    status_url: str = ""
    retry_url: str = ""
    can_retry: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def status_for_link(link: PageContentLink | None, page_id: int) -> SyncStatus:
    state = link.state if link else "none"
    summary, problems = (
        explain_failure(link.last_error_display, link.field_errors, link.page_type) if link else ("", [])
    )
    if link and link.state == SyncState.SYNCED and link.is_outstanding:
        state = SyncState.PENDING
    return SyncStatus(
        page_id=page_id,
        state=str(state),
        label=str(LABELS.get(state, state)),
        message=link.last_error_display if link else "",
        field_errors=link.field_errors if link else {},
        summary=summary,
        problems=problems,
        content_id=link.content_id if link else None,
        last_synced_at=link.last_synced_at.isoformat() if link and link.last_synced_at else "",
        next_attempt_at=link.next_attempt_at.isoformat() if link and link.next_attempt_at else "",
        status_url=reverse("wagtail_kollus_sync:status", args=[page_id]),
        retry_url=reverse("wagtail_kollus_sync:retry", args=[page_id]),
        can_retry=bool(link) and state in (SyncState.FAILED, SyncState.PENDING),
    )


def status_for_page(page: Any) -> SyncStatus:
    link = PageContentLink.objects.filter(page_key=page.pk).first()
    return status_for_link(link, page.pk)
