"""Endpoints for Kollus's platform callbacks, one per kind, in the django-anymail webhook style.

Kollus callbacks carry no signature. Each request must therefore
1. hit a URL holding the secret ``CALLBACK_TOKEN`` (compared in constant time),
2. carry our ``content_provider_key`` (the service account key),
3. be a well-formed form post for its kind.
A request that fails 1 or 2 gets 403, one that fails 3 gets 400, and nothing is recorded.
A form whose body declares another charset than UTF-8 (Kollus is a Korean service: EUC-KR) is
read in that charset; a body Django cannot parse is a 400 of ours, never Django's own error,
whose log line would carry the URL and with it the token (see ``callback_logging``).
A good delivery is logged once (a repeat finds the same fingerprint and changes nothing) and
the real work is queued for the django-q2 worker on commit, so Kollus gets its 200 well
inside its 3 s limit. The worker re-reads the media from the API: the payload is only a hint.

Each kind's rules live on its view class, as django-anymail's per-provider webhook views hold
theirs: the fields it needs, whether a later identical delivery is a new event (``repeatable``),
whether processing it attaches the video to the channel (``attaches_channel``), the
``video_channel_changed`` action it reports, and when the API has not caught up with it yet.
The endpoint applies the first two; the worker (``media.services.process_delivery``) looks the
class up in :data:`CALLBACK_VIEWS` by the delivery's kind and applies the rest.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, ClassVar

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseNotFound,
    QueryDict,
    UnreadablePostError,
)
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from ..accounts import KollusAccount
from ..models import CallbackDelivery, CallbackKind, DeliveryStatus, MediaState
from ..models.callbacks import delivery_fingerprint, prepare_insert
from .jobs import prepare_callback_processing

logger = logging.getLogger(__name__)

_MAX_FIELD_LENGTH = 1000
# Kollus retries an unanswered callback every 5 minutes, up to 3 times (15 minutes). The same
# payload of a ``repeatable`` kind arriving later than this is a new event (a console edit of
# the same media twice sends identical content-update payloads), so it is processed again.
# Processing is idempotent and signals fire only on real changes, so this costs one API read
# at most.
REDELIVERY_WINDOW = timedelta(minutes=20)


class CallbackRejected(Exception):
    """The request is not from our Kollus account (403)."""


class MalformedCallback(Exception):
    """The request is from our account but cannot be understood (400)."""


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _unlogged(response: HttpResponse) -> HttpResponse:
    """Keep Django's request logger from logging the path, which holds the secret token.

    (Django skips responses it has already logged; we logged a redacted line ourselves.)
    """
    response._has_been_logged = True
    return response


class KollusCallbackView(View):
    """Base view: ``validate_token`` → ``parse_payload`` → ``validate_account`` →
    ``validate_payload`` → ``record_delivery`` → queue; and the rules of its kind.

    ``account``: the :class:`~wagtail_kollus.accounts.KollusAccount` whose callback token and
    service account key the requests must carry (``as_view(account=...)``); by default the
    settings' account, read per request.
    """

    kind: ClassVar[str]
    #: Fields a delivery of this kind must carry (400 otherwise).
    required_fields: ClassVar[tuple[str, ...]] = ("upload_file_key",)
    #: A later identical delivery (after ``REDELIVERY_WINDOW``) is a new event, processed again;
    #: otherwise only Kollus's retries of one event repeat the payload, and they are dropped.
    repeatable: ClassVar[bool] = False
    #: Processing puts a ready video in ``KOLLUS_CHANNEL_KEY`` if it is not there. Only the
    #: events that end processing: a video someone removed from the channel in the console
    #: must stay removed.
    attaches_channel: ClassVar[bool] = False
    #: The ``video_channel_changed`` action ("add", "delete") sent when processing finds the
    #: media's channels changed; empty: the kind sends none of its own.
    channel_action: ClassVar[str] = ""
    account: KollusAccount | None = None
    http_method_names = ["post"]

    @classmethod
    def api_lags_behind(cls, state: str) -> bool:
        """Whether the API's media ``state`` has not caught up with this kind's event yet (the
        worker then retries later instead of mirroring a state the callback already ended)."""
        return False

    @classmethod
    def title_hint(cls, payload: dict[str, str]) -> str:
        """The title a media first seen through this delivery gets when Kollus has none."""
        return payload.get("filename", "")

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        if self.account is None:
            self.account = KollusAccount.from_settings()

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Callable[..., HttpResponse]:
        # Kollus cannot send a CSRF token. Exempt the view function once, here:
        # ``method_decorator(csrf_exempt)`` would wrap ``dispatch`` again on every request.
        return csrf_exempt(super().as_view(**initkwargs))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            self.validate_token(token)
            payload = self.parse_payload(request)
            self.validate_account(payload)
            # Checked, and the same in every delivery: not worth keeping a secret in each row
            # (and in every database dump) of the delivery log.
            payload.pop("content_provider_key", None)
            self.validate_payload(payload)
        except CallbackRejected as error:
            # Never log the token or the key that was sent: only that one was refused.
            logger.warning("Refused a Kollus %s callback: %s", self.kind, error)
            return _unlogged(HttpResponse(status=403))
        except MalformedCallback as error:
            logger.warning("Malformed Kollus %s callback: %s", self.kind, error)
            # Plain text: the message may quote a field name from the request.
            return _unlogged(
                HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
            )
        record_delivery(self.kind, payload, repeatable=self.repeatable)
        return HttpResponse("OK", content_type="text/plain")

    def http_method_not_allowed(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Django's own 405 logs the path, which holds the secret token.
        logger.warning("Refused a %s to the Kollus %s callback URL", request.method, self.kind)
        return _unlogged(HttpResponseNotAllowed(self._allowed_methods()))

    def validate_token(self, token: str) -> None:
        expected = str(self.account.callback_token or "")
        # An unset token refuses everything rather than accepting everything.
        if not expected or not _equal(token, expected):
            raise CallbackRejected("wrong or missing callback token in the URL")

    def parse_payload(self, request: HttpRequest) -> dict[str, str]:
        if request.content_type not in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            raise MalformedCallback("expected a form post")
        try:
            form = self.read_form(request)
        except (MultiPartParserError, BadRequest, SuspiciousOperation, UnreadablePostError) as e:
            # Caught here, not by Django: its answer would log the path (the token), and with
            # DEBUG a non-UTF-8 form even crashed the debug page into a 500.
            raise MalformedCallback(f"the form cannot be read ({type(e).__name__})") from None
        payload = {}
        for name, value in form.items():
            if len(value) > _MAX_FIELD_LENGTH:
                raise MalformedCallback(f"field {name!r} is too long")
            # Kollus never sends a NUL; PostgreSQL cannot store one (text or jsonb), so
            # refusing it here answers 400 on every database instead of a 500 on PostgreSQL.
            if "\x00" in name or "\x00" in value:
                raise MalformedCallback("a field holds a NUL byte")
            payload[name] = value.strip()
        return payload

    @staticmethod
    def read_form(request: HttpRequest) -> QueryDict:
        """The posted form; a urlencoded one in the charset its ``Content-Type`` declares.

        Django 5.2 refuses a urlencoded body whose charset is not UTF-8 (RFC 1866 says forms
        are UTF-8), but a Korean sender may well post ``charset=EUC-KR``: refusing it would
        lose the callback after Kollus's three retries. Django's own ``QueryDict`` parses it
        in that charset (an unknown charset means UTF-8; bytes that do not decode come out
        garbled, never refused: only a title or file name could hold them, and the worker
        re-reads the media from the API anyway). Django decodes multipart fields in the
        declared charset itself.
        """
        if request.content_type == "application/x-www-form-urlencoded":
            return QueryDict(request.body, encoding=request.encoding)
        return request.POST

    def validate_account(self, payload: dict[str, str]) -> None:
        expected = str(self.account.kollus_service_account_key or "")
        given = payload.get("content_provider_key", "")
        if not expected or not _equal(given, expected):
            raise CallbackRejected("content_provider_key is not our service account key")

    def validate_payload(self, payload: dict[str, str]) -> None:
        missing = [name for name in self.required_fields if not payload.get(name)]
        if missing:
            raise MalformedCallback("missing field(s): " + ", ".join(missing))
        # Kollus keys are short; a longer one cannot be ours and would not fit the delivery
        # log's column (PostgreSQL would answer 500 instead of SQLite's silent truncation).
        limit = CallbackDelivery._meta.get_field("upload_file_key").max_length
        if len(payload.get("upload_file_key", "")) > limit:
            raise MalformedCallback(f"upload_file_key is longer than {limit} characters")


class UploadCallbackView(KollusCallbackView):
    """The file reached Kollus; sent once per upload (Kollus's retries aside)."""

    kind = CallbackKind.UPLOAD
    attaches_channel = True


class TranscodingCallbackView(KollusCallbackView):
    """Transcoding ended, well or not; sent once per transcode."""

    kind = CallbackKind.TRANSCODING
    required_fields = ("upload_file_key", "transcoding_result")
    attaches_channel = True

    def validate_payload(self, payload: dict[str, str]) -> None:
        super().validate_payload(payload)
        if payload["transcoding_result"] not in ("success", "fail"):
            raise MalformedCallback("transcoding_result must be 'success' or 'fail'")

    @classmethod
    def api_lags_behind(cls, state: str) -> bool:
        # The callback says transcoding ended but the API still says it has not.
        return state in (MediaState.UPLOADING, MediaState.TRANSCODING)


class ContentUpdateCallbackView(KollusCallbackView):
    """Title, category or poster edited in the console: the same edit twice repeats a payload."""

    kind = CallbackKind.CONTENT_UPDATE
    repeatable = True


class ChannelAddCallbackView(KollusCallbackView):
    """Attached to a channel (in the console, or by our own attach)."""

    kind = CallbackKind.CHANNEL_ADD
    required_fields = ("upload_file_key", "channel_key")
    repeatable = True
    channel_action = "add"


class ChannelDeleteCallbackView(KollusCallbackView):
    """Detached from a channel in the console."""

    kind = CallbackKind.CHANNEL_DELETE
    required_fields = ("upload_file_key", "channel_key")
    repeatable = True
    channel_action = "delete"


@csrf_exempt
def unknown_callback_url(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Anything else under ``callbacks/``: an unknown kind, a missing kind or token, extra parts.

    A 404 of ours rather than the site's: its page tree would answer Django's 404 or, to a
    POST, a CSRF 403, and both log the path, which may hold the token.
    """
    logger.warning("Refused a %s to an unknown Kollus callback URL", request.method)
    return _unlogged(HttpResponseNotFound())


CALLBACK_VIEWS: dict[str, type[KollusCallbackView]] = {
    view.kind: view
    for view in (
        UploadCallbackView,
        TranscodingCallbackView,
        ContentUpdateCallbackView,
        ChannelAddCallbackView,
        ChannelDeleteCallbackView,
    )
}


# SQLite database alias -> the lock its callback writers in this process take turns on.
_SQLITE_WRITERS: dict[str, threading.Lock] = {}


@contextmanager
def _one_sqlite_writer_at_a_time(using: str) -> Iterator[None]:
    """On SQLite, let this process's callbacks take the database's write lock in turn.

    SQLite has one writer at a time, and a connection that finds the lock taken polls for it,
    sleeping 1, 2, 5, 10… ms between tries: callbacks arriving together spent far longer
    asleep than writing. Waiting on a Python lock instead wakes the next writer as soon as the
    last one commits. Other processes still meet SQLite's own wait. Not inside an outer
    transaction, which may already hold the database lock another waiter here needs.
    """
    connection = connections[using]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with _SQLITE_WRITERS.setdefault(using, threading.Lock()):
        yield


def record_delivery(
    kind: str, payload: dict[str, str], *, repeatable: bool | None = None
) -> bool:
    """Log a delivery and queue its processing; ``False`` when it was a repeat.

    ``repeatable``: whether an identical delivery after ``REDELIVERY_WINDOW`` is a new event
    (default: the rule of the kind's view class in :data:`CALLBACK_VIEWS`).

    A first delivery is one transaction of two ``INSERT``s: the log row, whose unique
    fingerprint makes a repeat fail with ``IntegrityError`` (no ``SELECT`` first), and the
    django-q2 queue row, so the job commits with the log or not at all. Both rows are prepared
    (values adapted, task package signed) before the transaction: concurrent callbacks wait
    for each other's write lock, so the lock is held only for the two statements.
    """
    fingerprint = delivery_fingerprint(kind, payload)
    now = timezone.now()
    using = router.db_for_write(CallbackDelivery)
    log_row = prepare_insert(
        CallbackDelivery,
        {
            "kind": kind,
            "fingerprint": fingerprint,
            "upload_file_key": payload["upload_file_key"],
            "payload": payload,
            "received_at": now,
            "last_received_at": now,
        },
        using=using,
    )
    queue = prepare_callback_processing(fingerprint, using=using)
    try:
        with _one_sqlite_writer_at_a_time(using), transaction.atomic(using=using):
            log_row.execute()
            queue()
        return True
    except IntegrityError:
        pass
    deliveries = CallbackDelivery.objects.using(using).filter(fingerprint=fingerprint)
    with _one_sqlite_writer_at_a_time(using), transaction.atomic(using=using):
        requeued = 0
        if repeatable is None:
            repeatable = CALLBACK_VIEWS.get(kind, KollusCallbackView).repeatable
        if repeatable:
            requeued = (
                deliveries.filter(last_received_at__lt=now - REDELIVERY_WINDOW)
                .exclude(status__in=(DeliveryStatus.QUEUED, DeliveryStatus.PROCESSING))
                # A new event: a new round of attempts (see wagtail_kollus.leases).
                .update(status=DeliveryStatus.QUEUED, attempts=0, next_attempt_at=None)
            )
        deliveries.update(times_received=F("times_received") + 1, last_received_at=now)
        if requeued:
            queue()
    return bool(requeued)
