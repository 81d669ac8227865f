import pytest
from django.core.management import call_command

from wagtail_kollus.checks import check_settings


def ids(messages):
    return {m.id for m in messages}


def test_configured_settings_pass(settings):
    assert not [m for m in check_settings() if m.id != "wagtail_kollus.W003"]


def test_missing_keys_warn_with_hint(settings, monkeypatch):
    for name in ("CONTENTS_API_KEY", "KOLLUS_ACCESS_TOKEN"):
        monkeypatch.delenv(f"WAGTAIL_KOLLUS_{name}", raising=False)
    settings.WAGTAIL_KOLLUS = {}
    messages = check_settings()
    assert "wagtail_kollus.W001" in ids(messages)
    assert all(m.hint for m in messages)


def test_malformed_url_is_an_error(settings):
    settings.WAGTAIL_KOLLUS = {"CONTENTS_API_URL": "shop.example.com/api"}
    assert "wagtail_kollus.E002" in ids(check_settings())


def test_not_a_dict_is_an_error(settings):
    settings.WAGTAIL_KOLLUS = "nope"
    assert ids(check_settings()) == {"wagtail_kollus.E001"}


def test_bad_number_and_language(settings):
    settings.WAGTAIL_KOLLUS = {"READ_TIMEOUT": "10", "DEFAULT_LANGUAGE": "fr"}
    assert {"wagtail_kollus.E003", "wagtail_kollus.E004"} <= ids(check_settings())


def test_unknown_key_and_short_callback_token_warn(settings):
    settings.WAGTAIL_KOLLUS = {"CONTENTS_API_UR": "x", "CALLBACK_TOKEN": "short"}
    assert {"wagtail_kollus.W002", "wagtail_kollus.W004"} <= ids(check_settings())


# Django 6.1's `check` runs the database checks by default (JSONField support and so on).
@pytest.mark.django_db
def test_manage_py_check_passes_on_the_test_settings():
    call_command("check", fail_level="ERROR")
