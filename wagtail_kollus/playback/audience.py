"""Who can play the videos of a page, in words an editor reads (the "Who can play" panel).

Derived from the configured ``PLAYBACK_POLICY`` and the ``PageViewRestriction`` of the page and
its ancestors — the same two things the policy reads when a viewer plays:

* the default :class:`~.policy.PagePrivacyPolicy` (not overridden): everyone, logged-in users,
  members of these groups, or visitors who gave the page's password (each restriction, with
  the page that sets it when that is an ancestor), and the preview others get;
* :class:`~.policy.AllowEveryone`: everyone;
* any other policy: "decided by <its verbose_name>: <its description>", with the page's
  privacy shown as well when the policy is a ``PagePrivacyPolicy`` subclass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..conf import kollus_settings
from .policy import AllowEveryone, PagePrivacyPolicy, PlaybackPolicy, playback_policy


@dataclass(frozen=True)
class Restriction:
    """One privacy restriction that applies to the page."""

    restriction_type: str  # PageViewRestriction's: "login", "groups", "password"
    group_names: tuple[str, ...] = ()
    # The page that sets it, when that is an ancestor (the editor changes it there).
    inherited_from: Any = None


@dataclass(frozen=True)
class Audience:
    """Who can play, for the panel's template."""

    # "privacy": the page's privacy decides; "everyone": the policy lets everyone play;
    # "policy": a policy of the site's own decides.
    decided_by: str
    restrictions: tuple[Restriction, ...] = ()
    preview_seconds: int = 0
    policy_name: str = ""
    policy_description: str = ""
    # A site policy built on the page's privacy: show the privacy too.
    shows_privacy: bool = False

    @property
    def is_public(self) -> bool:
        return not self.restrictions


def _overrides_decide(policy: PlaybackPolicy, base: type) -> bool:
    return type(policy).decide is not base.decide


def page_restrictions(page: Any, parent_page: Any = None) -> tuple[Restriction, ...]:
    """The restrictions of ``page`` and its ancestors (a page not saved yet: its parent's and
    the parent's ancestors'), nearest last. Two queries (restrictions with their pages, groups)."""
    from wagtail.models import PageViewRestriction

    source = page if page is not None and page.pk else parent_page
    if source is None or not source.pk:
        return ()
    own_id = page.pk if page is not None else None
    rows = (
        source.get_view_restrictions()
        .exclude(restriction_type=PageViewRestriction.NONE)
        .select_related("page")
        .prefetch_related("groups")
        .order_by("page__depth", "pk")
    )
    return tuple(
        Restriction(
            restriction_type=row.restriction_type,
            group_names=tuple(sorted(group.name for group in row.groups.all())),
            inherited_from=None if row.page_id == own_id else row.page,
        )
        for row in rows
    )


def audience_of(page: Any, parent_page: Any = None) -> Audience:
    """Who can play the videos on ``page`` (unsaved: under ``parent_page``) under the site's
    configured playback policy."""
    policy = playback_policy()
    preview = int(kollus_settings.PLAYBACK_PREVIEW_SECONDS or 0)
    if isinstance(policy, AllowEveryone) and not _overrides_decide(policy, AllowEveryone):
        return Audience(decided_by="everyone")
    if isinstance(policy, PagePrivacyPolicy) and not _overrides_decide(policy, PagePrivacyPolicy):
        restrictions = page_restrictions(page, parent_page)
        return Audience(
            decided_by="privacy",
            restrictions=restrictions,
            preview_seconds=preview if restrictions else 0,
        )
    based_on_privacy = isinstance(policy, PagePrivacyPolicy)
    return Audience(
        decided_by="policy",
        restrictions=page_restrictions(page, parent_page) if based_on_privacy else (),
        policy_name=str(getattr(policy, "verbose_name", "") or type(policy).__name__),
        policy_description=str(getattr(policy, "description", "") or ""),
        shows_privacy=based_on_privacy,
    )
