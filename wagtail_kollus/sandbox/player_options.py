"""What the sandbox's player shows of a token's options, as Kollus's player would apply them.

It draws the watermark text it was asked for (``video_watermarking_code_policy``) over the
video, showing it ``show_time`` seconds and hiding it ``hide_time`` seconds in turn, and it
prints the DRM policy, subtitle policy, seeking limit, N-screen flag and intro it received, each
also as a ``data-*`` attribute so that tests can read them. A watermark Kollus would not accept
(a blank code, integers that are not JSON integers, a colour that is not six hex digits) is
refused with ``data-reason='bad-watermark'``, as the plugin's assumption about its types is
(``wagtail_kollus.playback.options``).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

WATERMARK_CLAIM = "video_watermarking_code_policy"
_WATERMARK_INTEGERS = ("font_size", "alpha", "show_time", "hide_time")
_HEX_COLOUR = re.compile(r"^[0-9A-Fa-f]{6}$")


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def watermark_problem(payload: dict[str, Any]) -> str | None:
    """Why the token's watermark would not be drawn, or None (also when there is none)."""
    policy = payload.get(WATERMARK_CLAIM)
    if policy is None:
        return None
    if not isinstance(policy, dict) or not isinstance(policy.get("code_kind"), str):
        return "bad-watermark"
    if not policy["code_kind"].strip():
        return "bad-watermark"
    if any(name in policy and not _is_integer(policy[name]) for name in _WATERMARK_INTEGERS):
        return "bad-watermark"
    colour = policy.get("font_color", "FFFFFF")
    if not isinstance(colour, str) or not _HEX_COLOUR.match(colour):
        return "bad-watermark"
    return None


def _attribute(name: str, value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return f" {name}='{html.escape(text)}'"


def _line(css_class: str, label: str, value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return f"<p class='{css_class}'>{html.escape(label)}: {html.escape(text)}</p>"


def options_markup(payload: dict[str, Any], item: dict[str, Any]) -> tuple[str, str]:
    """(attributes for the player element, the lines and overlay inside it)."""
    attrs, lines = [], []
    if "seek" in item:
        attrs.append(_attribute("data-seek", "true" if item["seek"] else "false"))
    if "seekable_end" in item:
        attrs.append(_attribute("data-seekable-end", str(item["seekable_end"])))
        lines.append(_line("seekable-end", "Seekable up to (s)", str(item["seekable_end"])))
    if item.get("disable_nscreen"):
        attrs.append(_attribute("data-disable-nscreen", "true"))
        lines.append(_line("nscreen", "N-screen", "disabled"))
    for name, label in (("drm_policy", "DRM policy"), ("subtitle_policy", "Subtitle policy")):
        if name in item:
            attrs.append(_attribute("data-" + name.replace("_", "-"), item[name]))
            lines.append(_line(name.replace("_", "-"), label, item[name]))
    intros = [i["mckey"] for i in payload.get("mc", []) if isinstance(i, dict) and i.get("intr")]
    if intros:
        attrs.append(_attribute("data-intro", intros[0]))
        lines.append(_line("intro", "Intro first", intros[0]))
    policy = payload.get(WATERMARK_CLAIM)
    if isinstance(policy, dict):
        lines.append(_watermark_overlay(policy))
    return "".join(attrs), "".join(lines)


def _watermark_overlay(policy: dict[str, Any]) -> str:
    colour = policy.get("font_color", "FFFFFF")
    opacity = round(policy.get("alpha", 255) / 255, 3)
    size = policy.get("font_size", 7)
    show, hide = policy.get("show_time", 10), policy.get("hide_time", 0)
    text = html.escape(policy["code_kind"])
    # Shown first, then hidden and shown again in turn, as Kollus's timing describes.
    return (
        f"<div class='watermark' data-watermark='{text}' data-font-size='{size}'"
        f" data-font-color='{html.escape(colour)}' data-alpha='{policy.get('alpha', 255)}'"
        f" data-show-time='{show}' data-hide-time='{hide}'"
        f" style='position:absolute;top:12%;left:8%;color:#{html.escape(colour)};"
        f"font-size:{int(size) * 2}px;opacity:{opacity};pointer-events:none'>{text}</div>"
        "<script>(function(){var w=document.currentScript.previousElementSibling;"
        "var show=+w.dataset.showTime*1000,hide=+w.dataset.hideTime*1000;if(!hide)return;"
        "(function cycle(){setTimeout(function(){w.hidden=true;setTimeout(function(){"
        "w.hidden=false;cycle();},hide);},show);})();})();</script>"
    )
