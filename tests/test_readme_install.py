"""The README's "Install into an existing Wagtail site" section, followed literally.

Its shell command installs the built wheel (in place of the PyPI name) into a fresh virtualenv;
its settings, urls, models and template snippets go into a fresh ``wagtail start`` project
where each says; the ``python manage.py`` commands it names run in the order it names them.
Then the project's own dev server and the worker the README names (``qcluster``) run against
the bundled sandbox (the secrets come from the ``WAGTAIL_KOLLUS_<NAME>`` environment variables
the README points to). An admin logs in, opens the video chooser and the video library, chooses
a video as the chooser does, and creates a lesson **through the page editor's form** (the form
a browser posts, not the ORM) and publishes it. The editor is told nothing is missing before
publishing; the worker creates the lesson's content record with the README's settings; the
page renders ``{% kollus_player %}`` with a signed player URL. A step the README forgets fails
here.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
import time
import uuid
from html.parser import HTMLParser
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

get_user_model().objects.create_superuser("readme-admin", "a@example.com", "readme-pass")
home = Page.objects.get(depth=2)
print(json.dumps({
    "add_lesson": reverse("wagtailadmin_pages:add", args=("home", "lessonpage", home.pk)),
    "chooser": reverse("kollus_video_chooser:choose"),
    "chosen": reverse("kollus_video_chooser:chosen", args=["CHOICE"]),
    "library": reverse("kollus_media:index"),
}))
"""


def readme_settings(section: str) -> dict:
    """The settings the README's settings snippet sets, as Python sees them (added to what a
    ``wagtail start`` project has)."""
    code = next(code for language, code in snippets(section) if code.startswith("# settings.py"))
    namespace: dict = {"INSTALLED_APPS": [], "DATABASES": {"default": {}}}
    exec(code.replace("INSTALLED_APPS = [", "INSTALLED_APPS += [", 1), namespace)  # noqa: S102
    return namespace


class FormFields(HTMLParser):
    """The fields a browser would submit with the page editor's form, as rendered."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.select = form_id, False, None
        self.textarea: str | None = None
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside or "name" not in attrs and tag != "option":
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.append((attrs["name"], attrs.get("value") or ""))
        elif tag == "textarea":
            self.textarea = attrs["name"]
            self.fields.append((self.textarea, ""))
        elif tag == "select":
            self.select = attrs["name"]
        elif tag == "option" and self.select and "selected" in attrs:
            self.fields.append((self.select, attrs.get("value") or ""))

    def handle_data(self, data):
        if self.textarea is not None:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None


def editor_form(html: str) -> dict[str, str]:
    parser = FormFields("page-edit-form")
    parser.feed(html)
    return dict(parser.fields)


def playable_choice(sandbox: SandboxServer) -> tuple[str, str, str]:
    """(content title, "<content_id>-<item_id>", media content key) of a Kollus video item."""
    with sandbox.app.state.lock:
        for record in sandbox.app.state.contents.values():
            for chapter in record["chapters"]:
                for item in chapter["items"]:
                    if item.get("media_source_type") == "kollus" and item.get("media_url"):
                        title = next(iter(record["translations"].values()))["title"]
                        choice = f"{record['content_id']}-{item['item_id']}"
                        # A Kollus media URL (https://<player host>/<media content key>).
                        return title, choice, item["media_url"].rstrip("/").rsplit("/", 1)[-1]
    raise AssertionError("the sandbox seed has no Kollus video item")


def wait_until(probe, *, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, message()
        time.sleep(0.25)
    return value


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(contents=20) as server:
        yield server


def test_the_readme_q_cluster_keeps_the_sync_lease_rule():
    """timeout < SYNC_CLAIM_SECONDS <= retry (docs/sync.md): a job that outlives its task
    timeout has lost its page, and django-q2 redelivers it only once the lease is over."""
    from wagtail_kollus.conf import DEFAULTS

    q_cluster = readme_settings(readme_section())["Q_CLUSTER"]
    assert q_cluster["timeout"] < DEFAULTS["SYNC_CLAIM_SECONDS"] <= q_cluster["retry"]


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

    setup = subprocess.run([str(python), "manage.py", "shell", "-c", SETUP_SCRIPT], cwd=project,
                           env=env, capture_output=True, text=True)
    assert setup.returncode == 0, setup.stderr
    urls = json.loads(setup.stdout.strip().splitlines()[-1])

    port = free_port()
    processes = [
        subprocess.Popen(
            [str(python), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        ),
        # The worker the README says to run next to the web server.
        subprocess.Popen(
            [str(python), "manage.py", "qcluster"],
            cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        ),
    ]
    server = processes[0]
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

        # Choose a video as the chooser's item step does: the chosen view copies the item.
        _, choice, media_content_key = playable_choice(sandbox)
        chosen = browser.get(base + urls["chosen"].replace("CHOICE", choice), timeout=30)
        assert chosen.status_code == 200, chosen.text[:500]
        video_id = chosen.json()["result"]["id"]

        # The page editor: the lesson's form must offer the video field, and must not warn
        # that the content record would lack anything.
        editor = browser.get(base + urls["add_lesson"], timeout=30)
        assert editor.status_code == 200, editor.text[:500]
        fields = editor_form(editor.text)
        assert "title" in fields, "the page editor's form was not found"
        assert 'id="body' in editor.text or 'name="body' in editor.text, (
            "the lesson's editor has no video field (content_panels)"
        )
        assert "data-kollus-sync-missing" not in editor.text, re.search(
            r"data-kollus-sync-missing.*?</div>", editor.text, re.S
        ).group(0)
        fields.update({
            "title": "README lesson",
            "slug": "readme-lesson",
            # The StreamField as its widget posts it: one video block.
            "body-count": "1",
            "body-0-type": "video",
            "body-0-id": str(uuid.uuid4()),
            "body-0-order": "0",
            "body-0-deleted": "",
            "body-0-value-video": str(video_id),
            "action-publish": "action-publish",
        })
        published = browser.post(base + urls["add_lesson"], data=fields,
                                 headers={"Referer": base + urls["add_lesson"]},
                                 allow_redirects=False, timeout=30)
        assert published.status_code == 302, re.findall(
            r'class="[^"]*error[^"]*"[^>]*>(.*?)<', published.text, re.S
        ) or published.text[:1000]

        # The worker creates the lesson's record, with the README's settings.
        def record():
            with sandbox.app.state.lock:
                for record in sandbox.app.state.contents.values():
                    rendered = sandbox.app.state.render_content(record)
                    if rendered["title"] == "README lesson":
                        return rendered
            return None

        content = wait_until(record, timeout=60, message=lambda: (
            "no content record was created for the published lesson; worker: "
            + (processes[1].stderr.read() if processes[1].poll() is not None else "running")
        ))
        expected = readme_settings(section)["WAGTAIL_KOLLUS"]
        assert content["category_ids"] == expected["SYNC_DEFAULT_CATEGORY_IDS"]
        assert content["featured_image"] == expected["SYNC_DEFAULT_FEATURED_IMAGE"]
        assert content["status"] == "publish" and content["description_html"].strip()
        [chapter] = content["chapters"]
        assert [item["media_url"] for item in chapter["items"]] == [media_content_key]

        page = requests.get(base + "/readme-lesson/", timeout=30)
        assert page.status_code == 200, page.text[:500]
        player = re.search(r'<iframe[^>]+src="([^"]+)"', page.text)
        assert player and player.group(1).startswith(sandbox.player_url), page.text[-2000:]
        assert "jwt=" in player.group(1)
        for secret in (keys.security_key, keys.access_token, keys.server_key):
            assert secret not in page.text
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
