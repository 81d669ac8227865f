"""An operator finds a callback that could not be processed and retries it from the admin.

Real parts: headless Chromium on the Wagtail admin (live server), a django-q2 cluster in other
processes that processes the delivery, the sandbox's Kollus API over HTTP (down, then back).
"""

from __future__ import annotations

import pytest

from wagtail_kollus.media.callbacks import record_delivery
from wagtail_kollus.models import CallbackDelivery, DeliveryStatus, KollusMedia, MediaState
from wagtail_kollus.testing import running_cluster, wait_for

pytestmark = pytest.mark.cluster


def ready_media_key(sandbox) -> str:
    with sandbox.state.lock:
        for ufk, row in sandbox.state.media.items():
            if row["stage"] == "completed" and row["channels"]:
                return ufk
    raise AssertionError("the sandbox seed has no ready media")


def test_a_failed_callback_is_listed_and_retry_processes_it(
    admin_page, live_server, sandbox_live, settings
):
    page = admin_page
    settings.WAGTAIL_KOLLUS = sandbox_live.kollus_settings(
        KOLLUS_RATE_LIMIT_PER_SECOND=1000,
        KOLLUS_RATE_LIMIT_PER_MINUTE=60000,
        MAX_RETRIES=0,
        CALLBACK_RETRY_DELAYS=[],  # the first failure is final: no waiting for the sweep
    )
    ufk = ready_media_key(sandbox_live)
    sandbox_live.faults.set("kollus.media_detail", status=503)
    with running_cluster():
        record_delivery("upload", {"upload_file_key": ufk, "filename": "From the console"})
        delivery = wait_for(
            lambda: CallbackDelivery.objects.filter(status=DeliveryStatus.FAILED).first(),
            message="the delivery did not fail",
        )

        # Reports → Kollus callbacks, from the admin menu.
        page.goto(f"{live_server.url}/admin/")
        page.get_by_role("button", name="Reports").click()
        page.get_by_role("link", name="Kollus callbacks").click()
        row = page.locator(f"[data-kollus-callback='{delivery.pk}']")
        assert row.get_attribute("data-status") == "failed"
        assert "Gave up after 1 attempt: " in row.inner_text()
        assert "1 callback could not be processed" in page.locator(
            "[data-kollus-callbacks-failed]"
        ).inner_text()

        # Kollus is back: Retry queues it, the cluster processes it.
        sandbox_live.faults.clear()
        row.get_by_role("button", name="Retry").click()
        page.get_by_text(f"callback for {ufk} was queued again").wait_for()
        wait_for(
            lambda: CallbackDelivery.objects.filter(
                pk=delivery.pk, status=DeliveryStatus.PROCESSED
            ).exists(),
            message="the retried delivery was not processed",
        )
        page.reload()
        assert row.get_attribute("data-status") == "processed"
        assert row.get_by_role("button", name="Retry").count() == 0
    assert KollusMedia.objects.get(upload_file_key=ufk).state == MediaState.READY
    assert page.console_errors == []
