"""The Kollus callback endpoints: who is let in, what is recorded, what is queued.

The worker side (re-reading the API) is in ``test_callbacks_processing.py``; the whole flow
with real callbacks from the sandbox and a real django-q2 cluster in ``test_media_flow.py``.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_q.models import OrmQ

from tests.factories import SANDBOX_ACCOUNT as ACCOUNT
from tests.media_support import PAYLOADS, TOKEN, post, url
from wagtail_kollus.models import CallbackDelivery, CallbackKind, DeliveryStatus, KollusMedia


@pytest.fixture
def csrf_client() -> Client:
    # Kollus sends no CSRF token: the endpoints must work with CSRF checks on.
    return Client(enforce_csrf_checks=True)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(PAYLOADS))
def test_each_kind_is_logged_once_and_queued_in_the_same_commit(csrf_client, kind):
    response = post(csrf_client, kind)
    assert response.status_code == 200
    delivery = CallbackDelivery.objects.get()
    assert delivery.kind == kind
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.upload_file_key == "ufk-1"
    # The account key was checked; it is not kept in the log (it would be in every row).
    assert "content_provider_key" not in delivery.payload
    assert delivery.payload["upload_file_key"] == "ufk-1"
    queued = [q.task for q in OrmQ.objects.all()]
    assert [(t["func"], t["args"]) for t in queued] == [
        ("wagtail_kollus.media.tasks.process_callback", (delivery.fingerprint,))
    ]


@pytest.mark.django_db
def test_duplicate_delivery_is_200_and_queues_nothing_more(csrf_client):
    first = post(csrf_client, "transcoding")
    second = post(csrf_client, "transcoding")
    assert first.status_code == second.status_code == 200
    delivery = CallbackDelivery.objects.get()
    assert delivery.times_received == 2
    assert OrmQ.objects.count() == 1


@pytest.mark.django_db
def test_a_different_result_for_the_same_media_is_a_new_delivery(csrf_client):
    post(csrf_client, "transcoding")
    post(csrf_client, "transcoding", transcoding_result="fail")
    assert CallbackDelivery.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token, account",
    [
        ("wrong-token-0123456789-xxxxxxx", ACCOUNT),  # forged URL
        (TOKEN[:-1], ACCOUNT),  # a prefix of the token
        (TOKEN, "someone-else"),  # another Kollus account
        (TOKEN, None),  # no account key at all
        (TOKEN, ""),
    ],
)
def test_forged_or_unauthenticated_is_403_and_changes_nothing(csrf_client, token, account):
    KollusMedia.objects.create(title="Intro", upload_file_key="ufk-1", state="uploading")
    response = post(csrf_client, "transcoding", token=token, account=account)
    assert response.status_code == 403
    assert not CallbackDelivery.objects.exists()
    assert KollusMedia.objects.get().state == "uploading"


@pytest.mark.django_db
def test_unset_callback_token_refuses_everything(csrf_client, settings):
    settings.WAGTAIL_KOLLUS = {**settings.WAGTAIL_KOLLUS, "CALLBACK_TOKEN": ""}
    # Even the literal empty token (a URL Kollus could never be given) must not pass.
    response = csrf_client.post(
        "/kollus/callbacks/upload//", dict(PAYLOADS["upload"], content_provider_key=ACCOUNT)
    )
    assert response.status_code == 404
    response = post(csrf_client, "upload", token="anything")
    assert response.status_code == 403
    assert not CallbackDelivery.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind, change",
    [
        ("upload", {"upload_file_key": ""}),
        ("transcoding", {"transcoding_result": "maybe"}),
        ("transcoding", {"transcoding_result": ""}),
        ("channel-add", {"channel_key": ""}),
        ("upload", {"filename": "x" * 5000}),
    ],
)
def test_malformed_is_400_and_changes_nothing(csrf_client, kind, change):
    response = post(csrf_client, kind, **change)
    assert response.status_code == 400
    assert not CallbackDelivery.objects.exists()


@pytest.mark.django_db
def test_json_body_is_400(csrf_client):
    response = csrf_client.post(
        url("upload"),
        data={"content_provider_key": ACCOUNT, "upload_file_key": "ufk-1"},
        content_type="application/json",
    )
    assert response.status_code == 400


@pytest.mark.django_db
def test_get_is_not_allowed(csrf_client):
    assert csrf_client.get(url("upload")).status_code == 405
    assert not CallbackDelivery.objects.exists()


@pytest.mark.django_db
def test_refusals_never_log_the_token_or_key(csrf_client, caplog):
    post(csrf_client, "upload", token="forged-" + TOKEN, account="forged-account-key")
    post(csrf_client, "upload", account="forged-account-key")
    text = caplog.text
    assert "Refused" in text
    assert TOKEN not in text and "forged-account-key" not in text


def test_every_kind_has_an_endpoint():
    kinds = {kind for kind, _ in CallbackKind.choices}
    assert kinds == set(PAYLOADS)
    for kind in kinds:
        assert url(kind).startswith("/kollus/callbacks/")


# --- URLs as Kollus may be given them, bodies as a Korean sender may post them ----------------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(PAYLOADS))
def test_the_url_without_its_trailing_slash_is_the_same_endpoint(csrf_client, kind):
    """Kollus posts to exactly what was pasted; APPEND_SLASH would lose the POST (301) or,
    with DEBUG, answer 500."""
    unslashed = url(kind).rstrip("/")
    assert unslashed == reverse(f"wagtail_kollus:callback-{kind}-unslashed", kwargs={"token": TOKEN})
    form = dict(PAYLOADS[kind], content_provider_key=ACCOUNT)
    assert csrf_client.post(unslashed, form).status_code == 200
    assert csrf_client.post(unslashed.replace(TOKEN, "forged"), form).status_code == 403
    assert csrf_client.get(unslashed).status_code == 405
    assert CallbackDelivery.objects.get().kind == kind


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_unknown_callback_urls_are_404_not_the_sites_csrf_403(csrf_client, settings, debug):
    settings.DEBUG = debug
    form = dict(PAYLOADS["upload"], content_provider_key=ACCOUNT)
    for path in (
        f"/kollus/callbacks/no-such-kind/{TOKEN}/",
        f"/kollus/callbacks/no-such-kind/{TOKEN}",
        f"/kollus/callbacks/{TOKEN}/",
        f"/kollus/callbacks/{TOKEN}",
        f"/kollus/callbacks/upload/{TOKEN}/extra/",
    ):
        assert csrf_client.post(path, form).status_code == 404, path
        assert csrf_client.get(path).status_code == 404, path
    assert not CallbackDelivery.objects.exists()


KOREAN_FILE = "강의 소개.mp4"


@pytest.mark.django_db
@pytest.mark.parametrize("charset", ["EUC-KR", "euc-kr", "cp949", "UTF-8", "utf8"])
def test_a_form_in_a_korean_charset_is_read_in_that_charset(csrf_client, charset):
    from urllib.parse import urlencode

    form = dict(PAYLOADS["upload"], content_provider_key=ACCOUNT, full_filename=KOREAN_FILE)
    body = urlencode(form, encoding=charset)  # what a form post in that charset sends
    response = csrf_client.generic(
        "POST", url("upload"), body.encode("ascii"),
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert response.status_code == 200, response.content
    assert CallbackDelivery.objects.get().payload["full_filename"] == KOREAN_FILE


@pytest.mark.django_db
def test_an_unencoded_euc_kr_body_and_a_euc_kr_multipart_are_read_too(csrf_client):
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    form = dict(PAYLOADS["upload"], content_provider_key=ACCOUNT, full_filename=KOREAN_FILE)
    raw = "&".join(f"{name}={value}" for name, value in form.items()).encode("euc-kr")
    response = csrf_client.generic(
        "POST", url("upload"), raw,
        content_type="application/x-www-form-urlencoded; charset=EUC-KR",
    )
    assert response.status_code == 200, response.content
    multipart = encode_multipart(BOUNDARY, dict(form, upload_file_key="ufk-2"))
    multipart = multipart.decode("utf-8").encode("euc-kr")
    response = csrf_client.generic(
        "POST", url("upload"), multipart, content_type=f"{MULTIPART_CONTENT}; charset=EUC-KR"
    )
    assert response.status_code == 200, response.content
    stored = {d.upload_file_key: d.payload["full_filename"] for d in CallbackDelivery.objects.all()}
    assert stored == {"ufk-1": KOREAN_FILE, "ufk-2": KOREAN_FILE}


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "content_type, body",
    [
        ("multipart/form-data", b"no boundary at all"),
        ("multipart/form-data; boundary=", b"--\r\n"),
        ("application/x-www-form-urlencoded", "&".join(f"f{n}=1" for n in range(1100)).encode()),
    ],
    ids=["multipart-without-boundary", "multipart-empty-boundary", "too-many-fields"],
)
def test_an_unreadable_body_is_a_clean_400(csrf_client, settings, debug, content_type, body):
    settings.DEBUG = debug
    response = csrf_client.generic("POST", url("upload"), body, content_type=content_type)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert TOKEN not in response.content.decode()
    assert not CallbackDelivery.objects.exists()
