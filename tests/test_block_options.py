"""KollusVideoBlock's options as editors meet them: grouped, and absurd values refused."""

from __future__ import annotations

import pytest
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError

from tests.factories import make_video, struct_value
from wagtail_kollus.blocks import TITLE_OVERRIDE_MAX_LENGTH, KollusVideoBlock

pytestmark = pytest.mark.django_db

OPTIONS = [
    "start_time",
    "title_override",
    "autoplay",
    "mute",
    "allow_seek",
    "disable_playrate",
    "resume",
]
RULES = ["no_skip", "seekable_end", "watermark", "disable_nscreen", "skip_intro"]


def test_the_video_comes_first_and_the_options_after_it():
    assert list(KollusVideoBlock().child_blocks) == ["video", *OPTIONS, *RULES]


@pytest.mark.skipif(not hasattr(blocks, "BlockGroup"), reason="BlockGroup arrived in Wagtail 7.3")
def test_the_options_are_one_collapsed_group_after_the_video():
    layout = KollusVideoBlock().meta.form_layout
    video, options, rules = layout.children
    assert video == "video"
    assert isinstance(options, blocks.BlockGroup)
    assert options.children == OPTIONS
    assert "collapsed" in options.classname.split()
    assert str(options.heading) == "Player options"
    assert rules.children == RULES and "collapsed" in rules.classname.split()
    assert str(rules.heading) == "Viewing rules"


@pytest.mark.skipif(hasattr(blocks, "BlockGroup"), reason="Wagtail 7.3+ groups the options")
def test_without_block_groups_the_options_are_listed_flat():
    # Wagtail 7.0: no form_layout, the children in their declared order (video first).
    assert getattr(KollusVideoBlock().meta, "form_layout", None) is None


def test_a_start_time_past_the_end_of_the_video_is_refused():
    video = make_video(1, duration_seconds=90)
    block = KollusVideoBlock()
    with pytest.raises(StructBlockValidationError) as refused:
        block.clean(struct_value(video, start_time=90))
    [error] = refused.value.block_errors["start_time"].messages
    assert "1:30 long (90 seconds)" in error
    assert block.clean(struct_value(video, start_time=89))["start_time"] == 89


def test_any_start_time_is_accepted_while_the_duration_is_unknown():
    video = make_video(1, duration_seconds=None)
    assert KollusVideoBlock().clean(struct_value(video, start_time=5000))["start_time"] == 5000


def test_a_title_override_longer_than_the_player_shows_is_refused():
    video = make_video(1)
    block = KollusVideoBlock()
    too_long = "x" * (TITLE_OVERRIDE_MAX_LENGTH + 1)
    with pytest.raises(StructBlockValidationError) as refused:
        block.clean(struct_value(video, title_override=too_long))
    assert "title_override" in refused.value.block_errors
    fits = "x" * TITLE_OVERRIDE_MAX_LENGTH
    assert block.clean(struct_value(video, title_override=fits))["title_override"] == fits
