"""The callback log (Reports → Kollus callbacks): every delivery, what became of it, and "Retry".

A delivery whose retries are used up is ``failed`` and stays so until someone looks; this is
where they look. Anyone who may see the video library may read the log; "Retry" re-reads a
media from Kollus, so it needs the same permission as the library's "Refresh from Kollus"
(``change`` on Kollus videos). Retry is a POST with Django's CSRF check, as every admin write.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.admin import messages
from wagtail.permission_policies import ModelPermissionPolicy

from ..models import CallbackDelivery, CallbackKind, DeliveryStatus, KollusMedia
from . import tasks

app_name = "wagtail_kollus_callbacks"
PER_PAGE = 50
_library_permissions = ModelPermissionPolicy(KollusMedia)


def user_can_read_log(user: Any) -> bool:
    return _library_permissions.user_has_any_permission(user, ["view", "add", "change", "delete"])


def user_can_retry(user: Any) -> bool:
    return _library_permissions.user_has_permission(user, "change")


def callback_log(request: HttpRequest) -> HttpResponse:
    if not user_can_read_log(request.user):
        raise PermissionDenied
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    deliveries = CallbackDelivery.objects.all()
    if status in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    if kind in CallbackKind.values:
        deliveries = deliveries.filter(kind=kind)
    page_obj = Paginator(deliveries.order_by("-received_at", "-pk"), PER_PAGE).get_page(
        request.GET.get("p")
    )
    counts = dict(
        CallbackDelivery.objects.values_list("status").annotate(n=Count("pk")).order_by()
    )
    context = {
        "page_obj": page_obj,
        "status": status,
        "kind": kind,
        "status_choices": [(s.value, s.label, counts.get(s.value, 0)) for s in DeliveryStatus],
        "kind_choices": CallbackKind.choices,
        "retryable_statuses": tasks.RETRYABLE_STATUSES,
        "can_retry": user_can_retry(request.user),
        "failed_count": counts.get(DeliveryStatus.FAILED, 0),
    }
    return TemplateResponse(request, "wagtail_kollus/media/callback_log.html", context)


@require_POST
def retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    if not user_can_retry(request.user):
        raise PermissionDenied
    delivery = get_object_or_404(CallbackDelivery, pk=delivery_id)
    if tasks.retry_delivery(delivery):
        messages.success(
            request,
            _("The %(kind)s callback for %(key)s was queued again.")
            % {"kind": delivery.get_kind_display(), "key": delivery.upload_file_key},
        )
    else:
        messages.warning(request, _("This callback is not failed or ignored (any more)."))
    back = reverse("wagtail_kollus_callbacks:index")
    query = request.GET.urlencode()
    return redirect(f"{back}?{query}" if query else back)


urlpatterns = [
    path("", callback_log, name="index"),
    path("<int:delivery_id>/retry/", retry, name="retry"),
]
