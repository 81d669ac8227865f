"""The wagtail-grapple GraphQL type of ``KollusVideoBlock`` (``pip install wagtail-kollus[graphql]``).

Imported by the app's ``ready()`` when ``grapple`` is installed, which registers the type: a
page's ``GraphQLStreamfield`` then answers ``... on KollusVideoBlock { title posterUrl player {
access url expiresIn message reference tokenUrl } }`` with the same ``player`` as the API v2
output (:mod:`.player`): a URL minted for the requesting viewer through the playback policy, the
refusal message, or the cache-safe reference. Never a key or token of the account.

Add :class:`PageOfVideosMiddleware` to ``GRAPHENE["MIDDLEWARE"]`` so the policy learns which page
the videos are on (without it, the policy is asked with no page; grapple serves public pages only).
"""

from __future__ import annotations

from typing import Any

import graphene
from grapple.registry import registry
from grapple.types.streamfield import StreamFieldInterface
from wagtail.blocks import StreamValue
from wagtail.models import Page

from ..blocks import KollusVideoBlock
from .player import player_representation

# Where PageOfVideosMiddleware leaves, on each block of a page's StreamField, the page.
_PAGE_ATTRIBUTE = "_wagtail_kollus_page"


class KollusPlayer(graphene.ObjectType):
    """How to play: see ``docs/headless.md`` (the same fields as the API v2 ``player``)."""

    mode = graphene.String(required=True, description="minted or reference")
    access = graphene.String(description="allow, preview or refuse (minted mode)")
    url = graphene.String(description="A short-lived player URL for the requesting viewer")
    expires_at = graphene.Int()
    expires_in = graphene.Int()
    preview_seconds = graphene.Int()
    message = graphene.String(description="Why the viewer may not play, or a preview's note")
    reference = graphene.String(required=True, description="For the token endpoint")
    token_url = graphene.String()
    # graphene reads each field from the dict by its name: no resolvers needed.


class KollusVideoBlockType(graphene.ObjectType):
    """A ``KollusVideoBlock`` in a page's StreamField."""

    title = graphene.String(required=True)
    poster_url = graphene.String()
    duration_seconds = graphene.Int()
    video_id = graphene.Int()
    is_playable = graphene.Boolean(required=True)
    player = graphene.Field(KollusPlayer)

    class Meta:
        name = "KollusVideoBlock"
        interfaces = (StreamFieldInterface,)

    # ``self`` is grapple's stream child: ``.value`` is the block's KollusVideoValue.
    def resolve_title(self, info: Any) -> str:
        return self.value.title

    def resolve_poster_url(self, info: Any) -> str:
        return self.value.poster_url

    def resolve_duration_seconds(self, info: Any) -> int | None:
        return self.value.duration_seconds

    def resolve_video_id(self, info: Any) -> int | None:
        video = self.value.video
        return video.pk if video is not None else None

    def resolve_is_playable(self, info: Any) -> bool:
        return self.value.is_playable

    def resolve_player(self, info: Any) -> dict[str, Any] | None:
        page = getattr(self, _PAGE_ATTRIBUTE, None)
        return player_representation(self.value, request=info.context, page=page)


class PageOfVideosMiddleware:
    """Graphene middleware: marks each block of a page's StreamField with its page, so the
    player's policy decides for that page (GraphQL resolvers see a block, not its page)."""

    def resolve(self, next: Any, root: Any, info: Any, **kwargs: Any) -> Any:
        result = next(root, info, **kwargs)
        if isinstance(root, Page) and isinstance(result, StreamValue):
            for child in result:
                setattr(child, _PAGE_ATTRIBUTE, root)
        return result


def register() -> None:
    """Register the type with grapple (the app's ``ready()`` does; at any point before the
    schema is built, which is when its URLs are first loaded)."""
    registry.streamfield_blocks[KollusVideoBlock] = KollusVideoBlockType
