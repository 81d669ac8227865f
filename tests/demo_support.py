"""``make demo``'s own launcher (``scripts/demo.sh``), started for a test on free ports and a
database of its own, and an admin session logged in to it over HTTP."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = "demo-test-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class RunningDemo:
    base: str  # http://127.0.0.1:<site port>
    output: str  # what the launcher printed until the site answered
    sandbox_port: int
    log_path: Path  # everything the launcher's processes print, as they print it

    @property
    def sandbox(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

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
def running_demo(tmp_path: Path, *, startup_timeout: float = 180) -> Iterator[RunningDemo]:
    """``bash scripts/demo.sh <site port> <sandbox port>`` until the site answers; stopped
    on exit as a person stops it, with Ctrl-C (SIGINT to its process group)."""
    site_port, sandbox_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        EXAMPLE_SITE_DB=str(tmp_path / "demo.sqlite3"),
        SANDBOX_STATE_FILE=str(tmp_path / "sandbox-state.json"),
        DEMO_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    log = (tmp_path / "demo.log").open("w+")
    proc = subprocess.Popen(
        ["bash", "scripts/demo.sh", str(site_port), str(sandbox_port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{site_port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            log.seek(0)
            text = log.read()
            if "Admin:" in text:
                try:
                    requests.get(base + "/admin/login/", timeout=2)
                    break
                except requests.ConnectionError:
                    pass
            assert proc.poll() is None, f"make demo exited early:\n{text[-3000:]}"
            assert time.monotonic() < deadline, f"make demo did not come up in time:\n{text[-3000:]}"
            time.sleep(0.5)
        yield RunningDemo(base=base, output=text, sandbox_port=sandbox_port,
                          log_path=tmp_path / "demo.log")
    finally:
        # What Ctrl-C sends, as the launcher says to stop it. (SIGTERM to the group would kill
        # qcluster's workers mid-task and leave its main process hanging: see
        # test_deployment_process_managers.py. This took the full 20 s, then SIGKILL.)
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
