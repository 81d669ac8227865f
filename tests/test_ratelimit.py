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


def _hammer(cache_dir: str, token: str, until: float, queue) -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            CACHES={
                "rl": {
                    "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                    "LOCATION": cache_dir,
                }
            }
        )
        django.setup()
    limiter = CacheRateLimiter(token, per_second=1, per_minute=60, cache_alias="rl")
    stamps = []
    while True:
        limiter.acquire()
        if time.time() >= until:
            break
        stamps.append(limiter.last_window)
    queue.put(stamps)


def test_two_processes_together_stay_at_one_call_per_second(tmp_path):
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter, as a second worker is
    queue = ctx.Queue()
    token = f"shared-{uuid.uuid4()}"
    until = time.time() + 6  # spawn takes ~1 s; then both contend for ~5 windows
    procs = [
        ctx.Process(target=_hammer, args=(str(tmp_path), token, until, queue)) for _ in range(2)
    ]
    for proc in procs:
        proc.start()
    stamps = [queue.get(timeout=30), queue.get(timeout=30)]
    for proc in procs:
        proc.join(timeout=10)
    assert all(s for s in stamps), "both processes made calls"
    # Each call's claimed window: no one-second window may hold two calls.
    merged = sorted(t for s in stamps for t in s)
    assert len(merged) == len(set(merged)), merged
    assert len(merged) >= 4, "the two processes did make calls"
    assert os.listdir(tmp_path), "the slots lived in the shared file cache"
