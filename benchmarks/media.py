"""Video lifecycle benchmarks.

* ``callback_p99_ms``: 99th percentile latency of a Kollus callback (token check, delivery
  log, django-q2 enqueue on commit) answered by a real threaded WSGI server. Kollus wants 200
  within 3 s; we promise ≤ 50 ms.
* ``callback_throughput_ratio``: callbacks per second ÷ requests per second of a bare Django
  view answering 200 on the same server in the same run, 4 concurrent clients (≥ 0.5).
* ``upload_command_rss_growth_mib``: peak RSS growth of ``manage.py kollus_upload`` sending a
  1 GiB file to the sandbox (≤ 64). ``BENCH_MEDIA_UPLOAD_MIB`` changes the size for quick runs.

The server and the upload each run in a fresh interpreter on a throwaway SQLite database, so
their numbers do not include other benchmark groups' memory or rows. The callback database
lives on tmpfs (``/dev/shm``) when there is one (``BENCH_MEDIA_DB_DIR`` overrides): on a
virtual disk one SQLite commit's fsync costs 20–60 ms, which would measure the disk rather
than the plugin (production sites use PostgreSQL). A callback costs one commit.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from . import ROOT

TARGETS = {
    "callback_p99_ms": ("<=", 50),
    "callback_throughput_ratio": (">=", 0.5),
    "upload_command_rss_growth_mib": ("<=", 64),
}

TOKEN = "test-callback-token-0123456789"  # tests/settings.py
ACCOUNT = "sandbox-account"

# --- URLs served by the benchmark server (ROOT_URLCONF = "benchmarks.media") -------------------


def _bare_view(request):
    from django.http import HttpResponse

    return HttpResponse("OK", content_type="text/plain")


_bare_view.csrf_exempt = True  # like the callback views: a fair baseline


def _urlpatterns() -> list:
    from django.urls import include, path

    return [
        path("bare/", _bare_view),
        path("kollus/", include("wagtail_kollus.urls")),
    ]


def __getattr__(name: str):
    # Lazy, so importing this module for ``run()`` does not need Django configured.
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


# --- child processes -----------------------------------------------------------------------------

_CHILD_SETUP = r"""
import os, sys, json, resource
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
from django.conf import settings
settings.DATABASES["default"]["NAME"] = {db!r}
settings.DATABASES["default"]["TEST"] = {{}}
# What Django's docs recommend for SQLite under concurrent writes: WAL, and taking the write
# lock at BEGIN (otherwise writers spin in SQLite's sleeping busy handler).
settings.DATABASES["default"]["CONN_MAX_AGE"] = 60  # persistent connections, as in production
settings.DATABASES["default"]["OPTIONS"] = {{
    "timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;",
}}
settings.ROOT_URLCONF = "benchmarks.media"
settings.WAGTAIL_KOLLUS = {{**settings.WAGTAIL_KOLLUS, **json.loads({overrides!r})}}
import django
django.setup()
from django.db import connection
from django_q.models import OrmQ
from wagtail_kollus.models import CallbackDelivery, KollusMedia
with connection.schema_editor() as editor:
    for model in (CallbackDelivery, KollusMedia.uploaded_by.field.related_model, KollusMedia, OrmQ):
        if model._meta.db_table not in connection.introspection.table_names():
            editor.create_model(model)
connection.close()
"""

_SERVER = r"""
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

import socket

class QuietHandler(WSGIRequestHandler):
    def setup(self):
        super().setup()
        # Like production servers: without this, Nagle + delayed ACK add ~40 ms to every
        # keep-alive answer (headers and body are written separately).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
server.set_app(WSGIHandler())
print(server.server_address[1], flush=True)
import threading
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()  # until the parent closes our stdin
server.shutdown()
"""

_UPLOAD = r"""
from io import StringIO
from django.core.management import call_command
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
call_command("kollus_upload", {path!r}, "--no-progress", stdout=StringIO())
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"before_kib": before, "after_kib": after}}))
"""


def _child_script(body: str, db: str, overrides: dict | None = None, **values: str) -> str:
    setup = _CHILD_SETUP.format(root=str(ROOT), db=db, overrides=json.dumps(overrides or {}))
    return setup + body.format(**values)


# --- callbacks -------------------------------------------------------------------------------------


def _payload(i: int) -> dict[str, str]:
    return {
        "content_provider_key": ACCOUNT,
        "filename": f"clip-{i}",
        "upload_file_key": f"bench-{i}-{time.time_ns()}",
        "transcoding_result": "success",
    }


def _hammer(url: str, count: int, threads: int, make_data) -> float:
    """Requests per second of ``threads`` keep-alive clients sending ``count`` requests each."""
    errors: list[str] = []

    def worker(offset: int) -> None:
        session = requests.Session()
        for i in range(count):
            response = session.post(url, data=make_data(offset * count + i), timeout=10)
            if response.status_code != 200:
                errors.append(str(response.status_code))

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed: {errors[:5]}")
    return threads * count / elapsed


def _db_dir() -> str | None:
    wanted = os.environ.get("BENCH_MEDIA_DB_DIR")
    if wanted:
        return wanted
    return "/dev/shm" if os.path.isdir("/dev/shm") else None


def measure_callbacks(calls: int, threads: int = 4) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=_db_dir()) as tmp:
        db = str(Path(tmp) / "bench.sqlite3")
        # The server's log (django-q2 logs every enqueue at INFO) goes to a file, as on a real
        # server; a terminal would make each log line cost more than the callback itself.
        log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115 (closed below)
        process = subprocess.Popen(
            [sys.executable, "-c", _child_script(_SERVER, db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=str(ROOT),
        )
        try:
            port = int(process.stdout.readline())
            base = f"http://127.0.0.1:{port}"
            callback_url = f"{base}/kollus/callbacks/transcoding/{TOKEN}/"
            bare_url = f"{base}/bare/"
            session = requests.Session()
            for i in range(50):  # warm up both paths
                session.post(callback_url, data=_payload(-i - 1), timeout=10).raise_for_status()
                session.post(bare_url, data=_payload(0), timeout=10).raise_for_status()
            latencies = []
            for i in range(calls):
                data = _payload(i)
                started = time.perf_counter()
                response = session.post(callback_url, data=data, timeout=10)
                latencies.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            latencies.sort()
            per_thread = max(calls // threads, 50)
            # Interleave the two measurements so drift (disk, CPU boost) hits both alike.
            callback_rps, bare_rps = [], []
            for _ in range(3):
                callback_rps.append(_hammer(callback_url, per_thread, threads, _payload))
                bare_rps.append(_hammer(bare_url, per_thread, threads, _payload))
        finally:
            process.stdin.close()
            process.wait(timeout=30)
            log.close()
    return {
        "callback_p50_ms": statistics.median(latencies),
        "callback_p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "callback_rps": max(callback_rps),
        "bare_view_rps": max(bare_rps),
        "callback_throughput_ratio": max(callback_rps) / max(bare_rps),
    }


# --- kollus_upload memory --------------------------------------------------------------------------


def measure_upload_command(size_mib: int) -> dict[str, float]:
    from wagtail_kollus.sandbox.testing import SandboxServer

    with tempfile.TemporaryDirectory() as tmp, SandboxServer() as sandbox:
        path = Path(tmp) / "big.mp4"
        with path.open("wb") as handle:
            handle.truncate(size_mib * 1024 * 1024)  # sparse: no disk, same bytes on the wire
        overrides = {
            k: v
            for k, v in sandbox.kollus_settings().items()
            if k.startswith("KOLLUS_") or k in ("CALLBACK_TOKEN",)
        }
        script = _child_script(_UPLOAD, str(Path(tmp) / "upload.sqlite3"), overrides, path=str(path))
        started = time.perf_counter()
        output = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            cwd=str(ROOT),
            timeout=1800,
        )
        elapsed = time.perf_counter() - started
        rss = json.loads(output.stdout.strip().splitlines()[-1])
        uploaded = [m for m in sandbox.state.media.values() if m["original_file_name"] == "big.mp4"]
        if not uploaded or uploaded[0]["original_file_size"] != size_mib * 1024 * 1024:
            raise RuntimeError("the sandbox did not receive the whole file")
    return {
        "upload_command_rss_growth_mib": (rss["after_kib"] - rss["before_kib"]) / 1024,
        "upload_command_mb_s": size_mib / elapsed,
    }


def run() -> dict[str, float]:
    calls = int(os.environ.get("BENCH_CALLBACKS", "1000"))
    size_mib = int(os.environ.get("BENCH_MEDIA_UPLOAD_MIB", "1024"))
    results = measure_callbacks(calls, threads=int(os.environ.get("BENCH_MEDIA_THREADS", "4")))
    results.update(measure_upload_command(size_mib))
    return results
