"""docs/deployment.md's systemd and supervisor examples stop ``qcluster`` in seconds, with the
task in hand finished.

django-q2's main process stops the cluster on SIGTERM: the sentinel stops taking tasks, sends
each worker a poison pill after its current task, and everything exits. But the sentinel and
the workers leave SIGTERM at its default, so a signal to the whole process group (systemd's
default ``KillMode=control-group``, supervisor's ``stopasgroup=true``) kills them mid-task, and
the main process then waits forever inside ``stop_event.set()`` for the dead sentinel to wake
(a ``multiprocessing`` condition counts its sleepers): only the manager's SIGKILL ends it.

This test reads each example, works out whom it signals with what, and does exactly that to a
real ``qcluster`` (the docs' ORM ``Q_CLUSTER`` on a SQLite file with the docs' options) while a
worker runs a task.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from wagtail_kollus.checks import SQLITE_OPTIONS

from .docs_support import run_example

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENT = ROOT / "docs" / "deployment.md"
TASK_SECONDS = 2.0
# The task in hand, then the sentinel's own stopping (pusher, poison pills, monitor).
STOPS_WITHIN = TASK_SECONDS + 8.0


@dataclass(frozen=True)
class StopPattern:
    manager: str
    signal: signal.Signals
    whole_group: bool  # the stop signal goes to every process of the group, not the main one
    kills_group_after_timeout: bool  # the final SIGKILL reaches every process
    timeout: float  # seconds between the stop signal and the SIGKILL


def ini_examples() -> dict[str, configparser.ConfigParser]:
    """The ``ini`` blocks of docs/deployment.md, by the file name on their first line."""
    found = {}
    for block in re.findall(r"```ini\n(.*?)```", DEPLOYMENT.read_text(encoding="utf-8"), re.S):
        name = block.splitlines()[0].lstrip("#; ").strip()
        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str  # systemd keys are case-sensitive
        parser.read_string(block)
        found[name] = parser
    return found


def documented_patterns() -> list[StopPattern]:
    examples = ini_examples()
    unit = next(p for name, p in examples.items() if name.endswith(".service"))["Service"]
    program = next(p for name, p in examples.items() if "supervisor" in name)
    program = program[next(s for s in program.sections() if s.startswith("program:"))]
    kill_mode = unit.get("KillMode", "control-group")  # systemd's default
    stopasgroup = program.getboolean("stopasgroup", fallback=False)
    return [
        StopPattern(
            manager="systemd",
            signal=signal.Signals[unit.get("KillSignal", "SIGTERM")],
            whole_group=kill_mode == "control-group",
            kills_group_after_timeout=kill_mode in ("control-group", "mixed"),
            timeout=float(unit.get("TimeoutStopSec", "90")),
        ),
        StopPattern(
            manager="supervisor",
            signal=signal.Signals["SIG" + program.get("stopsignal", "TERM")],
            whole_group=stopasgroup,
            # supervisor: stopasgroup implies killasgroup.
            kills_group_after_timeout=stopasgroup or program.getboolean("killasgroup", False),
            timeout=float(program.get("stopwaitsecs", "10")),
        ),
    ]


def docs_q_cluster() -> dict:
    q_cluster = run_example("deployment.md", "deployment-q-cluster-orm")["Q_CLUSTER"]
    assert q_cluster["orm"] == "default"
    return q_cluster


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict[str, str]:
    """A project of one app, django_q, migrated: the environment to run its commands in."""
    root = tmp_path_factory.mktemp("qsite")
    (root / "qsite_settings.py").write_text(
        "import json, os\n"
        "SECRET_KEY = 'process-manager-test'\n"
        "INSTALLED_APPS = ['django_q']\n"
        "USE_TZ = True\n"
        "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3',\n"
        "    'NAME': os.environ['QSITE_DB'], 'OPTIONS': json.loads(os.environ['QSITE_OPTIONS'])}}\n"
        "Q_CLUSTER = json.loads(os.environ['QSITE_Q_CLUSTER'])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="qsite_settings",
        PYTHONPATH=str(root),
        QSITE_DB=str(root / "db.sqlite3"),
        QSITE_OPTIONS=json.dumps(SQLITE_OPTIONS),
        QSITE_Q_CLUSTER=json.dumps(docs_q_cluster()),
    )
    manage(env, "migrate", "--verbosity", "0")
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "django", *args], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def query(env: dict[str, str], code: str) -> str:
    """What ``code`` prints last (Django 5.2's shell may first list what it imported)."""
    return manage(env, "shell", "-c", code).strip().splitlines()[-1]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_examples_signal_the_main_process_and_kill_the_group_only_after_the_timeout():
    q_timeout = docs_q_cluster()["timeout"]
    for pattern in documented_patterns():
        assert pattern.signal in (signal.SIGTERM, signal.SIGINT), pattern
        assert not pattern.whole_group, f"{pattern.manager} signals the whole process group"
        assert pattern.kills_group_after_timeout, f"{pattern.manager} may leave orphans"
        assert pattern.timeout > q_timeout, f"{pattern.manager} kills a task that may still end"


@pytest.mark.parametrize("pattern", documented_patterns(), ids=lambda p: p.manager)
def test_qcluster_stopped_as_documented_exits_in_seconds_with_its_task_done(
    site, tmp_path, pattern
):
    log_path = tmp_path / "qcluster.log"
    with log_path.open("w") as log:
        cluster = subprocess.Popen([sys.executable, "-m", "django", "qcluster"], env=site,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        task_id = query(
            site,
            "from django_q.tasks import async_task; "
            f"print(async_task('time.sleep', {TASK_SECONDS}))",
        )
        deadline = time.monotonic() + 30
        while "processing" not in log_path.read_text():  # a worker has the task in hand
            assert cluster.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the cluster never took the task"
            time.sleep(0.05)

        signalled = time.monotonic()
        if pattern.whole_group:
            os.killpg(cluster.pid, pattern.signal)
        else:
            os.kill(cluster.pid, pattern.signal)
        try:
            cluster.wait(timeout=STOPS_WITHIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{pattern.manager}: qcluster still running {STOPS_WITHIN} s after the "
                        f"stop signal:\n{log_path.read_text()[-2000:]}")
        stopped_after = time.monotonic() - signalled
        while group_alive(cluster.pid) and time.monotonic() - signalled < STOPS_WITHIN:
            time.sleep(0.05)
        assert not group_alive(cluster.pid), "cluster processes outlived qcluster"
    finally:
        if group_alive(cluster.pid):
            os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait()

    # The task in hand was finished, not killed and left for a redelivery `retry` s later.
    done = query(site, "from django_q.models import Success, OrmQ; "
                       f"print(Success.objects.filter(id={task_id!r}).count(), "
                       "OrmQ.objects.count())")
    assert done == "1 0", f"{pattern.manager}: (finished, still queued) = {done}"
    assert stopped_after < STOPS_WITHIN
