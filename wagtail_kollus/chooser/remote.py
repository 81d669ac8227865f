"""The contents API seen as a queryset, so Wagtail's generic chooser views can page through it.

``RemoteContentQuerySet`` is a ``queryish.Queryish``: the chooser's paginator calls ``count()``
then slices, and each of those becomes one ``ContentsClient.list_contents`` call. Both land on
the same API page (the count comes from that page's ``pagination.total``), and answers are
memoised per request and cached briefly across requests, so one listing costs at most one
remote call, and a repeated one none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from queryish import Queryish

from ..accounts import KollusAccount, contents_client
from ..api.contents import ContentsClient
from ..api.types import Category, Chapter, ChapterItem, Content, ContentPage
from .cache import cached_call

# Filters the contents API understands, by the name ``list_contents`` takes.
FILTER_NAMES = ("search", "language", "status", "content_type", "category_id", "tag_id")

# The chooser must answer while the editor waits: fail fast and let them press "Retry" rather
# than queueing retries behind a spinner. CHOOSER_MAX_WAIT is the whole wait of one chooser
# request (every call it makes, connects, reads, the retry and its backoff together): capping
# each read alone let a hanging API hold the editor for two reads, 20 s.
CHOOSER_MAX_WAIT = 10.0
CHOOSER_MAX_READ_TIMEOUT = CHOOSER_MAX_WAIT
CHOOSER_MAX_RETRIES = 1


def chooser_client(account: KollusAccount | None = None) -> ContentsClient:
    """A ``ContentsClient`` tuned for interactive use (short timeouts, few retries, and at
    most :data:`CHOOSER_MAX_WAIT` seconds in all from its creation: make one per request)."""
    account = account or KollusAccount.from_settings()
    return contents_client(
        account,
        read_timeout=min(float(account.read_timeout), CHOOSER_MAX_READ_TIMEOUT),
        max_retries=min(int(account.max_retries), CHOOSER_MAX_RETRIES),
        total_timeout=CHOOSER_MAX_WAIT,
    )


@dataclass(frozen=True)
class PlayableItem:
    """One chapter item with the Kollus key it plays (None: shown, but not choosable)."""

    chapter: Chapter
    item: ChapterItem
    media_content_key: str | None


def playable_items(content: Content) -> list[PlayableItem]:
    """Every chapter item of ``content``, each with its Kollus key (or None)."""
    return [
        PlayableItem(chapter, item, item.kollus_media_content_key)
        for chapter in content.chapters
        for item in chapter.items
    ]


class ContentsBrowser:
    """Read-only access to the contents API for one chooser request.

    Holds one client (one HTTP session) and a memo, so the count and the slice of a listing,
    or the categories and the listing, never ask the API the same question twice.
    """

    def __init__(self, client: Any = None, *, account: KollusAccount | None = None) -> None:
        self._client = client
        self.account = account or KollusAccount.from_settings()
        self._memo: dict[tuple, Any] = {}

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = chooser_client(self.account)
        return self._client

    def close(self) -> None:
        """Release the HTTP session (one per chooser request), if one was opened."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _remember(self, kind: str, params: dict[str, Any], fetch) -> Any:
        memo_key = (kind, tuple(sorted(params.items())))
        if memo_key not in self._memo:
            self._memo[memo_key] = cached_call(
                kind, params, fetch, api_url=self.account.contents_api_url
            )
        return self._memo[memo_key]

    def list_page(self, *, page: int, limit: int, filters: dict[str, Any]) -> ContentPage:
        params = {"page": page, "limit": limit, **filters}
        return self._remember(
            "list", params, lambda: self.client.list_contents(page=page, limit=limit, **filters)
        )

    def categories(self, language: str | None) -> list[Category]:
        return self._remember(
            "categories",
            {"language": language},
            lambda: self.client.list_categories(language=language),
        )

    def content(self, content_id: int, language: str | None) -> Content:
        return self._remember(
            "content",
            {"content_id": content_id, "language": language},
            lambda: self.client.get_content(content_id, language=language),
        )

    def fresh_content(self, content_id: int, language: str | None) -> Content:
        """The content as the API has it now: what gets copied locally must not be stale."""
        return self.client.get_content(content_id, language=language)


class RemoteContentQuerySet(Queryish):
    """Contents API listing as a lazy, sliceable, countable queryset of ``Content`` records.

    Ordering is the API's own (it has no ordering parameter); ``order_by`` is accepted and
    ignored so that Wagtail's default "order by pk for stable paging" is harmless.
    """

    def __init__(self, browser: ContentsBrowser | None = None, *, page_size: int = 20) -> None:
        super().__init__()
        self.browser = browser or ContentsBrowser()
        self.filter_fields = FILTER_NAMES
        # The paginator counts before it slices; counting through the page it is about to
        # ask for keeps that to one remote call.
        self.page_size = page_size
        self.count_page = 1

    def for_page(self, number: int) -> RemoteContentQuerySet:
        return self.clone(count_page=max(1, number))

    def order_by(self, *args: str) -> RemoteContentQuerySet:
        return self.clone()

    @property
    def ordered(self) -> bool:
        # The API orders deterministically (newest first, ties by id), so pages never overlap.
        return True

    def __repr__(self) -> str:
        # Queryish's repr runs the query; a log line must never trigger an API call.
        return f"<{type(self).__name__} filters={self.filters!r}>"

    def _filters(self) -> dict[str, Any]:
        return {key: value for key, value in self.filters if value not in (None, "")}

    def run_count(self) -> int:
        answer = self.browser.list_page(
            page=self.count_page, limit=self.page_size, filters=self._filters()
        )
        return answer.pagination.total

    def run_query(self) -> list[Content]:
        # The API pages in fixed windows of ``page_size``. The paginator's slices start on a
        # window, but the last one is cut short at ``count``: so ask for the window the slice
        # starts in and cut the answer, rather than deriving the window from the slice length.
        page = self.offset // self.page_size + 1
        answer = self.browser.list_page(page=page, limit=self.page_size, filters=self._filters())
        start = self.offset - (page - 1) * self.page_size
        stop = None if self.limit is None else start + self.limit
        return list(answer.items[start:stop])
