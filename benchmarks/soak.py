"""Soak: the product as ``make demo`` runs it, under chaos, must lose nothing.

For each database (a file SQLite with the example site's settings, and the throwaway PostgreSQL
of ``scripts/postgres.sh``), this starts the demo's own launcher (``scripts/demo.sh``: the
sandbox, ``qcluster`` with 2 workers, runserver), then for a while, all at once:

* publishes course pages through the Wagtail admin's edit form from several threads;
* sends Kollus platform callbacks the way Kollus does (form POSTs to the callback URL, resent
  until answered 200), with exact duplicates and out-of-order kinds;
* cuts the contents API and the Kollus API in turn (503s, dropped connections, slow answers);
* SIGKILLs django-q2 worker processes at random (the cluster's sentinel starts new ones).

Then it stops the chaos, waits for quiet and counts what a user would call lost. It writes
``benchmarks/results/soak.json`` (``make bench ONLY=soak``): for each ``<db>``,
``soak_publishes_<db>``, ``soak_callbacks_<db>``, ``soak_kills_<db>``, ``soak_http_500_<db>``,
``soak_lost_deliveries_<db>``, ``soak_unsynced_pages_<db>``, ``soak_duplicate_records_<db>``,
``soak_stuck_<db>`` (all of these last five must be 0) and ``soak_seconds_to_quiet_<db>``.
``tests/test_soak.py`` runs a short version (SQLite, well under a minute of chaos) in ``make test``.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.demo_support import RunningDemo, postgres_database, publish_page, running_demo

SOAK_SETTINGS = "benchmarks.soak_settings"
SERVICE_ACCOUNT_KEY = "sandbox-account"  # the sandbox's documented demo keys
SANDBOX_ACCESS_TOKEN = "sandbox-access-token"
SANDBOX_SERVER_KEY = "sandbox-server-key"
# Kollus expects an answer within 3 s and otherwise sends the callback again (every 5 minutes,
# up to 3 more times; compressed here).
CALLBACK_TIMEOUT = 3.0
CALLBACK_RESENDS = 3
ZERO_METRICS = ("http_500", "lost_deliveries", "unsynced_pages", "duplicate_records", "stuck")
TARGETS = {
    f"soak_{metric}_{db}": ("<=", 0) for db in ("sqlite", "postgres") for metric in ZERO_METRICS
}


@dataclass(frozen=True)
class SoakPlan:
    """How long and how hard. The full run is the benchmark; ``short`` is for ``make test``."""

    chaos_seconds: float = 180.0
    # Waiting for quiet goes on while the work left keeps shrinking (a loaded machine drains
    # slowly, which is not a loss), up to quiet_max_seconds; a stall_seconds pause in progress
    # ends it. It must outlast the slowest recovery the product promises: a lease (25 s), a
    # retry delay (30 s), the sweep's minute, django-q2's scheduler pass (30 s) and, for a job a
    # killed worker or pusher held, the broker's redelivery (retry, 30 s): 175 s.
    quiet_max_seconds: float = 900.0
    stall_seconds: float = 240.0
    pages: int = 16
    publishers: int = 4
    callback_senders: int = 3
    callback_pause: float = 0.05  # seconds each sender waits between two callbacks
    kill_every: tuple[float, float] = (12.0, 25.0)
    outage_every: float = 10.0
    outage_seconds: float = 8.0
    # The chaos goes on (up to four times as long: a loaded machine publishes slowly) until
    # these are reached.
    min_publishes: int = 200
    min_callbacks: int = 500
    min_kills: int = 5

    @classmethod
    def short(cls) -> SoakPlan:
        return cls(
            chaos_seconds=25.0,
            quiet_max_seconds=300.0,
            pages=6,
            publishers=2,
            callback_senders=2,
            # A few callbacks a second, not the idle machine's 20: a loaded CI machine must
            # still drain them in minutes.
            callback_pause=0.25,
            kill_every=(6.0, 9.0),
            outage_every=5.0,
            outage_seconds=4.0,
            min_publishes=20,
            min_callbacks=40,
            min_kills=2,
        )


@dataclass
class Tally:
    """What the chaos did, counted by the threads that did it."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    publishes: int = 0
    publish_rejected: int = 0
    http_500: int = 0
    http_errors: Counter = field(default_factory=Counter)
    callbacks_sent: list = field(default_factory=list)  # (kind, payload) answered 200
    callbacks_unanswered: list = field(default_factory=list)  # never answered 200
    callback_posts: int = 0
    kills: int = 0
    outages: int = 0

    def add(self, **changes: int) -> None:
        with self.lock:
            for name, value in changes.items():
                setattr(self, name, getattr(self, name) + value)


def probe(stack: RunningDemo, *args: str) -> object:
    """Run ``benchmarks.soak_probe`` in the site's own settings and database."""
    done = stack.run_python("-m", "benchmarks.soak_probe", *args)
    if done.returncode:
        raise RuntimeError(f"soak_probe {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the chaos ------------------------------------------------------------------------------
def publish_once(session: requests.Session, base: str, page_id: int, index: int, n: int,
                 tally: Tally) -> None:
    """Edit and publish one page through the admin's form, as an editor's browser posts it."""
    edit_url = f"{base}/admin/pages/{page_id}/edit/"
    answer = publish_page(session, edit_url, title=f"Soak page {index} v{n}",
                          base_price=str(1000 + n))
    if answer.status_code == 302:
        tally.add(publishes=1)
    elif answer.status_code >= 500:
        tally.add(http_500=1)
    else:
        tally.add(publish_rejected=1)
        with tally.lock:
            tally.http_errors[f"publish {answer.status_code}"] += 1


def publisher(stack: RunningDemo, pages: list[tuple[int, int]], stop: threading.Event,
              tally: Tally) -> None:
    session = stack.admin_session()
    n = 0
    while not stop.is_set():
        for index, page_id in pages:
            if stop.is_set():
                return
            n += 1
            try:
                publish_once(session, stack.base, page_id, index, n, tally)
            except requests.RequestException as error:
                with tally.lock:
                    tally.http_errors[f"publish {type(error).__name__}"] += 1


def kollus_media_keys(stack: RunningDemo) -> list[str]:
    answer = requests.get(
        stack.sandbox + "/kollus/api/media-contents",
        params={"access_token": SANDBOX_ACCESS_TOKEN, "per_page": 100},
        timeout=30,
    )
    answer.raise_for_status()
    rows = answer.json()["data"]
    rows = rows.get("items", rows) if isinstance(rows, dict) else rows
    return [row["upload_file_key"] for row in rows]


class CallbackSource:
    """Kollus-style callbacks: mostly distinct content updates, some exact repeats, and the
    lifecycle kinds of one media sent out of order (transcoding before upload)."""

    def __init__(self, keys: list[str], seed: int) -> None:
        self.keys = keys
        self.random = random.Random(seed)
        self.sequence = 0
        self.sent: list[tuple[str, dict]] = []
        self.lock = threading.Lock()

    def next(self) -> tuple[str, dict]:
        with self.lock:
            self.sequence += 1
            roll = self.random.random()
            if self.sent and roll < 0.2:
                return self.random.choice(self.sent)  # the same delivery again
            key = self.random.choice(self.keys)
            name = f"{key}.mp4"
            if roll < 0.3:
                kind = self.random.choice(["transcoding", "upload", "channel-add"])
                payload = {"upload_file_key": key, "filename": name, "full_filename": name}
                if kind == "transcoding":
                    payload = {"upload_file_key": key, "filename": name,
                               "transcoding_result": "success"}
                if kind == "channel-add":
                    payload.update(media_content_key=f"{key}-mck", channel_key="soak-channel",
                                   channel_name="Soak", profile_key="soak-profile",
                                   update_type="add")
            else:
                kind = "content-update"
                payload = {"upload_file_key": key, "filename": name, "full_filename": name,
                           "update_type": f"soak-{self.sequence}"}
            self.sent.append((kind, payload))
            return kind, payload


def send_callback(stack: RunningDemo, kind: str, payload: dict, tally: Tally,
                  stop: threading.Event) -> None:
    url = stack.callback_url(kind)
    form = {"content_provider_key": SERVICE_ACCOUNT_KEY, **payload}
    for attempt in range(1 + CALLBACK_RESENDS):
        if attempt and stop.wait(1.0):
            break
        tally.add(callback_posts=1)
        try:
            answer = requests.post(url, data=form, timeout=(2.0, CALLBACK_TIMEOUT))
        except requests.RequestException as error:
            with tally.lock:
                tally.http_errors[f"callback {type(error).__name__}"] += 1
            continue
        if answer.status_code == 200:
            with tally.lock:
                tally.callbacks_sent.append((kind, payload))
            return
        if answer.status_code >= 500:
            tally.add(http_500=1)
        with tally.lock:
            tally.http_errors[f"callback {answer.status_code}"] += 1
    with tally.lock:
        tally.callbacks_unanswered.append((kind, payload))


def callback_sender(stack: RunningDemo, source: CallbackSource, stop: threading.Event,
                    tally: Tally, pause: float) -> None:
    while not stop.is_set():
        kind, payload = source.next()
        send_callback(stack, kind, payload, tally, stop)
        stop.wait(pause)


OUTAGES = (
    {"status": 503},
    {"reset": True},
    {"latency": 4.0},
)


def outage_maker(stack: RunningDemo, plan: SoakPlan, stop: threading.Event, tally: Tally) -> None:
    turn = 0
    while not stop.wait(plan.outage_every):
        api = ("contents.*", "kollus.*")[turn % 2]
        fault = OUTAGES[(turn // 2) % len(OUTAGES)]
        turn += 1
        requests.post(stack.sandbox + "/_sandbox/faults", json={"endpoint": api, **fault},
                      timeout=10)
        tally.add(outages=1)
        stop.wait(plan.outage_seconds)
        requests.delete(stack.sandbox + "/_sandbox/faults", timeout=10)


def worker_killer(stack: RunningDemo, plan: SoakPlan, stop: threading.Event, tally: Tally,
                  seed: int) -> None:
    chance = random.Random(seed)
    while not stop.wait(chance.uniform(*plan.kill_every)):
        pids = stack.worker_pids()
        if pids:
            try:
                os.kill(chance.choice(pids), signal.SIGKILL)
                tally.add(kills=1)
            except ProcessLookupError:
                pass


# --- counting -------------------------------------------------------------------------------
def _is_done(row: dict) -> bool:
    return row["status"] in ("processed", "ignored")


def work_left(state: dict) -> int:
    """Outbox rows not caught up (or claimed, or pending) and deliveries still waiting."""
    links_busy = sum(
        1 for link in state["links"]
        if link["version"] > link["synced_version"] or link["claimed"] or link["state"] == "pending"
    )
    return links_busy + sum(
        1 for row in state["deliveries"] if row["status"] in ("queued", "processing")
    )


def quiet(state: dict) -> bool:
    """Nothing left to do: every outbox row caught up and unclaimed, no delivery waiting."""
    return work_left(state) == 0


def sandbox_records(stack: RunningDemo) -> list[dict]:
    """Every content record the sandbox holds that a soak page created (any language)."""
    records: dict[int, dict] = {}
    for language in ("ko", "en", "ja"):
        page = 1
        while True:
            answer = requests.get(
                stack.sandbox + "/api/public/v1/contents",
                params={"search": "Soak page", "limit": 100, "page": page, "language": language},
                headers={"Authorization": f"Bearer {SANDBOX_SERVER_KEY}",
                         "Accept": "application/json"},
                timeout=30,
            ).json()
            for record in answer["data"]:
                records[record["content_id"]] = record
            if not answer["pagination"].get("has_more_pages"):
                break
            page += 1
    return list(records.values())


def count(stack: RunningDemo, state: dict, tally: Tally) -> dict[str, int]:
    """The five numbers that must be zero."""
    done = {(row["kind"], json.dumps(row["payload"], sort_keys=True))
            for row in state["deliveries"] if _is_done(row)}
    sent = {(kind, json.dumps(payload, sort_keys=True)) for kind, payload in tally.callbacks_sent}
    unanswered = {(kind, json.dumps(payload, sort_keys=True))
                  for kind, payload in tally.callbacks_unanswered} - sent
    lost = len(sent - done) + len(unanswered)

    records = sandbox_records(stack)
    by_id = {record["content_id"]: record for record in records}
    links = {link["page_key"]: link for link in state["links"]}
    unsynced = 0
    for page in state["pages"]:
        if not page["live"]:
            continue
        link = links.get(page["id"])
        record = by_id.get(link["content_id"]) if link and link["content_id"] else None
        if record is None or record["title"] != page["title"]:
            unsynced += 1
    per_page = Counter()
    for record in records:
        marker = str(record.get("external_id") or "")
        if marker.startswith("wagtail-kollus:"):
            per_page[marker.split(":")[1]] += 1
    duplicates = sum(n - 1 for n in per_page.values() if n > 1)

    stuck = sum(
        1 for link in state["links"]
        if link["version"] > link["synced_version"] or link["claimed"] or link["state"] != "synced"
    ) + sum(1 for row in state["deliveries"] if not _is_done(row))
    http_500 = tally.http_500 + len(re.findall(r'HTTP/1\.1" 500 ', stack.log()))
    return {
        "http_500": http_500,
        "lost_deliveries": lost,
        "unsynced_pages": unsynced,
        "duplicate_records": duplicates,
        "stuck": stuck,
    }


# --- one run --------------------------------------------------------------------------------
def soak(db: str, plan: SoakPlan, *, seed: int = 1, report: dict | None = None) -> dict:
    """Run the soak on ``db`` (``sqlite`` or ``postgres``); returns the flat metrics.

    ``report`` (optional) receives the details behind the numbers (errors seen, rows not done),
    for a test's failure message.
    """
    with tempfile.TemporaryDirectory(prefix=f"kollus-soak-{db}-") as tmp:
        if db == "postgres":
            with postgres_database() as url, running_demo(
                Path(tmp), settings=SOAK_SETTINGS, database_url=url, startup_timeout=300
            ) as stack:
                return _soak(stack, db, plan, seed, report)
        with running_demo(Path(tmp), settings=SOAK_SETTINGS, startup_timeout=300) as stack:
            return _soak(stack, db, plan, seed, report)


def _soak(stack: RunningDemo, db: str, plan: SoakPlan, seed: int, report: dict | None) -> dict:
    page_ids = probe(stack, "setup", str(plan.pages))
    pages = list(enumerate(page_ids))
    keys = kollus_media_keys(stack)
    tally = Tally()
    stop = threading.Event()
    source = CallbackSource(keys, seed)
    actors = [
        threading.Thread(target=publisher, args=(stack, pages[i::plan.publishers], stop, tally))
        for i in range(plan.publishers)
    ] + [
        threading.Thread(
            target=callback_sender, args=(stack, source, stop, tally, plan.callback_pause)
        )
        for _ in range(plan.callback_senders)
    ] + [
        threading.Thread(target=outage_maker, args=(stack, plan, stop, tally)),
        threading.Thread(target=worker_killer, args=(stack, plan, stop, tally, seed)),
    ]
    started = time.monotonic()
    for actor in actors:
        actor.start()
    while True:
        elapsed = time.monotonic() - started
        reached = (tally.publishes >= plan.min_publishes
                   and len(tally.callbacks_sent) >= plan.min_callbacks
                   and tally.kills >= plan.min_kills)
        if elapsed >= plan.chaos_seconds * (1 if reached else 4):
            break
        time.sleep(0.5)
    stop.set()
    for actor in actors:
        actor.join(timeout=120)
    requests.delete(stack.sandbox + "/_sandbox/faults", timeout=10)

    chaos_ended = time.monotonic()
    ids = ",".join(map(str, page_ids))
    state = probe(stack, "state", ids)
    least, progressed = work_left(state), chaos_ended
    while not quiet(state):
        now = time.monotonic()
        if now - chaos_ended > plan.quiet_max_seconds or now - progressed > plan.stall_seconds:
            break
        time.sleep(3)
        state = probe(stack, "state", ids)
        if work_left(state) < least:
            least, progressed = work_left(state), time.monotonic()
    seconds_to_quiet = time.monotonic() - chaos_ended
    numbers = count(stack, state, tally)
    if report is not None:
        report.update(
            errors=dict(tally.http_errors),
            publish_rejected=tally.publish_rejected,
            outages=tally.outages,
            unfinished_links=[link for link in state["links"]
                              if link["state"] != "synced" or link["claimed"]
                              or link["version"] > link["synced_version"]][:20],
            unfinished_deliveries=[row for row in state["deliveries"]
                                   if not _is_done(row)][:20],
            log_tail=stack.log()[-3000:],
        )
    results = {
        f"soak_publishes_{db}": tally.publishes,
        f"soak_callbacks_{db}": len(tally.callbacks_sent),
        f"soak_kills_{db}": tally.kills,
        **{f"soak_{name}_{db}": value for name, value in numbers.items()},
        f"soak_seconds_to_quiet_{db}": round(seconds_to_quiet, 1),
    }
    return results


def run() -> dict[str, float]:
    """``make bench ONLY=soak``: the full run on SQLite, then on PostgreSQL."""
    plan = SoakPlan(chaos_seconds=float(os.environ.get("SOAK_SECONDS", SoakPlan.chaos_seconds)))
    results: dict[str, float] = {}
    for db in ("sqlite", "postgres"):
        details: dict = {}
        results.update(soak(db, plan, report=details))
        if any(results.get(f"soak_{m}_{db}") for m in ZERO_METRICS):
            print(f"soak on {db}: details of what was not zero:")
            print(json.dumps({k: v for k, v in details.items() if k != "log_tail"}, indent=1,
                             default=str)[:6000])
    return results
