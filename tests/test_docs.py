"""The docs keep up with the code: every setting is in the configuration reference, described,
and every message quoted in the troubleshooting page still exists."""

import ast
import functools
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from django.urls import include
from django.urls import path as url_path
from wagtail import urls as wagtail_urls

from wagtail_kollus.conf import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent


def test_configuration_reference_lists_and_describes_every_setting():
    text = (ROOT / "docs" / "configuration.md").read_text()
    for name in DEFAULTS:
        rows = [line for line in text.splitlines() if line.startswith(f"| `{name}` |")]
        assert rows, f"{name} is missing from docs/configuration.md (run scripts/settings_reference.py)"
        assert not rows[0].rstrip().endswith("|  |"), f"{name} has no description in conf.py"


def test_configuration_reference_is_up_to_date(tmp_path):
    doc = ROOT / "docs" / "configuration.md"
    before = doc.read_text()
    subprocess.run([sys.executable, str(ROOT / "scripts" / "settings_reference.py")], check=True)
    after = doc.read_text()
    doc.write_text(before)
    assert after == before, "docs/configuration.md is stale: run scripts/settings_reference.py"


# --- docs/troubleshooting.md quotes messages that exist -----------------------------------------
# A line ``> `message` `` on that page quotes a message as users see it; ``…`` stands for the
# part that varies. Each quote must still exist in the package (Python string literals, with
# f-string and %-placeholders read as ``…``; templates and scripts as text), and each system
# check's quote must be what ``manage.py check`` really says for that id.

TROUBLESHOOTING = ROOT / "docs" / "troubleshooting.md"
PACKAGE = ROOT / "wagtail_kollus"
_QUOTE = re.compile(r"^> `(?P<text>.+)`\s*$")
_CHECK_HEADING = re.compile(r"^### (?P<id>wagtail_kollus\.[EW]\d{3})\s*$")


def _normalise(text: str) -> str:
    text = re.sub(r"\{\{.*?\}\}", "…", text)  # {{ variable }} in templates
    text = re.sub(r"%\(\w+\)[sdr]|%[sdr]", "…", text)  # gettext placeholders
    return " ".join(text.split())


def _literal_texts(path: Path) -> list[str]:
    texts = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
        elif isinstance(node, ast.JoinedStr):  # an f-string: its fixed parts, values as "…"
            texts.append(
                "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values)
            )
    return texts


@functools.cache
def package_text() -> str:
    """Every user-facing text the package can show (the sandbox is a test tool, not shown)."""
    texts: list[str] = []
    for path in sorted(PACKAGE.rglob("*")):
        if "sandbox" in path.parts or "locale" in path.parts or not path.is_file():
            continue
        if path.suffix == ".py":
            texts.extend(_literal_texts(path))
        elif path.suffix in (".html", ".js", ".txt"):
            texts.append(path.read_text(encoding="utf-8"))
    return "\n".join(_normalise(text) for text in texts)


def quoted_messages() -> list[tuple[int, str]]:
    lines = TROUBLESHOOTING.read_text(encoding="utf-8").splitlines()
    return [(n, m["text"]) for n, line in enumerate(lines, 1) if (m := _QUOTE.match(line))]


def in_package(message: str) -> bool:
    """Every fixed part of ``message`` (between the ``…``) occurs in the package's texts."""
    corpus = package_text()
    parts = [part.strip() for part in _normalise(message).split("…")]
    parts = [part for part in parts if sum(ch.isalnum() for ch in part) >= 2]
    return bool(parts) and all(part in corpus for part in parts)


def check_messages_by_id(settings, monkeypatch) -> dict[str, list[str]]:
    """What ``manage.py check`` says, by id, for configurations that trigger every check."""
    from wagtail_kollus.checks import (
        check_dotted_paths,
        check_public_urls_are_included,
        check_settings,
        import_slice_warnings,
        short_lived_connection_warnings,
        sqlite_cluster_warnings,
        task_attempts_warnings,
        task_queue_messages,
    )

    for name in list(os.environ):
        if name.startswith("WAGTAIL_KOLLUS_"):
            monkeypatch.delenv(name)
    broken = {
        "CONTENTS_API_URL": "shop.example.com/api",
        "CONTENTS_API_KEY": "",
        "READ_TIMEOUT": 0,
        "DEFAULT_LANGUAGE": "fr",
        "CALLBACK_TOKEN": "",
        "NOT_A_SETTING": 1,
        "SYNC_DEFAULT_CATEGORY_IDS": 1,
    }
    found: dict[str, list[str]] = {}
    for value in ("not a dict", broken, {"CALLBACK_TOKEN": "short"}):
        settings.WAGTAIL_KOLLUS = value
        for message in check_settings():
            found.setdefault(message.id, []).append(message.msg)
    shared_sqlite = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
    for message in sqlite_cluster_warnings(shared_sqlite, {"name": "site", "orm": "default"}):
        found.setdefault(message.id, []).append(message.msg)
    postgres = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "site"}}
    for message in short_lived_connection_warnings(postgres, {"orm": "default"}):
        found.setdefault(message.id, []).append(message.msg)
    for message in playback_check_messages(settings):
        found.setdefault(message.id, []).append(message.msg)
    for message in import_slice_warnings({"timeout": 20}, 10, 15):
        found.setdefault(message.id, []).append(message.msg)
    settings.WAGTAIL_KOLLUS = {"PLAYBACK_POLICY": "myshop.playback.PurchasedCoursePolicyy"}
    messages = check_dotted_paths()
    messages += task_queue_messages(None, None, django_q_installed=False)
    messages += task_queue_messages(None, None, redis_installed=False)
    messages += task_queue_messages({"name": "site"}, None, redis_installed=True)
    messages += task_attempts_warnings({"name": "site", "orm": "default"})
    for patterns in ([WAGTAIL_PAGES], [WAGTAIL_PAGES, KOLLUS_URLS]):
        settings.ROOT_URLCONF = ModuleType("site_urls")
        settings.ROOT_URLCONF.urlpatterns = patterns
        messages += check_public_urls_are_included()
    for message in messages:
        found.setdefault(message.id, []).append(message.msg)
    return found


# URL patterns of a site without the plugin's include, or with it after Wagtail's catch-all.
WAGTAIL_PAGES = url_path("", include(wagtail_urls))
KOLLUS_URLS = url_path("kollus/", include("wagtail_kollus.urls"))


def playback_check_messages(settings) -> list:
    """The playback checks, each under a configuration that triggers it."""
    import tempfile

    from wagtail_kollus.checks import (
        REMOVED_PLAYER_TEMPLATES,
        check_rate_limit_cache,
        check_removed_player_templates,
    )

    messages = []
    settings.CACHES = {
        **settings.CACHES,
        "nothing": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
        "small": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "t"},
    }
    for alias in ("missing", "nothing", "small"):
        settings.WAGTAIL_KOLLUS = {"RATE_LIMIT_CACHE": alias}
        messages += check_rate_limit_cache()
    with tempfile.TemporaryDirectory() as directory:
        old = Path(directory, REMOVED_PLAYER_TEMPLATES[0])
        old.parent.mkdir(parents=True)
        old.write_text("old")
        settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [directory]}]
        messages += check_removed_player_templates()
    return messages


def _matches(quote: str, message: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in _normalise(quote).split("…"))
    return re.fullmatch(pattern, _normalise(message)) is not None


def test_troubleshooting_quotes_messages_that_still_exist(settings, monkeypatch):
    quotes = quoted_messages()
    assert len(quotes) > 50, "the quote markup of docs/troubleshooting.md changed?"
    checks = [m for ms in check_messages_by_id(settings, monkeypatch).values() for m in ms]
    stale = [
        f"line {n}: {text}"
        for n, text in quotes
        if not in_package(text) and not any(_matches(text, message) for message in checks)
    ]
    assert not stale, "docs/troubleshooting.md quotes messages the package no longer has:\n" + (
        "\n".join(stale)
    )


def test_troubleshooting_explains_every_system_check_with_its_real_message(settings, monkeypatch):
    lines = TROUBLESHOOTING.read_text(encoding="utf-8").splitlines()
    documented: dict[str, str] = {}
    for n, line in enumerate(lines):
        heading = _CHECK_HEADING.match(line)
        if heading:
            quote = next(_QUOTE.match(nxt) for nxt in lines[n + 1 :] if _QUOTE.match(nxt))
            documented[heading["id"]] = quote["text"]
    # Every id the settings checks can report: checks.py and the modules it draws on
    # (checks_settings.py, the shape table), in an Error/Warning(id=...) or a table of checks.
    sources = sorted(PACKAGE.glob("checks*.py"))
    assert {path.name for path in sources} >= {"checks.py", "checks_settings.py"}
    source = "\n".join(path.read_text(encoding="utf-8") for path in sources)
    assert set(documented) == set(re.findall(r'"(wagtail_kollus\.[EW]\d{3})"', source))
    actual = check_messages_by_id(settings, monkeypatch)
    assert set(actual) == set(documented), "a check id is not triggered by this test's settings"
    for check_id, quote in documented.items():
        assert any(_matches(quote, message) for message in actual[check_id]), (check_id, quote)


def test_the_quote_matcher_rejects_messages_the_package_does_not_have():
    assert in_package("The contents API is not answering right now. Try again in a moment.")
    assert in_package("Kollus rate limit reached (shared across processes); the next slot is in … s.")
    assert not in_package("The contents API is having a nap. Try again in a moment.")
    assert not in_package("…")
    assert not _matches("WAGTAIL_KOLLUS must be a list.", "WAGTAIL_KOLLUS must be a dict.")


# --- docs/signals.md lists every signal with the keyword arguments its senders pass ------------


def sent_keywords() -> dict[str, set[str]]:
    """``{signal: keyword arguments}`` from every place the package sends a public signal."""
    from wagtail_kollus import signals

    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func, name = node.func, None
            if (
                isinstance(func, ast.Attribute)
                and func.attr in ("send", "send_robust")
                and isinstance(func.value, ast.Attribute)
            ):
                name = func.value.attr  # signals.video_ready.send(...)
            elif isinstance(func, ast.Attribute) and func.attr == "send_robustly" and node.args:
                name = getattr(node.args[0], "attr", None)  # signals.send_robustly(signals.x, ...)
            elif isinstance(func, ast.Name) and func.id == "_send_safely" and node.args:
                name = getattr(node.args[0], "id", None)  # _send_safely(content_synced, ...)
            if name in signals.__all__:
                found.setdefault(name, set()).update(kw.arg for kw in node.keywords)
    for keywords in found.values():
        keywords.discard("sender")
    return found


def test_signals_reference_lists_every_signal_and_its_arguments():
    from wagtail_kollus import signals

    rows = {}
    for line in (ROOT / "docs" / "signals.md").read_text(encoding="utf-8").splitlines():
        row = re.match(r"^\| \[`(\w+)`\]\(#\w+\) \| `\w+` \| (?P<kwargs>[^|]+) \|", line)
        if row:
            rows[row[1]] = set(re.findall(r"`(\w+)`", row["kwargs"]))
    assert set(rows) == set(signals.__all__)
    sent = sent_keywords()
    assert set(sent) == set(signals.__all__), "a public signal is never sent (or no longer found)"
    for name, documented in rows.items():
        assert documented == sent[name], f"{name}: docs say {documented}, code sends {sent[name]}"
