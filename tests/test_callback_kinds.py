"""Each Kollus callback kind's rules live on its view class (``media/callbacks.py``).

The behaviour of every kind is tested end to end in ``test_callbacks*.py``, ``test_leases.py``
and ``test_availability.py``; here: the documented table says what the classes say, and the
endpoint applies the rules of the class that answered, so a site's subclass is honoured.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.utils import timezone

from wagtail_kollus.accounts import KollusAccount
from wagtail_kollus.media.callbacks import (
    CALLBACK_VIEWS,
    REDELIVERY_WINDOW,
    KollusCallbackView,
    UploadCallbackView,
)
from wagtail_kollus.models import CallbackDelivery, CallbackKind, DeliveryStatus, MediaState

DOCS = Path(__file__).resolve().parent.parent / "docs" / "callbacks.md"
TOKEN = "kinds-test-token-0123456789"
ACCOUNT = KollusAccount(callback_token=TOKEN, kollus_service_account_key="kinds-account")


def test_every_kind_has_a_view_holding_its_rules():
    assert set(CALLBACK_VIEWS) == set(CallbackKind.values)
    for kind, view in CALLBACK_VIEWS.items():
        assert issubclass(view, KollusCallbackView) and view.kind == kind
    transcoding = CALLBACK_VIEWS[CallbackKind.TRANSCODING]
    assert transcoding.api_lags_behind(MediaState.TRANSCODING)
    assert not transcoding.api_lags_behind(MediaState.READY)
    assert not CALLBACK_VIEWS[CallbackKind.UPLOAD].api_lags_behind(MediaState.TRANSCODING)


def test_the_documented_table_is_what_the_classes_say():
    rows = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        row = re.match(r"^\s*\| `([\w-]+)` \| `(\w+)` \|([^|]*)\| (yes|no) \| (yes|no) \|([^|]*)\|", line)
        if row:
            rows[row[1]] = (row[2], row[4] == "yes", row[5] == "yes", row[6].strip(" `"))
    assert set(rows) == set(CALLBACK_VIEWS)
    for kind, (name, repeatable, attaches, action) in rows.items():
        view = CALLBACK_VIEWS[kind]
        assert (view.__name__, view.repeatable, view.attaches_channel, view.channel_action) == (
            name,
            repeatable,
            attaches,
            action,
        ), kind


class RepeatableUploadView(UploadCallbackView):
    """A site's subclass: its upload callbacks count as new events after the window."""

    repeatable = True


@pytest.mark.django_db
@pytest.mark.parametrize("view_class, processed_again", [
    (UploadCallbackView, False),
    (RepeatableUploadView, True),
])
def test_the_endpoint_applies_the_rules_of_the_class_that_answered(view_class, processed_again):
    view = view_class.as_view(account=ACCOUNT)
    data = {"upload_file_key": "ufk-kind", "content_provider_key": "kinds-account"}

    def deliver() -> int:
        request = RequestFactory().post(f"/kollus/callbacks/upload/{TOKEN}/", data)
        return view(request, token=TOKEN).status_code

    assert deliver() == 200
    CallbackDelivery.objects.update(
        status=DeliveryStatus.PROCESSED,
        last_received_at=timezone.now() - REDELIVERY_WINDOW - timedelta(minutes=1),
    )
    assert deliver() == 200
    delivery = CallbackDelivery.objects.get()
    assert delivery.times_received == 2
    expected = DeliveryStatus.QUEUED if processed_again else DeliveryStatus.PROCESSED
    assert delivery.status == expected
