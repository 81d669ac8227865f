"""Helpers of the security sweep (``tests/test_security_*.py``).

- :func:`plugin_url_entries` finds every URL the plugin adds, by walking Django's resolver:
  a pattern belongs to the plugin when its view lives in ``wagtail_kollus`` or when it sits in a
  namespace that one of the plugin's Wagtail hooks registered (a viewset may use a stock
  Wagtail view class).
- :data:`SECRETS` are recognisable secret values; :func:`find_secrets` says which appear.
- :data:`ADMIN_URLS` and :data:`PUBLIC_URLS` classify every URL the walk finds (who may open
  it; ``tests/test_security_urls.py`` checks each class); :func:`concrete_url` fills one in.
- :data:`HOSTILE` are remote strings that must come out escaped; :func:`unsafe_markup` parses
  HTML and reports any element or attribute that hostile data managed to create.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from wagtail import hooks

PLUGIN_PACKAGE = "wagtail_kollus"

# --- secrets ----------------------------------------------------------------------------------

# Long, unique and unlike anything else, so a substring search cannot give false positives.
SECRETS = {
    "CONTENTS_API_KEY": "SEKRIT-contents-server-key-7f3a9c",
    "KOLLUS_ACCESS_TOKEN": "SEKRIT-access-token-51be02",
    "KOLLUS_SECURITY_KEY": "SEKRIT-security-key-c0ffee",
    "KOLLUS_CUSTOM_KEY": "SEKRIT-custom-key-d15ea5e",
    "KOLLUS_SERVICE_ACCOUNT_KEY": "SEKRIT-service-account-8badf00d",
    "CALLBACK_TOKEN": "SEKRIT-callback-token-feedface",
}
# Keyword arguments of ``SandboxServer`` that make the sandbox accept exactly these secrets.
SANDBOX_KEYS = {
    "server_key": SECRETS["CONTENTS_API_KEY"],
    "access_token": SECRETS["KOLLUS_ACCESS_TOKEN"],
    "security_key": SECRETS["KOLLUS_SECURITY_KEY"],
    "custom_key": SECRETS["KOLLUS_CUSTOM_KEY"],
    "service_account_key": SECRETS["KOLLUS_SERVICE_ACCOUNT_KEY"],
}


def find_secrets(text: str, names: tuple[str, ...] | None = None) -> list[str]:
    """Names of the secrets (all, or ``names``) present in ``text``."""
    names = tuple(SECRETS) if names is None else names
    return [name for name in names if SECRETS[name] in text]


def response_text(response: Any) -> str:
    """Body and headers of a Django test response, as one string to search."""
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    headers = "\n".join(f"{k}: {v}" for k, v in response.items())
    return headers + "\n" + body.decode("utf-8", "replace")


# --- hostile remote data --------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE = {
    "script": SCRIPT,
    "img": IMG,
    "quotes": 'O\'Reilly "quoted" `tick` & <b>bold</b>',
    "long": "L" * 5000,
    "arabic": "مرحبا بالعالم \u202eevil\u202c",
    "hebrew": "שלום עולם",
    "emoji": "🎬🔥👩‍👩‍👧‍👦",
    "null": "before\x00after",
}


def hostile_title(tag: str = "") -> str:
    """One title holding every kind of hostile text (but the 5,000 characters)."""
    parts = [HOSTILE[k] for k in ("script", "img", "quotes", "arabic", "hebrew", "emoji")]
    return (tag + " " if tag else "") + " ".join(parts)


class _MarkupScanner(HTMLParser):
    """Collects every element and attribute that hostile strings could have injected."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            # Data islands (json_script, telepath) are not executed; a breakout out of them
            # would show as a raw "<script>" or "<img" and is caught below.
            kind = (dict(attrs).get("type") or "text/javascript").lower()
            self._in_script = "javascript" in kind or kind == "module"
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "img" and dict(attrs).get("src") == "x":
            self.problems.append("<img src=x>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and "alert(1)" in data:
            self.problems.append(f"<script>{data[:60]}</script>")


def unsafe_markup(html: str) -> list[str]:
    """Elements/attributes in ``html`` that only unescaped hostile data could have produced."""
    scanner = _MarkupScanner()
    scanner.feed(html)
    scanner.close()
    problems = list(scanner.problems)
    for raw in (SCRIPT, "<img src=x onerror=alert(1)>"):
        if raw in html:
            problems.append(f"raw {raw!r}")
    return problems


def html_of(response: Any) -> str:
    """The HTML of a response. Modal-workflow and status answers are JSON: only their
    ``html`` member is markup; the other members are data that Wagtail's JavaScript sets as
    text (a raw "<script>" is correct there), so they are left out."""
    text = response.content.decode("utf-8", "replace")
    if response.get("Content-Type", "").startswith("application/json"):
        data = json.loads(text)
        return str(data.get("html", "")) if isinstance(data, dict) else ""
    return text


# --- the URL walk ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PluginURL:
    name: str  # "namespace:name"
    route: str  # "admin/kollus-videos/edit/<int:pk>/"
    view_module: str
    is_admin: bool

    @property
    def params(self) -> list[str]:
        import re

        return re.findall(r"<(?:\w+:)?(\w+)>", self.route)


def _view_module(callback: Any) -> str:
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return view_class.__module__
    return getattr(inspect.unwrap(callback), "__module__", "") or ""


def plugin_namespaces() -> set[str]:
    """Namespaces registered by the plugin's own Wagtail hooks."""
    names: set[str] = set()
    for fn in hooks.get_hooks("register_admin_viewset"):
        if not fn.__module__.startswith(PLUGIN_PACKAGE):
            continue
        viewset = fn()
        for item in getattr(viewset, "viewsets", None) or [viewset]:
            names.add(item.name)
    for fn in hooks.get_hooks("register_admin_urls"):
        if not fn.__module__.startswith(PLUGIN_PACKAGE):
            continue
        for pattern in fn():
            if isinstance(pattern, URLResolver) and pattern.namespace:
                names.add(pattern.namespace)
    return names


def plugin_url_entries() -> list[PluginURL]:
    """Every URL pattern the plugin adds to the project (admin and public)."""
    admin_prefix = reverse("wagtailadmin_home").lstrip("/")
    own_namespaces = plugin_namespaces() | {"wagtail_kollus"}
    found: list[PluginURL] = []

    def walk(resolver: URLResolver, prefix: str, namespaces: tuple[str, ...]) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                ns = namespaces + ((pattern.namespace,) if pattern.namespace else ())
                walk(pattern, prefix + str(pattern.pattern), ns)
                continue
            assert isinstance(pattern, URLPattern)
            module = _view_module(pattern.callback)
            if not (module.startswith(PLUGIN_PACKAGE) or own_namespaces & set(namespaces)):
                continue
            route = prefix + str(pattern.pattern)
            found.append(
                PluginURL(
                    name=":".join((*namespaces, pattern.name or f"<unnamed {route}>")),
                    route=route,
                    view_module=module,
                    is_admin=route.startswith(admin_prefix),
                )
            )

    walk(get_resolver(), "", ())
    return found


# --- who may open each URL (the classification the walk checks) ------------------------------
@dataclass(frozen=True)
class AdminRule:
    """Who may open an admin URL.

    ``opens_with``: permission codenames that open it (checked positively, so a view that
    refuses everyone fails too); ``"page:change_page"`` means edit permission on the page;
    ``None`` means any admin user (Wagtail's choosers work that way: editors without any
    plugin permission must be able to pick a video in a page they edit).
    ``methods``: what a superuser exercises (each must not be a 5xx).
    """

    opens_with: tuple[str, ...] | None
    method: str = "get"
    superuser_methods: tuple[str, ...] = ("get",)
    data: dict[str, Any] = field(default_factory=dict)
    # Query parameters filled from the test objects: {"media": "pk"} → ?media=<objects["pk"]>.
    query: dict[str, str] = field(default_factory=dict)
    # A URL about one upload (its state, how it ended, "Use this video"): the uploader opens it
    # with "add" alone, anyone else only with one of these (checked by the upload walk below).
    others_need: tuple[str, ...] | None = None


MEDIA_VIEW = ("view_kollusmedia",)
ADMIN_URLS: dict[str, AdminRule] = {
    # Video library (ModelViewSet over KollusMedia, ModelPermissionPolicy)
    "kollus_media:index": AdminRule(MEDIA_VIEW),
    "kollus_media:index_results": AdminRule(MEDIA_VIEW),
    "kollus_media:add": AdminRule(("add_kollusmedia",)),
    "kollus_media:upload_modal": AdminRule(("add_kollusmedia",)),
    "kollus_media:upload_multiple": AdminRule(("add_kollusmedia",)),
    "kollus_media:edit": AdminRule(("change_kollusmedia",), superuser_methods=("get", "post")),
    "kollus_media:usage": AdminRule(("change_kollusmedia",)),
    "kollus_media:replace": AdminRule(("change_kollusmedia",)),
    "kollus_media:poster": AdminRule(("change_kollusmedia",), superuser_methods=("get", "post")),
    "kollus_media:delete": AdminRule(("delete_kollusmedia",)),
    "kollus_media:refresh": AdminRule(
        ("change_kollusmedia",), method="post", superuser_methods=("post",)
    ),
    "kollus_media:refresh_stuck": AdminRule(
        ("change_kollusmedia",), method="post", superuser_methods=("post",)
    ),
    "kollus_media:upload_ticket": AdminRule(
        ("add_kollusmedia",),
        method="post",
        superuser_methods=("post",),
        data={"file_name": "clip.mp4", "file_size": "2048", "title": "Walk"},
    ),
    "kollus_media:upload_complete": AdminRule(
        ("add_kollusmedia", "change_kollusmedia"),
        method="post",
        superuser_methods=("post",),
        others_need=("change_kollusmedia",),
    ),
    "kollus_media:upload_abort": AdminRule(
        ("add_kollusmedia", "change_kollusmedia"),
        method="post",
        superuser_methods=("post",),
        others_need=("change_kollusmedia",),
    ),
    "kollus_media:upload_status": AdminRule(
        MEDIA_VIEW, others_need=("view_kollusmedia", "change_kollusmedia")
    ),
    # Importing the Kollus library (media/import_screen.py): like adding videos.
    "kollus_media:import": AdminRule(("add_kollusmedia",), superuser_methods=("get", "post")),
    "kollus_media:import_progress": AdminRule(("add_kollusmedia",)),
    # Stock Wagtail views the ModelViewSet adds (history of a row)
    "kollus_media:history": AdminRule(("change_kollusmedia",)),
    "kollus_media:history_results": AdminRule(("change_kollusmedia",)),
    # Statistics (own permission; 403 page instead of Wagtail's redirect, by design)
    "wagtail_kollus_stats:report": AdminRule(("view_kollus_statistics",)),
    "wagtail_kollus_stats:report_results": AdminRule(("view_kollus_statistics",)),
    "wagtail_kollus_stats:video": AdminRule(("view_kollus_statistics",)),
    "wagtail_kollus_stats:record": AdminRule(
        ("view_kollus_statistics",), method="post", superuser_methods=("post",)
    ),
    # Learner progress (own permission, personal data; 403 page as the statistics screens)
    **{
        f"wagtail_kollus_progress:{name}": AdminRule(("view_learnerprogress",))
        for name in (
            "pages", "pages_results", "page", "page_results",
            "learner", "learner_results", "learner_data",
        )
    },
    # Sync report and the page panel's endpoints
    "wagtail_kollus_sync:report": AdminRule(
        ("view_pagecontentlink",), superuser_methods=("get", "post")
    ),
    "wagtail_kollus_sync:report_results": AdminRule(("view_pagecontentlink",)),
    "wagtail_kollus_sync:status": AdminRule(("page:change_page",)),
    "wagtail_kollus_sync:retry": AdminRule(
        ("page:change_page",), superuser_methods=("get", "post")
    ),
    # The callback log: who sees the library reads it; Retry re-reads a media from Kollus,
    # so it needs what the library's "Refresh from Kollus" needs.
    "wagtail_kollus_callbacks:index": AdminRule(MEDIA_VIEW),
    "wagtail_kollus_callbacks:index_results": AdminRule(MEDIA_VIEW),
    "wagtail_kollus_callbacks:retry": AdminRule(
        ("change_kollusmedia",), method="post", superuser_methods=("post",)
    ),
    # The refused plays report: its own permission (the rows name viewers).
    "wagtail_kollus_refused_plays:index": AdminRule(("view_refusedplay",)),
    "wagtail_kollus_refused_plays:index_results": AdminRule(("view_refusedplay",)),
    # The chooser: any admin user (as Wagtail's own choosers)
    "kollus_video_chooser:choose": AdminRule(None),
    "kollus_video_chooser:choose_results": AdminRule(None),
    "kollus_video_chooser:choose_item": AdminRule(None),
    "kollus_video_chooser:chosen": AdminRule(None),
    "kollus_video_chooser:chosen_multiple": AdminRule(None),
    # The Upload tab's "Use this video": the same permission as uploading (and the upload's own).
    "kollus_video_chooser:chosen_library": AdminRule(
        ("add_kollusmedia", "change_kollusmedia"),
        query={"media": "pk"},
        others_need=("change_kollusmedia",),
    ),
    # The chosen-video widget's "Preview video": any admin user, as the chooser.
    "kollus_video_chooser:preview": AdminRule(None),
    # Stock ChooserViewSet creation view: KollusVideo rows are only made by choosing.
    "kollus_video_chooser:create": AdminRule(("add_kollusvideo",)),
}

# Public URLs, each with its own rule (tested below): the allow-list.
CALLBACK_KINDS = ("upload", "transcoding", "content-update", "channel-add", "channel-delete")
PUBLIC_URLS = {
    **{f"wagtail_kollus:callback-{kind}": "callback" for kind in CALLBACK_KINDS},
    # The same endpoints without the trailing slash (Kollus posts to exactly what was pasted).
    **{f"wagtail_kollus:callback-{kind}-unslashed": "callback" for kind in CALLBACK_KINDS},
    # Anything else under callbacks/: the plugin's own 404, whatever the method.
    "wagtail_kollus:callback-unknown": "callback_unknown",
    "wagtail_kollus:player_token": "player_token",
    # Kollus's play callback: the same secret in the URL; answers only signed JWTs.
    "wagtail_kollus:callback-play": "play_callback",
    "wagtail_kollus:callback-play-unslashed": "play_callback",
    # Kollus's LMS (progress) callback: the same secret; writes only for a signed play context.
    "wagtail_kollus:callback-progress": "lms_callback",
    "wagtail_kollus:callback-progress-unslashed": "lms_callback",
}


def entries_by_name():
    return {entry.name: entry for entry in plugin_url_entries()}



def concrete_url(name: str, objects: dict[str, Any]) -> str:
    entry = entries_by_name()[name]
    kwargs = {}
    for param in entry.params:
        if param == "pk" and name.startswith("kollus_video_chooser:"):
            kwargs["pk"] = objects["chooser_pk"]
        elif param == "token":
            kwargs["token"] = "x"
        else:
            assert param in objects, f"{name}: no object for URL parameter {param!r}"
            kwargs[param] = objects[param]
    url = reverse(name, kwargs=kwargs)
    rule = ADMIN_URLS.get(name)
    if rule is not None and rule.query:
        url += "?" + urlencode({param: objects[key] for param, key in rule.query.items()})
    return url


def sandbox_choice(sandbox) -> tuple[int, int]:
    """A real (content_id, item_id) whose item plays through Kollus, and has siblings."""
    with sandbox.state.lock:
        for content in sandbox.state.contents_newest_first():
            items = [i for ch in content["chapters"] for i in ch["items"]]
            kollus_items = [i for i in items if i["media_source_type"] == "kollus"]
            if len(items) > 1 and kollus_items:
                return content["content_id"], kollus_items[0]["item_id"]
    raise AssertionError("the sandbox seed has no multi-item content")
