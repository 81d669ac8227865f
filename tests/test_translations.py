"""Every user-facing string has a Korean and a Japanese translation.

The catalogues are re-extracted from the code into a scratch copy of the package (the checkout
is not touched) and merged with the committed ``.po`` files; a new string without a ko or ja
``msgstr`` (or a fuzzy one) fails here, naming the string. The committed ``.mo`` files must be
what ``compilemessages`` makes of the committed ``.po`` files, and Django must serve them.

To fix a failure: ``cd wagtail_kollus && django-admin makemessages -l ko -l ja --no-location
--ignore 'sandbox/*'`` (and ``-d djangojs``), translate the new entries, then
``django-admin compilemessages``.
"""

from __future__ import annotations

import gettext
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "wagtail_kollus"
LOCALE = PACKAGE / "locale"
LANGUAGES = ("ko", "ja")
DOMAINS = ("django", "djangojs")
# msgids whose translation is legitimately the English text: product names, acronyms, units.
SAME_AS_ENGLISH = {"Kollus VOD", "VOD", "URL", "{size} B", "{size} KB", "{size} MB", "{size} GB"}

needs_gettext = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in ("msgattrib", "msgfmt", "xgettext", "msgmerge")),
    reason="needs GNU gettext",
)

pytestmark = pytest.mark.xdist_group("translations")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The package's catalogues as ``makemessages`` leaves them after a fresh extraction.

    Runs in a per-worker scratch copy, so it neither touches the checkout nor races another
    xdist worker (``tmp_path_factory`` is per worker). ``makemessages`` only works from the
    directory holding ``locale/``, hence the ``chdir``, undone before anything else runs.
    """
    import os

    scratch = tmp_path_factory.mktemp("i18n") / "wagtail_kollus"
    shutil.copytree(
        PACKAGE, scratch, ignore=shutil.ignore_patterns("__pycache__", "sandbox", "*.mo")
    )
    cwd = os.getcwd()
    os.chdir(scratch)
    try:
        for domain in DOMAINS:
            call_command(
                "makemessages",
                locale=list(LANGUAGES),
                domain=domain,
                verbosity=0,
                no_location=True,
                ignore_patterns=["sandbox/*", "static/*/vendor/*"],
            )
    finally:
        os.chdir(cwd)
    return scratch / "locale"


def _msgids(po: Path, *flags: str) -> list[str]:
    out = subprocess.run(
        ["msgattrib", *flags, "--no-obsolete", "--no-wrap", str(po)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        line[7:-1] for line in out.splitlines() if line.startswith('msgid "') and line != 'msgid ""'
    ]


def _catalog(mo: Path) -> dict:
    with mo.open("rb") as fh:
        catalog = dict(gettext.GNUTranslations(fh)._catalog)
    catalog.pop("", None)  # the header
    return catalog


@needs_gettext
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_string_is_translated(extracted, language, domain):
    po = extracted / language / "LC_MESSAGES" / f"{domain}.po"
    if not po.exists():
        # makemessages writes no djangojs catalogue when the JS has no gettext() calls.
        assert domain == "djangojs", f"no {domain} catalogue for {language}"
        assert not (LOCALE / language / "LC_MESSAGES" / f"{domain}.po").exists(), (
            f"the committed {language} {domain}.po has no strings left in the code"
        )
        return
    missing = _msgids(po, "--untranslated") + _msgids(po, "--only-fuzzy")
    assert not missing, (
        f"{len(missing)} {language} {domain} strings lack a translation: {missing[:15]}"
    )
    # --check: placeholders (python-format, javascript-format) and plural forms agree.
    subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(po)], check=True)


@needs_gettext
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_committed_catalogue_is_current(extracted, language, domain):
    """The committed .po holds exactly the strings in the code (no stale, obsolete entries)."""
    committed = LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
    fresh = extracted / language / "LC_MESSAGES" / f"{domain}.po"
    if not fresh.exists():
        return
    assert committed.exists(), f"{language} {domain}.po is not committed"
    assert set(_msgids(committed)) == set(_msgids(fresh)), "run makemessages and translate"


@needs_gettext
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_catalogues_are_compiled(language, domain, tmp_path):
    """The committed .mo is what compilemessages makes of the committed .po (mtimes are
    meaningless after a git checkout, so the compiled catalogues are compared)."""
    po = LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
    if not po.exists():
        return
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo.relative_to(ROOT)} is missing: run compilemessages"
    fresh = tmp_path / "fresh.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(po)], check=True)
    assert _catalog(mo) == _catalog(fresh), f"{mo.relative_to(ROOT)} is stale: run compilemessages"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_are_not_english(language):
    """A msgstr copied from the msgid is not a translation (product names aside)."""
    mo = LOCALE / language / "LC_MESSAGES" / "django.mo"
    copied = [
        key
        for key, value in _catalog(mo).items()
        if (key[0] if isinstance(key, tuple) else key) == value
        and (key[0] if isinstance(key, tuple) else key) not in SAME_AS_ENGLISH
    ]
    assert not copied, f"{language} entries copied from English: {copied[:15]}"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ko", "이 동영상은 아직 사용 중이므로 삭제할 수 없습니다."),
        ("ja", "この動画はまだ使用されているため、削除できません。"),
    ],
)
def test_django_serves_the_translation(language, expected):
    with translation.override(language):
        assert translation.gettext("This video is still used, so it cannot be deleted.") == expected
        assert translation.get_language() == language


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ko", "동기화 3건을 대기열에 넣었습니다."),
        ("ja", "同期 3 件をキューに入れました。"),
    ],
)
def test_django_serves_plural_translations(language, expected):
    with translation.override(language):
        message = translation.ngettext("%(count)d sync queued.", "%(count)d syncs queued.", 3)
        assert message % {"count": 3} == expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_menu_paths_use_wagtail_s_own_names(language):
    """"see Reports → Contents sync" must name the menu as Wagtail's translation shows it
    (Korean "리포트", not "보고서"): an operator looks for that word in the sidebar."""
    with translation.override(language):
        reports = translation.gettext("Reports")  # Wagtail's catalogue
    assert reports != "Reports"
    mo = LOCALE / language / "LC_MESSAGES" / "django.mo"
    paths = {
        key: value
        for key, value in _catalog(mo).items()
        if isinstance(key, str) and "Reports → " in key
    }
    assert paths, "no message names the Reports menu any more"
    wrong = {key: value for key, value in paths.items() if f"{reports} → " not in value}
    assert not wrong, wrong
