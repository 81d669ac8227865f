"""The Kollus player, as far as the plugin can see it: JWT checks and a page to embed.

``/player/s?jwt=…&custom_key=…`` verifies exactly what Kollus documents: HS256 only, signed
with the security key; the custom key must match; no registered claims (``exp``, ``iat``,
``nbf``); ``expt`` an integer in the future; a ``cuid``; ``mc`` a non-empty list whose
non-intro items name known media content keys. Failures answer 403 with a page that says which
rule failed in ``data-reason`` (tests and the demo read it).

With a ``play`` callback configured, the signed player then asks the site as Kollus does
(``play_callback``): it plays (``data-play='full'``), plays only the preview window the answer
or the token names (``data-play='preview'``), or shows the site's refusal message
(``data-sandbox-player='refused'``); an answer Kollus would not accept is a 502 page naming
the broken rule (``data-reason='play-callback-…'``).

A playing page draws the token's watermark and shows its other options (``player_options``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import html
import json
import secrets
import time
from http.cookies import CookieError, SimpleCookie
from typing import Any

from .http import HttpError, Request, Response, html_response
from .misrouted import describe
from .player_options import options_markup, watermark_problem
from .posters import poster_jpeg
from .routing import Route

REGISTERED_CLAIMS = ("exp", "iat", "nbf")
# One per browser: the play callback's hardware_id (what the site counts streams by).
DEVICE_COOKIE = "kollus_sandbox_device"
# The same device id without ``Secure``, set only over plain http: scripted clients (curl,
# requests) never send a ``Secure`` cookie back over http, so without it each load was a new
# device (and the third hit PLAYBACK_MAX_STREAMS: 2).
PLAIN_HTTP_DEVICE_COOKIE = "kollus_sandbox_device_http"

_MESSAGES = {
    "missing-jwt": "The jwt parameter is missing.",
    "custom-key": "The custom_key parameter is missing or does not match the account.",
    "malformed": "The jwt is not a well-formed JSON Web Token.",
    "bad-algorithm": "The jwt must be signed with HS256.",
    "bad-signature": "The jwt signature does not verify with the security key.",
    "registered-claim": "The jwt must not contain exp, iat or nbf; use expt.",
    "bad-expt": "The expt claim must be an integer (unix seconds).",
    "expired": "The jwt has expired (expt is in the past).",
    "missing-cuid": "The cuid claim is missing.",
    "bad-mc": "The mc claim must be a non-empty list of media items.",
    "unknown-mckey": "A media content key in mc is not known.",
    "bad-watermark": "video_watermarking_code_policy needs a code_kind text, integer sizes, "
    "alpha and times, and a six-digit hex font_color.",
    "signature-required": "This channel is secured: play it through a signed URL.",
    "play-callback-csrf": describe("csrf", "play"),
    "play-callback-not-found": describe("not-found", "play"),
}


class PlayerRejected(Exception):
    def __init__(self, reason: str, status: int = 403) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def decode_hs256(token: str, secret: str) -> tuple[dict[str, Any], Any]:
    """Verify a compact JWS by hand: HS256 only, constant-time compare. (PyJWT would also do,
    but it warns about short keys on every call, and demo keys are short.)"""
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(_b64decode(header_b64))
        signature = _b64decode(signature_b64)
        payload = json.loads(_b64decode(payload_b64))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PlayerRejected("malformed") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise PlayerRejected("bad-algorithm")
    expected = hmac.new(
        secret.encode(), f"{header_b64}.{payload_b64}".encode(), hashlib.sha256
    ).digest()
    if not hmac.compare_digest(expected, signature):
        raise PlayerRejected("bad-signature")
    return header, payload


def verify_player_token(
    app: Any, token: str | None, custom_key: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """→ (payload, main mc item) or raise ``PlayerRejected``."""
    keys = app.config.keys
    if not token:
        raise PlayerRejected("missing-jwt")
    if custom_key != keys.custom_key:
        raise PlayerRejected("custom-key")
    header, payload = decode_hs256(token, keys.security_key)
    if not isinstance(payload, dict):
        raise PlayerRejected("malformed")
    if any(claim in payload for claim in REGISTERED_CLAIMS):
        raise PlayerRejected("registered-claim")
    expt = payload.get("expt")
    if not isinstance(expt, int) or isinstance(expt, bool):
        raise PlayerRejected("bad-expt")
    if expt <= time.time():
        raise PlayerRejected("expired")
    cuid = payload.get("cuid")
    if cuid in (None, "") or not isinstance(cuid, (str, int)):
        raise PlayerRejected("missing-cuid")
    items = payload.get("mc")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise PlayerRejected("bad-mc")
    main = [i for i in items if not i.get("intr")]
    if not main:
        raise PlayerRejected("bad-mc")
    with app.state.lock:
        for item in items:
            if (
                not isinstance(item.get("mckey"), str)
                or app.state.media_by_mckey(item["mckey"]) is None
            ):
                raise PlayerRejected("unknown-mckey")
    problem = watermark_problem(payload)
    if problem:
        raise PlayerRejected(problem)
    return payload, main[0]


def _rejection_page(reason: str, status: int) -> Response:
    message = html.escape(_MESSAGES.get(reason, reason))
    return html_response(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Kollus sandbox player: refused</title></head>"
        f"<body><div data-sandbox-player='error' data-reason='{html.escape(reason)}'>"
        f"<h1>Playback refused</h1><p>{message}</p></div></body></html>",
        status,
    )


def _play_window(section: Any) -> tuple[str, str]:
    """(the attributes, the visible line) of a preview: only ``play_section`` plays."""
    if not isinstance(section, dict):
        return " data-play='full'", ""
    start, end = section.get("start_time", 0), section.get("end_time", 0)
    return (
        f" data-play='preview' data-play-section-start='{html.escape(str(start))}'"
        f" data-play-section-end='{html.escape(str(end))}'",
        f"<p class='play-window'>Preview: plays from {html.escape(str(start))} s "
        f"to {html.escape(str(end))} s only.</p>",
    )


def _refusal_page(message: str) -> Response:
    """What Kollus's player shows when the play callback answers ``result: 0``."""
    text = html.escape(message or "Playback was refused.")
    return html_response(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Kollus sandbox player: refused</title></head>"
        "<body><div data-sandbox-player='refused' data-reason='play-callback-refused'"
        f" data-message='{text}'><h1>Playback refused</h1><p class='message'>{text}</p></div>"
        "</body></html>"
    )


def _player_page(
    app: Any,
    request: Request,
    mckey: str,
    title: str,
    *,
    cuid: str = "",
    signed: bool,
    play_section: Any = None,
    payload: dict[str, Any] | None = None,
    item: dict[str, Any] | None = None,
    session: Any = None,
) -> Response:
    poster = html.escape(_poster_url(app, mckey))
    options = {k: v for k, v in request.query_pairs if k not in ("jwt", "custom_key")}
    option_attrs = "".join(
        f" data-option-{html.escape(k.replace('_', '-'))}='{html.escape(v)}'"
        for k, v in options.items()
        if k.isidentifier()
    )
    title_html = html.escape(title)
    window_attrs, window_line = _play_window(play_section)
    token_attrs, token_lines = options_markup(payload or {}, item or {})
    if session is not None:
        # Where the player starts (Kollus's t: a resume point) and its LMS play session.
        window_attrs += f" data-lms-session='{session.id}' data-start='{session.position}'"
        window_line += f"<p class='start'>Starts at {session.position} s.</p>"
    return html_response(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title_html}</title><style>html,body{{height:100%}}"
        "body{margin:0;background:#000;color:#fff;font:13px sans-serif}"
        # The video takes what the lines under it leave: a small player shows them all.
        "[data-sandbox-player]{display:flex;flex-direction:column;height:100%}"
        "video{flex:1 1 auto;min-height:0;width:100%;background:#000}"
        "[data-sandbox-player] p{margin:2px 8px;flex:none}</style></head><body>"
        f"<div data-sandbox-player='ok' data-mckey='{html.escape(mckey)}' data-cuid='{html.escape(str(cuid))}'"
        f" data-signed='{'true' if signed else 'false'}' data-title='{title_html}'{option_attrs}"
        f"{window_attrs}{token_attrs}>"
        f"<video controls playsinline poster='{poster}'></video>{window_line}{token_lines}"
        f"<p class='title'>{title_html}</p><p>Kollus sandbox player: no real video is streamed.</p>"
        "</div></body></html>"
    )


def _poster_url(app: Any, mckey: str) -> str:
    """The media's current poster URL (with its version once an editor set one)."""
    with app.state.lock:
        media = app.state.media_by_mckey(mckey)
        version = media.get("poster_version") if media else None
    url = f"{app.state.player_url}/poster/{mckey}.jpg"
    return f"{url}?v={version}" if version else url


def signed_player(app: Any, request: Request) -> Response:
    try:
        payload, item = verify_player_token(app, request.query("jwt"), request.query("custom_key"))
    except PlayerRejected as rejected:
        return _rejection_page(rejected.reason, rejected.status)
    with app.state.lock:
        media = app.state.media_by_mckey(item["mckey"])
        title = (
            item.get("title")
            if isinstance(item.get("title"), str) and item.get("title")
            else media["title"]
        )
    section = item.get("play_section")
    target = app.callbacks.targets.get("play")
    device, new_device = _device(request)
    uservalues = {k: v for k, v in request.query_pairs if k.startswith("uservalue")}
    if target:
        # Late import: the play callback module uses this module's JWT checks.
        from .play_callback import ask_play_callback

        try:
            outcome = ask_play_callback(
                app,
                target,
                cuid=str(payload["cuid"]),
                mckey=item["mckey"],
                device=device,
                uservalues=uservalues,
            )
        except PlayerRejected as rejected:
            return _rejection_page(rejected.reason, 502)
        if outcome.result != 1:
            return _with_device(_refusal_page(outcome.message), request, device, new_device)
        section = outcome.play_section or section
    start = request.query("t") or "0"
    # The play session the LMS callback reports on (sandbox/lms.py; the control API plays it).
    session = app.lms.open(
        cuid=str(payload["cuid"]),
        mckey=item["mckey"],
        uservalues=uservalues,
        device=device,
        start=int(start) if start.isdigit() else 0,
    )
    page = _player_page(
        app,
        request,
        item["mckey"],
        title,
        cuid=payload["cuid"],
        signed=True,
        play_section=section,
        payload=payload,
        item=item,
        session=session,
    )
    return _with_device(page, request, device, new_device)


def _device(request: Request) -> tuple[str, bool]:
    """This browser's ``hardware_id`` (a cookie), and whether it is new."""
    cookies = SimpleCookie()
    with contextlib.suppress(CookieError):  # a malformed cookie: a new device
        cookies.load(request.header("Cookie"))
    for name in (DEVICE_COOKIE, PLAIN_HTTP_DEVICE_COOKIE):
        morsel = cookies.get(name)
        if morsel is not None and morsel.value:
            return morsel.value, False
    return "sandbox-device-" + secrets.token_hex(8), True


def _over_https(request: Request) -> bool:
    """Whether the client reached the sandbox over https (itself, or a TLS proxy before it)."""
    return (
        request.environ.get("wsgi.url_scheme") == "https"
        or request.header("X-Forwarded-Proto").lower() == "https"
    )


def _with_device(response: Response, request: Request, device: str, new: bool) -> Response:
    if not new:
        return response
    lifetime = f"{device}; Path=/; Max-Age=31536000; HttpOnly"
    # The player is a cross-site iframe: only a SameSite=None cookie comes back, browsers take
    # SameSite=None only with Secure (Chromium also over http to localhost/127.0.0.1), and one
    # that blocks third-party cookies (headless Chromium does) keeps a Partitioned one: without
    # it every reload of the page was a new device.
    cookies = [f"{DEVICE_COOKIE}={lifetime}; SameSite=None; Secure; Partitioned"]
    if not _over_https(request):
        # Over plain http, a client that keeps Secure cookies for https (curl, requests, a
        # browser on a LAN address) gets this one back instead. Two names, so neither
        # overwrites the other in a cookie jar.
        cookies.append(f"{PLAIN_HTTP_DEVICE_COOKIE}={lifetime}; SameSite=Lax")
    response.headers.extend(("Set-Cookie", cookie) for cookie in cookies)
    return response


def share_player(app: Any, request: Request) -> Response:
    mckey = request.route_params["mckey"]
    with app.state.lock:
        ufk = app.state.mckey_index.get(mckey)
        media = app.state.media.get(ufk) if ufk else None
        if media is None:
            return _rejection_page("unknown-mckey", 404)
        link = next(c for c in media["channels"] if c["media_content_key"] == mckey)
        if app.state.channels.get(link["channel_key"], {}).get("secure"):
            return _rejection_page("signature-required", 403)
        title = media["title"]
    return _player_page(app, request, mckey, title, signed=False)


def poster(app: Any, request: Request) -> Response:
    """The media's poster: the image last sent to ``upload_poster``, else one drawn from its
    key; ``?frame=<s>`` draws the snapshot frame at that second."""
    key = request.route_params["key"]
    frame = request.query("frame")
    with app.state.lock:
        media = app.state.media_by_mckey(key) or app.state.media.get(key)
        title = media["title"] if media else None
        uploaded = None
        if media and media.get("poster_version") and frame is None:
            name = f"poster-{media['upload_file_key']}-{media['poster_version']}"
            uploaded = app.state.images.get(name)
    if title is None:
        raise HttpError(html_response("<p>Unknown media.</p>", 404))
    if uploaded is not None:
        content_type, image = uploaded
        return Response(
            200, image, [("Content-Type", content_type), ("Cache-Control", "max-age=3600")]
        )
    label = f"{title} @ {frame}s" if frame is not None else title
    return Response(
        200,
        poster_jpeg(key + (f"#{frame}" if frame is not None else ""), label),
        [("Content-Type", "image/jpeg"), ("Cache-Control", "max-age=3600")],
    )


ROUTES = [
    Route("GET", "/player/s", "player.signed", signed_player),
    Route("GET", "/player/poster/{key}.jpg", "player.poster", poster),
    Route("GET", "/player/{mckey}", "player.share", share_player),
]
