"""``KollusVideoBlock``: a StreamField block that plays one chosen Kollus video.

The block stores the pk of a local ``KollusVideo`` row (copied when the editor chose it), so
rendering a page, loading the editor and building API output never call a remote API: N blocks
cost zero HTTP and one query (``bulk_to_python``: the rows, without their media).

Extend it like any StructBlock: subclass, add child blocks, or set ``Meta.template`` (or pass
``template=``) to render your own template; without one, ``render_basic`` writes the default
player markup (:mod:`wagtail_kollus.playback.markup`), as Wagtail's own blocks do.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.utils.functional import cached_property
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.compare import BlockComparison
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.coreutils import resolve_model_string

from .compat import collapsed_block_group
from .conf import kollus_settings

VIDEO_MODEL = "wagtail_kollus.KollusVideo"
TITLE_OVERRIDE_MAX_LENGTH = 100


@lru_cache(maxsize=1)
def _render_block() -> Any:
    # Imported on first render: playback pulls in the settings, the URLconf and the template
    # machinery, which the block definitions (imported by models.py files) must not need.
    from .playback.markup import render_block

    return render_block


class KollusVideoChooserBlockComparison(BlockComparison):
    """Revision diffs name the video (its title and where it comes from), not a pk."""

    @staticmethod
    def describe(video: Any) -> str:
        if video is None:
            return ""
        where = " / ".join(part for part in (video.content_title, video.chapter_title) if part)
        return f"{video.title} ({where})" if where else video.title

    def htmlvalue(self, val: Any) -> str:
        return escape(self.describe(val))

    def htmldiff(self) -> str:
        # Imported here: the diff helpers live with the comparison machinery.
        from wagtail.admin.compare import diff_text

        return diff_text(self.describe(self.val_a), self.describe(self.val_b)).to_html()

    def has_changed(self) -> bool:
        return getattr(self.val_a, "pk", None) != getattr(self.val_b, "pk", None)


class KollusVideoChooserBlock(blocks.ChooserBlock):
    """Chooses a ``KollusVideo`` through the contents API chooser modal."""

    @cached_property
    def target_model(self) -> type:
        return resolve_model_string(VIDEO_MODEL)

    @cached_property
    def widget(self) -> Any:
        # Late import: the viewset pulls in admin views, which must not load with the models.
        from .chooser.viewsets import kollus_video_chooser_viewset

        return kollus_video_chooser_viewset.widget_class()

    def bulk_to_python(self, values: list[Any]) -> list[Any]:
        """All videos of a page in one plain query: ``in_bulk``, as Wagtail's chooser blocks.

        Read from the database on every render, so a video withdrawn in any process shows its
        placeholder on the next render everywhere. The media are not joined: the row alone says
        whether it plays (``is_available``, kept by :mod:`wagtail_kollus.availability`) and what
        the player shows (title, thumbnail, duration, copied when chosen and kept in step), and
        the join cost more than the rest of the query (Django compiling the media's columns).
        """
        to_python = self.model_class._meta.pk.to_python
        keys = []
        for pk in values:
            try:
                # Older revisions and imports may store "5": the row is the same.
                keys.append(None if pk is None else to_python(pk))
            except (TypeError, ValueError, ValidationError):
                keys.append(None)
        wanted = {key for key in keys if key is not None}
        if not wanted:
            return [None] * len(values)
        objects = self.model_class.objects.in_bulk(wanted)
        if kollus_settings.PROGRESS_TRACKING:
            # Each player then asks whether its media is encrypted (the lesson key extension,
            # KollusVideoValue.allows_key_extension): the page's media in one query, not one
            # per block. Without tracking nothing reads them, so nothing is loaded.
            prefetch_related_objects(list(objects.values()), "media")
        seen: set = set()
        result = []
        for key in keys:
            video = objects.get(key) if key is not None else None
            if video is not None:
                if key in seen:
                    video = copy.copy(video)  # one object per block, as Wagtail's ChooserBlock does
                seen.add(key)
            result.append(video)
        return result

    def get_searchable_content(self, value: Any) -> list[str]:
        if value is None:
            return []
        return [text for text in (value.title, value.content_title) if text]

    def get_api_representation(self, value: Any, context: Any = None) -> Any:
        if value is None:
            return None
        return {
            "id": value.pk,
            "title": value.title,
            "content_id": value.content_id,
            "chapter_id": value.chapter_id,
            "item_id": value.item_id,
            "language": value.language,
            "content_title": value.content_title,
            "chapter_title": value.chapter_title,
            "thumbnail_url": value.thumbnail_url,
            "duration_seconds": value.duration_seconds,
            "is_playable": value.is_playable,
        }

    def get_comparison_class(self) -> type:
        return KollusVideoChooserBlockComparison

    class Meta:
        icon = "media"


# The choices of the block's watermark field ("" keeps the site's PLAYER_WATERMARK). The
# values are playback.options' codes; spelled out here so that models never import playback.
WATERMARK_CHOICES = [
    ("", _("The site's default")),
    ("off", _("No watermark")),
    ("user_id", _("The viewer's id")),
    ("email", _("The viewer's e-mail address")),
    ("name", _("The viewer's name")),
]


class WatermarkChoiceBlock(blocks.ChoiceBlock):
    """The block's watermark choice, read without walking the choices on every render.

    Wagtail's ``ChoiceBlock`` maps a stored value back to its choice through the form field's
    choices, each time a value is built: ~40 µs per block, more than the rest of the block's
    value together (``benchmarks/render.py``). These keys are plain strings, stored as they
    are; an unknown one is still refused when the page is saved (the field's ``clean``).
    """

    def normalize_choice(self, value: Any) -> Any:
        return None if value is None else str(value)


PLAYER_OPTIONS = [
    "start_time",
    "title_override",
    "autoplay",
    "mute",
    "allow_seek",
    "disable_playrate",
    "resume",
]
VIEWING_RULES = ["no_skip", "seekable_end", "watermark", "disable_nscreen", "skip_intro"]


def _form_layout() -> list[Any] | None:
    """The video, then the player options and the viewing rules, each collapsed (Wagtail
    7.3+; flat on older ones)."""
    options = collapsed_block_group(PLAYER_OPTIONS, heading=_("Player options"))
    if options is None:
        return None
    return ["video", options, collapsed_block_group(VIEWING_RULES, heading=_("Viewing rules"))]


class KollusVideoValue(blocks.StructValue):
    """The block's value: the chosen video plus how to play it. No property calls an API."""

    @property
    def video(self) -> Any:
        return self.get("video")

    @property
    def media_content_key(self) -> str:
        video = self.video
        return video.media_content_key if video is not None else ""

    @property
    def title(self) -> str:
        override = (self.get("title_override") or "").strip()
        if override:
            return override
        video = self.video
        return video.title if video is not None else ""

    @property
    def poster_url(self) -> str:
        # The row's own copy (the media's poster when it has no other), never a read of the
        # media: an API listing or a cache-safe page of N videos would cost N more queries.
        video = self.video
        return video.thumbnail_url if video is not None else ""

    @property
    def duration_seconds(self) -> int | None:
        video = self.video
        return video.duration_seconds if video is not None else None

    @property
    def is_playable(self) -> bool:
        video = self.video
        return video is not None and video.is_playable

    @property
    def resume(self) -> bool:
        """Whether a signed-in learner's player starts where they stopped (docs/progress.md)."""
        return bool(self.get("resume", True))

    @property
    def allows_key_extension(self) -> bool:
        """Whether Kollus plays ``{mckey}-{lesson}`` for this video: only unencrypted library
        media (a contents API item's media is not mirrored, so its encryption is unknown)."""
        video = self.video
        media = getattr(video, "media", None) if video is not None else None
        return media is not None and not media.use_encryption

    def mc_options(self) -> dict[str, Any]:
        """Per-item options signed into the player JWT (Kollus's names)."""
        options: dict[str, Any] = {
            "seek": bool(self.get("allow_seek", True)),
            "disable_playrate": bool(self.get("disable_playrate", False)),
        }
        # The player shows the title of what the editor chose (the chapter item, or their
        # override) rather than the library file's name.
        title = self.title
        if title:
            options["title"] = title
        if self.get("no_skip"):
            # Compliance training: no seeking ahead, except within the first seekable_end s
            # when the editor gave it (left out otherwise, so that learner progress, which
            # knows how far this learner watched, may set it).
            options["seek"] = False
            if self.get("seekable_end"):
                options["seekable_end"] = int(self.get("seekable_end"))
        if self.get("disable_nscreen"):
            options["disable_nscreen"] = True
        return options

    def player_options(self) -> dict[str, Any]:
        """The editor's choices resolved per viewer when a token is signed (never a viewer's
        data): the watermark's code, and whether to skip the site's intro video."""
        options: dict[str, Any] = {}
        if self.get("watermark"):
            options["watermark"] = self.get("watermark")
        if self.get("skip_intro"):
            options["intro"] = False
        return options

    def url_params(self) -> dict[str, Any]:
        """Player URL options; only the ones that differ from the player's defaults."""
        params: dict[str, Any] = {}
        if self.get("autoplay"):
            params["autoplay"] = True
        if self.get("mute"):
            params["mute"] = True
        start = self.get("start_time") or 0
        if start > 0:
            params["t"] = int(start)
        return params


class KollusVideoBlock(blocks.StructBlock):
    # The essential choice first; the player options after it, in a collapsed group where
    # Wagtail supports one (Meta.form_layout), since their defaults suit most pages.
    video = KollusVideoChooserBlock(label=_("Video"))
    start_time = blocks.IntegerBlock(
        label=_("Start at (seconds)"),
        required=False,
        min_value=0,
        default=0,
        help_text=_("Must be shorter than the video."),
    )
    title_override = blocks.CharBlock(
        label=_("Title shown in the player"),
        required=False,
        # One line of the player's title bar; the library title is not limited by this.
        max_length=TITLE_OVERRIDE_MAX_LENGTH,
        help_text=_("Leave blank to use the video's own title."),
    )
    autoplay = blocks.BooleanBlock(
        label=_("Autoplay"),
        required=False,
        help_text=_("Browsers only autoplay muted videos."),
    )
    mute = blocks.BooleanBlock(label=_("Start muted"), required=False)
    allow_seek = blocks.BooleanBlock(label=_("Allow seeking"), required=False, default=True)
    disable_playrate = blocks.BooleanBlock(
        label=_("Disable playback speed control"), required=False
    )
    resume = blocks.BooleanBlock(
        label=_("Resume where the learner stopped"),
        required=False,
        default=True,
        help_text=_("With learner progress on, a signed-in learner's player starts there."),
    )
    # Viewing rules: what Kollus enforces in its player (docs/player.md, "Player options").
    no_skip = blocks.BooleanBlock(
        label=_("No skipping ahead"),
        required=False,
        help_text=_("For compliance training: viewers cannot seek forward."),
    )
    seekable_end = blocks.IntegerBlock(
        label=_("Seeking allowed up to (seconds)"),
        required=False,
        min_value=0,
        help_text=_("With no skipping ahead: viewers may still seek within this opening part."),
    )
    watermark = WatermarkChoiceBlock(
        label=_("Viewer watermark"),
        choices=WATERMARK_CHOICES,
        required=False,
        default="",
        help_text=_("Drawn over the video so that a recording can be traced to its viewer."),
    )
    disable_nscreen = blocks.BooleanBlock(
        label=_("No continuing on another device"), required=False
    )
    skip_intro = blocks.BooleanBlock(label=_("Skip the site's intro video"), required=False)

    class Meta:
        icon = "media"
        label = _("Kollus video")
        value_class = KollusVideoValue
        form_classname = "struct-block kollus-video-block"
        form_layout = _form_layout()

    def clean(self, value: KollusVideoValue) -> KollusVideoValue:
        """Refuse a start time at or past the end of the video, when its duration is known,
        and a seeking limit that would do nothing."""
        value = super().clean(value)
        video = value.get("video")
        duration = getattr(video, "duration_seconds", None)
        errors: dict[str, ValidationError] = {}
        start = value.get("start_time") or 0
        if duration and start >= duration:
            from .models.media import format_duration  # late: models load after blocks

            message = _(
                "This video is %(duration)s long (%(seconds)s seconds): start before its end, "
                "or at 0 for the beginning."
            ) % {"duration": format_duration(duration), "seconds": duration}
            errors["start_time"] = ValidationError(message)
        seekable_end = value.get("seekable_end")
        if seekable_end and not value.get("no_skip"):
            errors["seekable_end"] = ValidationError(
                _(
                    "This limit applies only with “No skipping ahead”: tick it, or clear this "
                    "field."
                )
            )
        elif seekable_end and duration and seekable_end >= duration:
            errors["seekable_end"] = ValidationError(
                _(
                    "This video is %(seconds)s seconds long: a limit at or past its end lets "
                    "viewers skip everything. Clear “No skipping ahead” instead."
                )
                % {"seconds": duration}
            )
        if errors:
            raise StructBlockValidationError(block_errors=errors)
        return value

    def render_basic(self, value: KollusVideoValue, context: Any = None) -> SafeString:
        """The default markup (no ``Meta.template`` or ``template=``): the player, or the
        unavailable notice (``wagtail_kollus/blocks/kollus_video_unavailable.html``)."""
        if value.is_playable:
            # The player reads only the request: no copy of the page's context per block.
            return _render_block()(value, context, account=self.get_account(value, context))
        parent_context = dict(context) if context is not None else None
        return _render_block()(value, self.get_context(value, parent_context=parent_context))

    def get_account(self, value: KollusVideoValue, context: Any = None) -> Any:
        """The :class:`~wagtail_kollus.accounts.KollusAccount` whose keys sign this player;
        ``None``: the settings' account. A site with several Kollus accounts overrides it (an
        account is not a block option: block options are written into migrations)."""
        return None

    # --- wagtail-localize ------------------------------------------------------------------
    # Translators translate the title shown in the player; the video and the player options
    # are the same in every translation (a site that wants another video per language chooses
    # it in the translated page). Without these two hooks wagtail-localize walks the struct
    # itself and stops at a blank title override.

    def get_translatable_segments(self, value: Any) -> list[Any]:
        from wagtail_localize.segments import StringSegmentValue

        title = (value.get("title_override") or "").strip()
        return [StringSegmentValue("title_override", title)] if title else []

    def restore_translated_segments(self, value: Any, segments: list[Any]) -> Any:
        for segment in segments:
            if segment.path.split(".")[0] == "title_override":
                value["title_override"] = segment.render_text()
        return value

    def get_api_representation(self, value: Any, context: Any = None) -> dict[str, Any]:
        """Metadata and what a headless front end needs to play (``docs/headless.md``): a
        player URL minted for the requesting viewer, or the cache-safe reference; never a key."""
        data = super().get_api_representation(value, context=context)
        data["title"] = value.title
        data["poster_url"] = value.poster_url
        # Late import: the player and URLs belong to the playback feature.
        from .headless.player import player_representation

        context = context or {}
        data["player"] = player_representation(
            value, request=context.get("request"), page=context.get("page")
        )
        return data
