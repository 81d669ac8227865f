"""``make demo``'s own launcher (``scripts/demo.sh``), started for a test on free ports and a
database of its own, and an admin session logged in to it over HTTP.

Everything that starts the product as a new user does uses this one helper: ``test_demo.py``,
the journey test and the soak benchmark (``benchmarks/soak.py``), so what they exercise is
what ``make demo`` starts.
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = ROOT / "example_site"
# The interpreter running the tests runs the site too: a nox cell tests its own versions.
PYTHON = Path(sys.executable)
ADMIN_PASSWORD = "demo-test-password"
CALLBACK_TOKEN = "demo-callback-token-0123456789"  # scripts/demo.sh's default, as make demo runs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stat_fields(pid: int | str) -> list[str]:
    """``/proc/<pid>/stat`` after the command name: state, ppid, process group, ..."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()
    except OSError:
        return []


def _alive(pid: int) -> bool:
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] not in ("Z", "X")


def _command_line(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "(gone)"


def _group_left(pgid: int, timeout: float) -> list[str]:
    """The live processes of group ``pgid`` still there after ``timeout`` seconds (zombies
    do not count: a container's init may be slow to reap the launcher's orphans)."""
    deadline = time.monotonic() + timeout
    while True:
        left = [
            f"{pid} {_command_line(pid)}"
            for pid in os.listdir("/proc")
            if pid.isdigit() and (fields := _stat_fields(pid))
            and fields[2] == str(pgid) and fields[0] not in ("Z", "X")
        ]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


@dataclass(frozen=True)
class RunningDemo:
    base: str  # http://127.0.0.1:<site port>
    output: str  # what the launcher printed until the site answered
    sandbox_port: int
    log_path: Path  # everything the launcher's processes print, as they print it
    env: dict  # the environment the launcher's processes run with

    @property
    def sandbox(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def callback_url(self, kind: str) -> str:
        """Where Kollus would post ``kind`` callbacks for this demo (the token is the demo's)."""
        return f"{self.base}/kollus/callbacks/{kind}/{CALLBACK_TOKEN}/"

    def run_python(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """``python <args>`` in the site's directory, settings and database."""
        return subprocess.run(
            [str(PYTHON), *args], cwd=SITE_DIR, env=self.env, capture_output=True, text=True,
            timeout=timeout,
        )

    def worker_pids(self) -> list[int]:
        """django-q2 worker processes alive now (each logs "ready for work at <pid>")."""
        pids = {int(pid) for pid in re.findall(r"ready for work at (\d+)", self.log())}
        return sorted(pid for pid in pids if _alive(pid))

    def admin_session(self) -> requests.Session:
        """A session logged in as the demo's admin, through the login form."""
        session = requests.Session()
        login = session.get(self.base + "/admin/login/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        response = session.post(
            self.base + "/admin/login/",
            data={"username": "admin", "password": ADMIN_PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": self.base + "/admin/login/"},
            timeout=30,
        )
        assert response.url.rstrip("/").endswith("/admin"), "the demo's login does not work"
        return session


@contextmanager
def postgres_database() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (``scripts/postgres.sh``); yields its DATABASE_URL."""
    script = str(ROOT / "scripts" / "postgres.sh")
    lines = subprocess.run(
        ["bash", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    pgdata = next(line.split("=", 1)[1] for line in lines if line.startswith("PGDATA="))
    try:
        yield lines[-1]
    finally:
        subprocess.run(["bash", script, "stop", pgdata], capture_output=True)


@contextmanager
def running_demo(
    tmp_path: Path,
    *,
    startup_timeout: float = 180,
    settings: str | None = None,
    database_url: str | None = None,
) -> Iterator[RunningDemo]:
    """``bash scripts/demo.sh <site port> <sandbox port>`` until the site answers and a
    django-q2 worker is ready; stopped on exit as a person stops it, with Ctrl-C (SIGINT to
    its process group).

    ``settings``: a settings module instead of the example site's (the soak shortens its
    timings); ``database_url``: PostgreSQL instead of the SQLite file (``settings`` reads it).
    """
    site_port, sandbox_port = free_port(), free_port()
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "KOLLUS_CALLBACK_TOKEN"))
    }
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT), str(SITE_DIR)]),
        EXAMPLE_SITE_DB=str(tmp_path / "demo.sqlite3"),
        SANDBOX_STATE_FILE=str(tmp_path / "sandbox-state.json"),
        DEMO_ADMIN_PASSWORD=ADMIN_PASSWORD,
        DEMO_PYTHON=str(PYTHON),
        PYTHONUNBUFFERED="1",
    )
    if settings:
        env["DJANGO_SETTINGS_MODULE"] = settings
    if database_url:
        env["DATABASE_URL"] = database_url
    log_path = tmp_path / "demo.log"
    log = log_path.open("w+")
    proc = subprocess.Popen(
        ["bash", "scripts/demo.sh", str(site_port), str(sandbox_port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{site_port}"
    finished = False
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            log.seek(0)
            text = log.read()
            if "Admin:" in text and re.search(r"ready for work at (\d+)", text):
                try:
                    requests.get(base + "/admin/login/", timeout=2)
                    break
                except requests.ConnectionError:
                    pass
            assert proc.poll() is None, f"make demo exited early:\n{text[-3000:]}"
            assert time.monotonic() < deadline, f"make demo did not come up in time:\n{text[-3000:]}"
            time.sleep(0.5)
        yield RunningDemo(base=base, output=text, sandbox_port=sandbox_port,
                          log_path=log_path, env=env)
        finished = True
    finally:
        # What Ctrl-C sends, as the launcher says to stop it. (SIGTERM to the group would kill
        # qcluster's workers mid-task and leave its main process hanging: see
        # test_deployment_process_managers.py. This took the full 20 s, then SIGKILL.)
        os.killpg(proc.pid, signal.SIGINT)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
        left = _group_left(proc.pid, timeout=10)
        if left:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        # The README says Ctrl-C stops everything: a process still running would keep its
        # port and, for qcluster, take tasks from the next run's database. (Only when the
        # test itself passed, not to hide its own failure.)
        if finished:
            assert not left, f"Ctrl-C left these running after 30 s: {left}"


def stream_form_data(edit_page: str, field: str = "body") -> dict[str, str]:
    """A StreamField's inputs, which the editor's JavaScript builds from the block data."""
    # Imported here: wagtail.test.utils needs Django configured, which the soak's own process
    # (it only speaks HTTP to the demo) may not be.
    from wagtail.test.utils.form_data import nested_form_data, streamfield

    encoded = re.search(r'data-w-block-arguments-value="([^"]*)"', edit_page).group(1)
    blocks = json.loads(html.unescape(encoded))[0]
    items = []
    for block in blocks:
        value = block["value"]
        if block["type"] == "video":  # the chooser's form state → the chosen row's id
            value = {**value, "video": value["video"]["id"], "title_override": ""}
        items.append((block["type"], value))
    return nested_form_data({field: streamfield(items)})


def publish_page(session: requests.Session, edit_url: str, **changes: str) -> requests.Response:
    """What the editor's "Publish" button posts: the edit form as loaded, with ``changes``."""
    from wagtail.test.utils.form_data import querydict_from_html

    edit_page = session.get(edit_url, timeout=30).text
    form = querydict_from_html(edit_page, form_id="page-edit-form", exclude_csrf=False).copy()
    for name, value in stream_form_data(edit_page).items():
        form[name] = value
    for name, value in changes.items():
        form[name] = value
    form["action-publish"] = "action-publish"
    return session.post(edit_url, data=form, headers={"Referer": edit_url},
                        allow_redirects=False, timeout=60)
