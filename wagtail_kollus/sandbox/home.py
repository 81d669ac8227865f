"""``GET /``: an HTML page of what the sandbox offers, for the person who opens its URL.

``make demo`` prints the sandbox's base URL; a browser opening it should learn what runs there
(the emulated APIs and their demo keys, the seeded world, where callbacks go and how they
fared) and how to drive it (the control API), instead of a JSON 404. Plain HTML built here: the
sandbox runs without Django.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import Any
from urllib.parse import urlsplit

from .config import DEFAULT_CATEGORY_KEY, DEFAULT_CHANNEL_KEY, PLAYER_CALLBACK_KINDS
from .http import Request, Response, html_response
from .misrouted import describe

_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem;
       color: #1d1d1d; }
h1 { margin-bottom: .25rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .5rem;
       border-bottom: 1px solid #eee; vertical-align: top; }
code { background: #f4f4f4; padding: 0 .2rem; } pre { background: #f4f4f4; padding: .75rem;
       overflow-x: auto; }
.warning { background: #fff4e5; border-left: 4px solid #e08c00; padding: .5rem 1rem; }
"""


def _row(*cells: str) -> str:
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def _code(text: Any) -> str:
    return f"<code>{escape(str(text))}</code>"


def _services(app: Any, base: str) -> str:
    keys = app.config.keys
    rows = [
        _row(
            "Contents API",
            _code(f"{base}/api/public/v1"),
            f"header {_code('Authorization: Bearer ' + keys.server_key)}",
        ),
        _row(
            "Kollus VOD API",
            _code(f"{base}/kollus"),
            f"query {_code('access_token=' + keys.access_token)}",
        ),
        _row(
            "Kollus upload host",
            _code(f"{base}/kollus-upload/<token>"),
            "the one-time URL from <code>POST /kollus/api/upload/create-url</code>",
        ),
        _row(
            "Kollus JWT player",
            _code(f"{base}/player/s?jwt=…&custom_key={keys.custom_key}"),
            f"HS256 with the security key {_code(keys.security_key)}",
        ),
        _row("Posters", _code(f"{base}/player/poster/<media_content_key>.jpg"), ""),
    ]
    return (
        "<table><tr><th>Emulates</th><th>URL</th><th>Credentials</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _world(app: Any) -> str:
    with app.state.lock:
        contents = len(app.state.contents)
        stages = Counter(row.get("stage", "") for row in app.state.media.values())
    media = ", ".join(f"{count} {escape(stage)}" for stage, count in sorted(stages.items()))
    return (
        f"<p>{contents} content records; {sum(stages.values())} Kollus media ({media}); "
        f"channel {_code(DEFAULT_CHANNEL_KEY)}, category {_code(DEFAULT_CATEGORY_KEY)}; "
        f"callbacks carry {_code('content_provider_key=' + app.config.keys.service_account_key)}.</p>"
    )


def _callbacks(app: Any) -> str:
    targets = dict(app.callbacks.targets)
    log = app.callbacks.entries()
    if not targets:
        return (
            "<p>No callback targets: start with <code>--callback-url "
            "http://your-site/kollus/callbacks/{kind}/&lt;CALLBACK_TOKEN&gt;/</code> or "
            "<code>POST /_sandbox/callbacks</code>.</p>"
        )
    player_answers = app.callbacks.player_answer_log()
    rows = []
    for kind, url in targets.items():
        # Only where they go: the path holds the site's secret callback token.
        where = urlsplit(url)
        if kind in PLAYER_CALLBACK_KINDS:
            # Asked by the player as it plays, not queued: each answer is one request.
            answers = [a for a in player_answers if a["kind"] == kind]
            deliveries = (
                f"{len(answers)} asked, {sum(a['status'] == 200 for a in answers)} answered 200"
            )
        else:
            sent = [entry for entry in log if entry["kind"] == kind]
            answers = [attempt for e in sent for attempt in e["attempts"]]
            deliveries = f"{len(sent)} sent, {sum(e['delivered'] for e in sent)} delivered"
        rows.append(
            _row(
                _code(kind),
                _code(f"{where.scheme}://{where.netloc}/…"),
                deliveries,
                _last_answer(answers[-1], kind) if answers else "–",
            )
        )
    return (
        "<table><tr><th>Kind</th><th>Target</th><th>Deliveries</th><th>Last answer</th></tr>"
        + "".join(rows)
        + '</table><p>Full URLs and every attempt: <a href="_sandbox/callbacks">'
        "<code>GET /_sandbox/callbacks</code></a>. Only HTTP 200 counts as delivered.</p>"
    )


def _last_answer(answer: dict[str, Any], kind: str) -> str:
    """A status (or error) cell; a URL that never reached wagtail-kollus says so."""
    shown = escape(str(answer["status"] or answer["error"]))
    if answer.get("diagnosis"):
        reason = escape(describe(answer["diagnosis"], kind))
        return f"{shown}: <span data-diagnosis='{escape(answer['diagnosis'])}'>{reason}</span>"
    return shown


def _control(app: Any) -> str:
    rows = []
    for route in app.router.routes:
        if not (route.control and route.summary):
            continue
        path = _code(route.template)
        if route.method == "GET" and "{" not in route.template:
            # Relative, so the link also works where a Django site mounts the sandbox.
            path = f'<a href="{escape(route.template.lstrip("/"))}">{path}</a>'
        rows.append(_row(_code(route.method), path, escape(route.summary)))
    return (
        "<table><tr><th>Method</th><th>Path</th><th>What it does</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def home(app: Any, request: Request) -> Response:
    base = app.state.base_url
    curl = "\n".join(
        (
            f'curl -X POST {base}/_sandbox/faults -d \'{{"endpoint": "contents.list", '
            '"status": 503, "times": 2}\'',
            f"curl -X DELETE {base}/_sandbox/faults",
            f"curl {base}/_sandbox/requests",
            f'curl -X POST {base}/_sandbox/media/<upload_file_key>/finish -d \'{{"result": "success"}}\'',
        )
    )
    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Kollus sandbox</title>
<style>{_STYLE}</style></head>
<body data-sandbox-home>
<h1>Kollus sandbox</h1>
<p>An offline emulator of the contents API, the Kollus VOD API, its upload host, its platform
callbacks and its JWT player, for wagtail-kollus's demo and tests.</p>
<p class="warning">A local test double: the keys below are published demo keys, and the control
API has no authentication. Never expose it on a public network.</p>
<h2>What it emulates</h2>{_services(app, escape(base))}
<h2>The seeded world</h2>{_world(app)}
<h2>Callbacks to your site</h2>{_callbacks(app)}
<h2>Control API</h2>
<p>For tests and demos; JSON in, JSON out. Its calls are neither logged nor faulted.</p>
{_control(app)}
<pre>{escape(curl)}</pre>
<p>Fault options, endpoint names and the seeded data: <code>docs/sandbox.md</code> in
wagtail-kollus.</p>
</body></html>"""
    return html_response(html)
