"""The product as ``make demo`` runs it, for the tests and benchmarks that need the real thing.

``demo_stack()`` starts ``scripts/demo.sh`` itself (the launcher ``make demo`` calls: migrate,
seed, the sandbox, ``qcluster``, runserver) on free ports with a fresh database and sandbox
state, waits until the admin answers and a worker is ready, and stops the whole process group
afterwards. ``tests/test_demo.py``, the journey test and the soak benchmark all use it, so what
they exercise is what a new user starts.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = ROOT / "example_site"
# The interpreter running the tests runs the site too: a nox cell tests its own versions.
PYTHON = Path(sys.executable)
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "demo-test-password"
CALLBACK_TOKEN = "demo-stack-callback-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@dataclass
class DemoStack:
    base: str  # the site, e.g. http://127.0.0.1:PORT
    sandbox: str  # the sandbox, e.g. http://127.0.0.1:PORT
    sandbox_port: int
    log_path: Path
    env: dict
    process: subprocess.Popen

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def run_python(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run ``python <args>`` in the site's directory, settings and database."""
        return subprocess.run(
            [str(PYTHON), *args], cwd=SITE_DIR, env=self.env, capture_output=True, text=True,
            timeout=timeout,
        )

    def worker_pids(self) -> list[int]:
        """django-q2 worker processes alive now (each logs "ready for work at <pid>")."""
        pids = {int(pid) for pid in re.findall(r"ready for work at (\d+)", self.log())}
        return sorted(pid for pid in pids if _alive(pid))

    def callback_url(self, kind: str) -> str:
        return f"{self.base}/kollus/callbacks/{kind}/{CALLBACK_TOKEN}/"


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
def demo_stack(
    workdir: Path,
    *,
    settings: str | None = None,
    database_url: str | None = None,
    startup_timeout: float = 300,
) -> Iterator[DemoStack]:
    """``scripts/demo.sh`` on free ports, with its database and sandbox state in ``workdir``.

    ``settings``: a settings module instead of the example site's (the soak shortens timings);
    ``database_url``: a PostgreSQL URL instead of the SQLite file (``settings`` must read it).
    """
    site_port, sandbox_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT), str(SITE_DIR)]),
        EXAMPLE_SITE_DB=str(workdir / "site.sqlite3"),
        SANDBOX_STATE_FILE=str(workdir / "sandbox-state.json"),
        DEMO_ADMIN_PASSWORD=ADMIN_PASSWORD,
        DEMO_PYTHON=str(PYTHON),
        KOLLUS_CALLBACK_TOKEN=CALLBACK_TOKEN,
        PYTHONUNBUFFERED="1",
    )
    if settings:
        env["DJANGO_SETTINGS_MODULE"] = settings
    if database_url:
        env["DATABASE_URL"] = database_url
    log_path = workdir / "demo.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "demo.sh"), str(site_port), str(sandbox_port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    stack = DemoStack(
        f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{sandbox_port}", sandbox_port,
        log_path, env, process,
    )
    try:
        _wait_until_up(stack, startup_timeout)
        yield stack
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _wait_until_up(stack: DemoStack, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise RuntimeError(f"make demo's launcher exited early:\n{stack.log()[-4000:]}")
        if "Admin:" in stack.log() and stack.worker_pids():
            try:
                requests.get(stack.base + "/admin/login/", timeout=2)
                return
            except requests.ConnectionError:
                pass
        time.sleep(0.5)
    raise RuntimeError(f"make demo did not come up in {timeout} s:\n{stack.log()[-4000:]}")


def admin_session(base: str, password: str = ADMIN_PASSWORD) -> requests.Session:
    """A ``requests`` session logged in to the admin as the demo's printed login."""
    session = requests.Session()
    page = session.get(base + "/admin/login/", timeout=30).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    answer = session.post(
        base + "/admin/login/",
        data={"username": ADMIN_USERNAME, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": base + "/admin/login/"},
        timeout=30,
    )
    if not answer.url.rstrip("/").endswith("/admin"):
        raise AssertionError("the demo's printed login does not work")
    return session
