"""An editor drags three video files onto the library's "Upload several videos" page: each
gets its own copy of the upload form, titled after its file name, with its own progress bar;
all three go to the sandbox's upload host, and each turns "ready" once the sandbox's callbacks
have been processed by a real django-q2 cluster."""

from __future__ import annotations

from django.urls import reverse

from wagtail_kollus.models import KollusMedia, MediaState

DROP_THREE_FILES = """
(names) => {
  const transfer = new DataTransfer();
  for (const name of names) {
    const bytes = new Uint8Array(2 * 1024 * 1024);
    bytes.set([0, 0, 0, 24, 102, 116, 121, 112]);  // an ftyp box: enough for the sandbox
    transfer.items.add(new File([bytes], name, { type: "video/mp4" }));
  }
  const zone = document.querySelector("[data-kollus-upload-drop]");
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }
}
"""


def test_three_dropped_files_upload_side_by_side_and_reach_ready(lifecycle, live_server):
    page = lifecycle
    page.goto(live_server.url + reverse("kollus_media:index"))
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Upload several videos").click()
    page.wait_for_url(live_server.url + reverse("kollus_media:upload_multiple"))

    names = ["lesson_one.mp4", "lesson_two.mp4", "lesson_three.mov"]
    page.evaluate(DROP_THREE_FILES, names)

    items = page.locator("[data-kollus-upload-item]")
    assert items.count() == 3
    titles = [items.nth(i).locator("input[name=title]").input_value() for i in range(3)]
    assert titles == ["lesson one", "lesson two", "lesson three"]
    assert page.locator("[data-kollus-upload-bar]").count() == 3  # one progress bar each
    page.wait_for_function(
        "[...document.querySelectorAll('[data-kollus-upload-percent]')]"
        ".every(el => el.textContent.trim() === '100 %')",
        timeout=40_000,
    )
    page.wait_for_function(
        "document.querySelectorAll('[data-kollus-upload-state-label][data-state=ready]').length === 3",
        timeout=60_000,
    )
    rows = KollusMedia.objects.filter(title__in=titles)
    assert sorted(rows.values_list("original_file_name", flat=True)) == sorted(names)
    assert set(rows.values_list("state", flat=True)) == {MediaState.READY}
    assert page.locator("[data-kollus-upload-error]:visible").count() == 0

    # A card whose file reached Kollus cannot send it again (it used to: a second row).
    assert page.locator("[data-kollus-upload-start]:visible").count() == 0
    page.locator("[data-kollus-upload-item] input[name=title]").first.press("Enter")
    page.evaluate("document.querySelector('form[data-kollus-upload]').requestSubmit()")
    page.wait_for_timeout(1500)  # the ticket request would have created the row by now
    assert KollusMedia.objects.count() == 3
    assert page.console_errors == []
