"""The upload progress line speaks the page's language: upload.js takes every unit and phrase it
shows (B/KB/MB/GB, "/s", "m:ss left") from the form's data-text-* attributes, which the server
renders translated, and has no English of its own on that path."""

from __future__ import annotations

import re

from django.urls import reverse

# Recognisable stand-ins for what a translation would put in the attributes.
FORMATS = {
    "bytes": "{size} U-B",
    "kilobytes": "{size} U-KB",
    "megabytes": "{size} U-MB",
    "gigabytes": "{size} U-GB",
    "speed": "{size} PER-SECOND",
    "time-left": "REMAINING {time}",
}


def test_the_progress_line_uses_the_templates_formats(admin_page, live_server, tmp_path):
    page = admin_page
    clip = tmp_path / "formats-clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * (3 * 4096))
    page.goto(live_server.url + reverse("kollus_media:add"))
    form = page.locator("form[data-kollus-upload]")
    for name in FORMATS:
        assert form.get_attribute(f"data-text-{name}"), f"the template lacks data-text-{name}"
    page.eval_on_selector(
        "form[data-kollus-upload]",
        "(form, formats) => { for (const [k, v] of Object.entries(formats))"
        " form.setAttribute('data-text-' + k, v); }",
        FORMATS,
    )
    page.set_input_files("[data-kollus-upload-file]", str(clip))
    page.fill("input[name=title]", "Formats clip")
    page.click("[data-kollus-upload-start]")
    page.wait_for_function(
        "document.querySelector('[data-kollus-upload-percent]').textContent.trim() === '100 %'"
    )
    speed = page.locator("[data-kollus-upload-speed]").inner_text()
    assert re.fullmatch(r"[\d.,]+ U-(B|KB|MB|GB) PER-SECOND", speed), speed
    assert page.console_errors == []
