import pytest

from wagtail_kollus.conf import kollus_settings


def test_defaults_apply_when_not_set(settings):
    settings.WAGTAIL_KOLLUS = {}
    assert kollus_settings.PLAYER_URL == "https://v.kr.kollus.com"
    assert kollus_settings.PLAYER_TOKEN_LIFETIME == 300


def test_override_settings_reloads(settings):
    settings.WAGTAIL_KOLLUS = {"PLAYER_TOKEN_LIFETIME": 60}
    assert kollus_settings.PLAYER_TOKEN_LIFETIME == 60
    settings.WAGTAIL_KOLLUS = {"PLAYER_TOKEN_LIFETIME": 90}
    assert kollus_settings.PLAYER_TOKEN_LIFETIME == 90


def test_secret_comes_from_environment(settings, monkeypatch):
    monkeypatch.setenv("WAGTAIL_KOLLUS_KOLLUS_ACCESS_TOKEN", "from-env-token")
    settings.WAGTAIL_KOLLUS = {}
    assert kollus_settings.KOLLUS_ACCESS_TOKEN == "from-env-token"


def test_dict_value_wins_over_environment(settings, monkeypatch):
    monkeypatch.setenv("WAGTAIL_KOLLUS_KOLLUS_ACCESS_TOKEN", "from-env-token")
    settings.WAGTAIL_KOLLUS = {"KOLLUS_ACCESS_TOKEN": "from-dict"}
    assert kollus_settings.KOLLUS_ACCESS_TOKEN == "from-dict"


def test_unknown_setting_is_an_attribute_error():
    with pytest.raises(AttributeError):
        kollus_settings.NOT_A_SETTING  # noqa: B018
