"""The shared Kollus rate limiter: fake clock for the maths, two processes for the sharing."""

import multiprocessing
import os
import time
import uuid

import pytest

from wagtail_kollus.api.errors import RateLimitedError
from wagtail_kollus.api.ratelimit import CacheRateLimiter, account_hash


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.25) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make(clock, **kw):
    kw.setdefault("per_second", 1)
    kw.setdefault("per_minute", 60)
    return CacheRateLimiter(f"token-{uuid.uuid4()}", clock=clock, sleep=clock.sleep, **kw)


def test_first_call_passes_without_waiting():
    clock = FakeClock()
    assert make(clock).acquire() == 0
    assert clock.sleeps == []


def test_second_call_in_the_same_second_waits_for_the_next_window():
    clock = FakeClock(start=1_700_000_000.25)
    limiter = make(clock)
    limiter.acquire()
    waited = limiter.acquire()
    assert waited == pytest.approx(0.75)
    assert clock.now == pytest.approx(1_700_000_001.0)


def test_ten_calls_take_nine_seconds():
    clock = FakeClock(start=1_700_000_000.0)
    limiter = make(clock)
    for _ in range(10):
        limiter.acquire()
    assert clock.now - 1_700_000_000.0 == pytest.approx(9.0)


def test_per_minute_limit_waits_for_next_minute():
    clock = FakeClock(start=60 * 28_333_333 + 0.5)  # just after a minute boundary
    limiter = make(clock, per_second=10, per_minute=5)
    for _ in range(5):
        limiter.acquire()
    assert clock.now == pytest.approx(60 * 28_333_333 + 0.5)  # 5 fit in one second
    limiter.acquire()
    assert clock.now == pytest.approx(60 * 28_333_334)


def test_max_wait_raises_rate_limited_with_retry_after():
    clock = FakeClock(start=1_700_000_000.5)
    limiter = make(clock)
    limiter.acquire()
    with pytest.raises(RateLimitedError) as info:
        limiter.acquire(max_wait=0.1)
    assert info.value.retry_after == pytest.approx(0.5)
    assert clock.sleeps == []  # it refused instead of sleeping


def test_limiters_with_the_same_token_share_slots():
    clock = FakeClock()
    a = CacheRateLimiter("same-token-x", clock=clock, sleep=clock.sleep)
    b = CacheRateLimiter("same-token-x", clock=clock, sleep=clock.sleep)
    other = CacheRateLimiter("other-token-y", clock=clock, sleep=clock.sleep)
    a.acquire()
    other.acquire()
    assert clock.sleeps == []
    b.acquire()
    assert clock.sleeps, "b waited for a's slot"


def test_raw_token_never_in_cache_keys_or_repr():
    limiter = CacheRateLimiter("super-secret-token-123")
    assert "super-secret-token-123" not in limiter._prefix
    assert "super-secret-token-123" not in repr(limiter)
    assert account_hash("super-secret-token-123") in limiter._prefix


def test_zero_limits_disable():
    clock = FakeClock()
    limiter = make(clock, per_second=0, per_minute=0)
    for _ in range(100):
        limiter.acquire()
    assert clock.sleeps == []


# --- two real processes sharing a file-based cache -------------------------------------------


def hammer(cache: dict, token: str, seconds: float, ready, queue) -> None:
    """Child process: once all are ready, take slots for ``seconds``; report the windows."""
    import django
    from django.conf import settings
    from django.core.cache import caches

    if not settings.configured:
        settings.configure(CACHES={"rl": cache})
        django.setup()
    limiter = CacheRateLimiter(token, per_second=1, per_minute=60, cache_alias="rl")
    # Connected (the Redis client is imported on first use) before the clock starts: on a
    # loaded machine that first call alone took the whole run, and no process made a call.
    caches["rl"].get("warm-up")
    ready.wait(timeout=60)  # start together, however long each interpreter took to boot
    until = time.time() + seconds
    stamps = []
    while True:
        limiter.acquire()
        if time.time() >= until:
            break
        stamps.append(limiter.last_window)
    queue.put(stamps)


def claimed_windows(cache: dict, processes: int = 2) -> list[list[int]]:
    """Run ``processes`` limiters sharing ``cache`` for a few s; the windows each one claimed."""
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter, as a second worker is
    queue = ctx.Queue()
    token = f"shared-{uuid.uuid4()}"
    ready = ctx.Barrier(processes)
    procs = [
        ctx.Process(target=hammer, args=(cache, token, 4.0, ready, queue)) for _ in range(processes)
    ]
    for proc in procs:
        proc.start()
    windows = [queue.get(timeout=90) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    return windows


def assert_one_call_per_window(windows: list[list[int]]) -> None:
    # Fairness is not promised (whoever wakes first wins a window), only exclusivity.
    merged = sorted(w for per_process in windows for w in per_process)
    assert len(merged) == len(set(merged)), f"two calls shared a one-second window: {merged}"
    assert len(merged) >= 3, "the processes did make calls"


def test_two_processes_sharing_a_file_cache_stay_at_one_call_per_second(tmp_path):
    cache = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(tmp_path),
    }
    assert_one_call_per_window(claimed_windows(cache))
    assert os.listdir(tmp_path), "the slots lived in the shared file cache"


@pytest.fixture
def redis_url(redis_server):
    return redis_server["url"]


@pytest.mark.redis
def test_three_processes_sharing_redis_stay_at_one_call_per_second(redis_url):
    cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    assert_one_call_per_window(claimed_windows(cache, processes=3))


def test_file_slot_claims_are_exclusive_and_swept(tmp_path):
    from wagtail_kollus.api import file_slots

    assert file_slots.claim_file_slot(str(tmp_path), "slot-a") is True
    assert file_slots.claim_file_slot(str(tmp_path), "slot-a") is False
    assert file_slots.claim_file_slot(str(tmp_path), "slot-b") is True
    markers = [p for p in tmp_path.iterdir() if p.name.endswith(".claim")]
    assert len(markers) == 2 and all("slot-a" not in p.name for p in markers)
    old = time.time() - 1000
    os.utime(markers[0], (old, old))
    assert file_slots.sweep_old_markers(str(tmp_path), force=True) == 1
    assert len(list(tmp_path.iterdir())) == 1
