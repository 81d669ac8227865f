"""KollusClient over real HTTP against the sandbox's Kollus API and upload host."""

import hashlib
import threading
from datetime import date, timedelta

import pytest

from wagtail_kollus.accounts import kollus_client
from wagtail_kollus.api.errors import (
    AuthenticationError,
    BadResponseError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from wagtail_kollus.api.ratelimit import CacheRateLimiter
from wagtail_kollus.api.types import DailySummary, Media, UploadTicket
from wagtail_kollus.api.vod import KollusClient


@pytest.fixture
def client(sandbox):
    return kollus_client(rate_limiter=None, sleep=lambda s: None)


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def test_list_and_get_media(client):
    page = client.list_media(per_page=5)
    assert len(page.items) == 5 and page.pagination.total >= 5
    media = client.get_media(page.items[0].upload_file_key)
    assert isinstance(media, Media)
    assert media.upload_file_key == page.items[0].upload_file_key
    assert media.state in ("ready", "transcoding", "failed")
    ready = client.list_media(state="ready", per_page=50).items
    assert ready and all(m.state == "ready" for m in ready)


def test_update_replace_attach_detach_delete(client, sandbox):
    ready = [m for m in client.list_media(state="ready", per_page=50).items if not m.is_audio]
    target, source = ready[0], ready[1]
    updated = client.update_media(target.upload_file_key, title="New title")
    assert updated.title == "New title"
    assert client.get_media(target.upload_file_key).title == "New title"
    channel = target.channels[0].channel_key
    client.detach_from_channel(channel, target.upload_file_key)
    assert client.get_media(target.upload_file_key).media_content_key(channel) is None
    client.attach_to_channel(channel, target.upload_file_key)
    assert client.get_media(target.upload_file_key).media_content_key(channel)
    replaced = client.replace_media(target.upload_file_key, source.upload_file_key)
    assert replaced.upload_file_key == target.upload_file_key
    client.delete_media(source.upload_file_key)
    with pytest.raises(NotFoundError):
        client.get_media(source.upload_file_key)


def test_categories(client):
    categories = client.list_categories()
    assert categories and categories[0].category_key


def test_create_upload_url_v3_envelope(client):
    ticket = client.create_upload_url(title="t", expire_time=60)
    assert isinstance(ticket, UploadTicket)
    assert ticket.upload_url.startswith("http") and ticket.upload_file_key
    assert ticket.expires_at is not None


def test_create_upload_url_v0_envelope_through_path_override(sandbox):
    client = kollus_client(
        rate_limiter=None, paths={"upload_create_url": "/0/media_auth/upload/create_url"}
    )
    ticket = client.create_upload_url(title="v0")
    assert ticket.upload_url and ticket.upload_file_key
    assert sandbox.request_count("kollus.upload_create_url_v0") == 1
    assert sandbox.request_count("kollus.upload_create_url") == 0


def test_upload_streams_in_constant_memory(client, tmp_path):
    size = 40 * 1024 * 1024
    path = tmp_path / "video.mp4"
    with open(path, "wb") as handle:  # sparse, with a little real data at both ends
        handle.write(b"head" * 1000)
        handle.seek(size - 4000)
        handle.write(b"tail" * 1000)
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    ticket = client.create_upload_url(title="big")
    baseline = rss_bytes()
    peaks = [baseline]
    seen = []
    done = threading.Event()

    def sample() -> None:  # a peak between progress calls would otherwise go unseen
        while not done.wait(0.002):
            peaks.append(rss_bytes())

    def progress(sent: int, total: int) -> None:
        seen.append((sent, total))
        peaks.append(rss_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = client.upload_file(ticket.upload_url, path, progress=progress)
    finally:
        done.set()
        sampler.join()
    assert result["sha256"] == expected and result["size"] == size
    assert result["upload_file_key"] == ticket.upload_file_key
    assert seen[-1] == (size, size)
    growth = max(peaks) - baseline
    assert growth < 16 * 1024 * 1024, f"RSS grew {growth / 2**20:.1f} MiB for a 40 MiB upload"
    assert client.get_upload_progress(ticket.progress_url) == 100


def test_upload_url_is_single_use(client, tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 1000)
    ticket = client.create_upload_url()
    client.upload_file(ticket.upload_url, path, filename="named.mp4")
    with pytest.raises(Exception) as info:
        client.upload_file(ticket.upload_url, path)
    assert info.value.status_code == 410


def test_one_year_of_statistics_is_split_and_merged(client, sandbox):
    end = date.today() - timedelta(days=1)
    start = end - timedelta(days=360)
    days = client.summary_daily(start, end)
    assert sandbox.request_count("kollus.stats_summary_daily") == 4
    assert len(days) == 361 and all(isinstance(d, DailySummary) for d in days)
    assert [d.date for d in days] == sorted(d.date for d in days)
    assert days[0].date == start and days[-1].date == end


def test_content_rank_merges_counts_across_chunks(client, sandbox):
    end = date.today() - timedelta(days=1)
    start = end - timedelta(days=200)
    merged = client.content_rank(start, end)
    assert sandbox.request_count("kollus.stats_content_rank") == 3
    # The same figures asked chunk by chunk and summed by hand.
    totals: dict[str, int] = {}
    middle = start + timedelta(days=91)
    for a, b in ((start, middle), (middle + timedelta(days=1), end)):
        for rank in client.content_rank(a, b):
            totals[rank.upload_file_key] = totals.get(rank.upload_file_key, 0) + rank.views
    assert {r.upload_file_key: r.views for r in merged} == totals
    assert [r.views for r in merged] == sorted((r.views for r in merged), reverse=True)
    top3 = client.content_rank(start, end, limit=3, start_index=1)
    assert [r.upload_file_key for r in top3] == [r.upload_file_key for r in merged[1:4]]


def test_statistics_out_of_range_is_validation_error(client):
    with pytest.raises(ValidationError):
        client.summary_daily(date.today() - timedelta(days=800), date.today() - timedelta(days=700))


def test_wrong_token_never_in_message(sandbox):
    client = KollusClient(sandbox.kollus_api_url, "wrong-access-token-123", rate_limiter=None)
    with pytest.raises(AuthenticationError) as info:
        client.list_media()
    text = str(info.value) + repr(info.value) + str(info.value.describe())
    assert "wrong-access-token-123" not in text


def test_unreadable_kollus_answer(client, sandbox):
    sandbox.faults.set("kollus.media_detail", body="html", times=1)
    with pytest.raises(BadResponseError):
        client.get_media("anything")


def test_api_calls_go_through_the_limiter_and_uploads_do_not(sandbox, tmp_path):
    class Clock:
        now = 1_800_000_000.5
        sleeps: list = []

        def __call__(self):
            return self.now

        def sleep(self, seconds):
            self.sleeps.append(seconds)
            self.now += seconds

    clock = Clock()
    limiter = CacheRateLimiter(
        f"limiter-test-{tmp_path.name}", clock=clock, sleep=clock.sleep, per_second=1
    )
    client = kollus_client(rate_limiter=limiter)
    ticket = client.create_upload_url()  # 1st call: free
    client.list_categories()  # 2nd call, same fake second: waits 0.5 s
    assert clock.sleeps == [pytest.approx(0.5)]
    path = tmp_path / "a.bin"
    path.write_bytes(b"x")
    client.upload_file(ticket.upload_url, path)
    client.get_upload_progress(ticket.progress_url)
    assert len(clock.sleeps) == 1  # the upload host is not rate limited
    strict = kollus_client(rate_limiter=limiter, rate_limit_max_wait=0.1)
    with pytest.raises(RateLimitedError):
        strict.list_categories()


def test_upload_answered_with_an_html_page_is_not_an_error(client, sandbox, tmp_path):
    # Upload servers may answer a plain "upload complete" page: a 2xx there means it landed.
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 10)
    ticket = client.create_upload_url()
    sandbox.faults.set("kollus.upload", status=200, body="html", times=1)
    assert client.upload_file(ticket.upload_url, path) == {"status_code": 200}


def test_upload_refused_by_the_host_raises(client, sandbox, tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 10)
    with pytest.raises(NotFoundError):
        client.upload_file(sandbox.base_url + "/kollus-upload/no-such-ticket", path)
