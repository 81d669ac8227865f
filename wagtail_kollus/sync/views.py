"""Admin views: a page's status (JSON for the panel), "retry now", and the sync report's bulk
retry (the report itself is ``sync.report``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods
from wagtail.admin import messages
from wagtail.models import Page

from ..models.sync import PageContentLink
from .engine import retry_now
from .status import status_for_link, status_for_page


def _editable_page(request: HttpRequest, page_id: int) -> Page:
    page = get_object_or_404(Page, pk=page_id)
    if not page.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    return page


def _status_json(request: HttpRequest, page: Page) -> JsonResponse:
    status = status_for_page(page)
    html = render_to_string(
        "wagtail_kollus/sync/status_body.html", {"status": status}, request=request
    )
    return JsonResponse({**status.as_dict(), "html": html})


def page_status(request: HttpRequest, page_id: int) -> JsonResponse:
    return _status_json(request, _editable_page(request, page_id))


@require_http_methods(["GET", "POST"])
def retry_page(request: HttpRequest, page_id: int) -> HttpResponse:
    page = _editable_page(request, page_id)
    link = get_object_or_404(PageContentLink, page_key=page.pk)
    if request.method == "POST":
        retry_now(link)
        if "application/json" in request.headers.get("Accept", ""):
            return _status_json(request, page)
        messages.success(request, _("The sync of '%(title)s' was queued.") % {"title": page.title})
        return redirect("wagtailadmin_pages:edit", page.pk)
    return TemplateResponse(
        request,
        "wagtail_kollus/sync/confirm_retry.html",
        {"page": page, "status": status_for_link(link, page.pk)},
    )


def _bulk_retry(request: HttpRequest) -> HttpResponse:
    keys = [int(k) for k in request.POST.getlist("page_key") if k.isdigit()]
    allowed = 0
    pages = {p.pk: p for p in Page.objects.filter(pk__in=keys)}
    for link in PageContentLink.objects.filter(page_key__in=keys):
        page = pages.get(link.page_key)
        # Deleted pages (no page row) can be retried by anyone who sees the report; live
        # pages need edit permission, as in the editor.
        if page is not None and not page.permissions_for_user(request.user).can_edit():
            continue
        retry_now(link)
        allowed += 1
    if allowed:
        messages.success(
            request,
            ngettext("%(count)d sync queued.", "%(count)d syncs queued.", allowed)
            % {"count": allowed},
        )
    if allowed < len(keys):
        messages.warning(request, _("Some pages were skipped: you may not edit them."))
    return redirect(reverse("wagtail_kollus_sync:report") + "?" + request.GET.urlencode())
