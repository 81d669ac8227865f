"""The README's "Install into an existing Wagtail site" section, followed literally.

Its shell command installs the built wheel (in place of the PyPI name) into a fresh virtualenv;
its settings, urls, models and template snippets go into a fresh ``wagtail start`` project
where each says; the ``python manage.py`` commands it names run in the order it names them.
Then the project's own dev server runs against the bundled sandbox (the secrets come from the
``WAGTAIL_KOLLUS_<NAME>`` environment variables the README points to), an admin logs in, opens
the video chooser and the video library, and a page renders ``{% kollus_player %}`` with a
signed player URL. A step the README forgets fails here.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.packaging_support import (
    GROUP,
    ROOT,
    built_distributions,
    fresh_virtualenv,
    pip_command,
    project_environment,
    wagtail_start,
)
from wagtail_kollus.sandbox.testing import SandboxServer

pytestmark = pytest.mark.xdist_group(GROUP)

SECTION = "## Install into an existing Wagtail site"
EXAMPLE_CONTENTS_API_URL = "https://your-site.example.com/api/public/v1"
# Where a snippet's "# settings.py"-style first line sends it in a ``wagtail start`` project.
SNIPPET_FILES = {
    "settings.py": "mysite/settings/base.py",
    "urls.py": "mysite/urls.py",
    "models.py": "home/models.py",
}
# What a long-running command the README names needs, rather than a run to completion.
LONG_RUNNING = {"qcluster"}


def readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(SECTION) + len(SECTION)
    end = text.find("\n## ", start)
    return text[start:end if end != -1 else None]


def snippets(section: str) -> list[tuple[str, str]]:
    """(language, code) of each fenced block, in order."""
    return re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S)


def manage_commands(section: str) -> list[list[str]]:
    """The ``python manage.py ...`` commands named in the prose after the snippets."""
    prose = section[section.rindex("```") + 3:]
    return [shlex.split(code) for code in re.findall(r"`(python manage\.py [^`]+)`", prose)]


def apply_settings(project: Path, code: str, sandbox: SandboxServer) -> None:
    # "INSTALLED_APPS = [ # ... " in a README means "add these to your list".
    code = code.replace("INSTALLED_APPS = [", "INSTALLED_APPS += [", 1)
    # The one value a reader replaces with their own: here, the sandbox's contents API.
    code = code.replace(EXAMPLE_CONTENTS_API_URL, sandbox.contents_api_url)
    target = project / SNIPPET_FILES["settings.py"]
    target.write_text(target.read_text() + "\n" + code)


def apply_urls(project: Path, code: str) -> None:
    """Each README line the project's urls.py lacks goes in before Wagtail's catch-all."""
    target = project / SNIPPET_FILES["urls.py"]
    lines = target.read_text().splitlines()
    present = {line.strip() for line in lines}
    missing = [line.strip() for line in code.splitlines()[1:]
               if line.strip() and line.strip() not in present
               and line.strip() not in ("urlpatterns = [", "]")]
    assert missing, "the README's urls.py snippet adds nothing"
    catch_all = next(i for i, line in enumerate(lines)
                     if line.strip() == 'path("", include(wagtail_urls)),')
    lines[catch_all:catch_all] = ["    " + line for line in missing]
    target.write_text("\n".join(lines) + "\n")


def apply_snippet(project: Path, language: str, code: str, sandbox: SandboxServer) -> None:
    first = code.splitlines()[0]
    if language == "python":
        name = first.lstrip("# ").split()[0]
        if name == "settings.py":
            apply_settings(project, code, sandbox)
        elif name == "urls.py":
            apply_urls(project, code)
        else:
            target = project / SNIPPET_FILES[name]
            target.write_text(target.read_text() + "\n\n" + code)
    elif language == "django":
        path = re.match(r"\{#\s*(\S+?):?\s", first).group(1)
        (project / path).write_text(code)
    else:
        raise AssertionError(f"the README has a {language} snippet this test cannot follow")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SETUP_SCRIPT = """
import json
from django.contrib.auth import get_user_model
from django.urls import reverse
from wagtail.models import Page
from home.models import LessonPage
from wagtail_kollus.models import KollusVideo

get_user_model().objects.create_superuser("readme-admin", "a@example.com", "readme-pass")
video = KollusVideo.objects.create(title="README video", media_content_key=MCK)
body = json.dumps([{"type": "video", "value": {"video": video.pk}}])
lesson = LessonPage(title="Lesson", slug="lesson", body=body)
Page.objects.get(depth=2).add_child(instance=lesson)
lesson.save_revision().publish()
print(json.dumps({
    "page": lesson.url,
    "chooser": reverse("kollus_video_chooser:choose"),
    "library": reverse("kollus_media:index"),
}))
"""


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(contents=20) as server:
        yield server


def playable_media_key(sandbox: SandboxServer) -> str:
    with sandbox.app.state.lock:
        for media in sandbox.app.state.media.values():
            if media["channels"]:
                return media["channels"][0]["media_content_key"]
    raise AssertionError("the sandbox seed has no playable media")


def test_the_readme_install_section_works_in_a_fresh_project(tmp_path_factory, tmp_path, sandbox):
    section = readme_section()
    _, wheel = built_distributions(tmp_path_factory)
    python = fresh_virtualenv(tmp_path / "venv")
    env = project_environment()
    project = wagtail_start(python, tmp_path, env)

    shell = [code for language, code in snippets(section) if language == "sh"]
    assert shell == ["pip install wagtail-kollus\n"], "the README's install command changed"
    pip, *arguments = shlex.split(shell[0].replace("wagtail-kollus", str(wheel)))
    assert pip == "pip"
    subprocess.run([*pip_command(python), *arguments], check=True, env=env, capture_output=True)

    for language, code in snippets(section):
        if language != "sh":
            apply_snippet(project, language, code, sandbox)

    # The secrets, where the README says they come from; the hosts are the sandbox's.
    keys = sandbox.keys
    env.update({
        "WAGTAIL_KOLLUS_CONTENTS_API_KEY": keys.server_key,
        "WAGTAIL_KOLLUS_KOLLUS_ACCESS_TOKEN": keys.access_token,
        "WAGTAIL_KOLLUS_KOLLUS_SECURITY_KEY": keys.security_key,
        "WAGTAIL_KOLLUS_KOLLUS_CUSTOM_KEY": keys.custom_key,
        "WAGTAIL_KOLLUS_KOLLUS_SERVICE_ACCOUNT_KEY": keys.service_account_key,
        "WAGTAIL_KOLLUS_CALLBACK_TOKEN": "readme-callback-token-0123456789",
        "WAGTAIL_KOLLUS_KOLLUS_API_URL": sandbox.kollus_api_url,
        "WAGTAIL_KOLLUS_PLAYER_URL": sandbox.player_url,
    })

    commands = manage_commands(section)
    names = [command[2] for command in commands]
    assert names[:3] == ["makemigrations", "migrate", "check"] and "qcluster" in names, names
    for command in commands:
        if command[2] in LONG_RUNNING:
            continue
        result = subprocess.run([str(python), *command[1:]], cwd=project, env=env,
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
        if command[2] == "check":
            assert "System check identified no issues" in result.stdout, result.stdout

    script = SETUP_SCRIPT.replace("MCK", repr(playable_media_key(sandbox)))
    setup = subprocess.run([str(python), "manage.py", "shell", "-c", script], cwd=project,
                           env=env, capture_output=True, text=True)
    assert setup.returncode == 0, setup.stderr
    urls = json.loads(setup.stdout.strip().splitlines()[-1])

    port = free_port()
    server = subprocess.Popen(
        [str(python), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(base + "/admin/login/", timeout=2)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "the dev server did not start"
                time.sleep(0.2)

        browser = requests.Session()
        login = browser.get(base + "/admin/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        logged_in = browser.post(
            base + "/admin/login/",
            data={"csrfmiddlewaretoken": token, "username": "readme-admin",
                  "password": "readme-pass", "next": "/admin/"},
            headers={"Referer": base + "/admin/login/"}, timeout=10,
        )
        assert logged_in.url.rstrip("/").endswith("/admin"), logged_in.url

        chooser = browser.get(base + urls["chooser"], timeout=30)
        assert chooser.status_code == 200, chooser.text[:500]
        titles = [translation["title"] for record in sandbox.app.state.contents.values()
                  for translation in record["translations"].values()]
        assert any(title in chooser.text for title in titles), "the chooser lists no content"

        library = browser.get(base + urls["library"], timeout=30)
        assert library.status_code == 200 and library.url == base + urls["library"]

        page = requests.get(base + urls["page"], timeout=30)
        assert page.status_code == 200, page.text[:500]
        player = re.search(r'<iframe[^>]+src="([^"]+)"', page.text)
        assert player and player.group(1).startswith(sandbox.player_url), page.text[-2000:]
        assert "jwt=" in player.group(1)
        for secret in (keys.security_key, keys.access_token, keys.server_key):
            assert secret not in page.text
    finally:
        server.terminate()
        server.wait(timeout=10)
