"""Who may play: the site's playback policy, asked when a player renders and when Kollus plays.

A policy is a class named by the ``PLAYBACK_POLICY`` setting (a dotted path, as Django's
authentication backends are), with one method::

    def decide(self, viewer: Viewer, page: Page | None, media_content_key: str) -> Decision

returning :meth:`Decision.allow`, :meth:`Decision.preview` (the first N seconds: Kollus's
``play_section``) or :meth:`Decision.refuse` (a message the viewer reads). It is asked

* when the page renders a player (render-time signing) or the token endpoint mints a URL
  (cache-safe playback): a refused viewer gets the message instead of a player;
* by the play callback, when Kollus asks whether this play may start: ``viewer.request`` is
  then ``None`` and ``page`` is loaded lazily (reading ``page.pk`` costs nothing, any other
  field one query). Answer from local data only: Kollus waits a few seconds at most.

The default, :class:`PagePrivacyPolicy`, follows the page's Wagtail privacy settings.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, ClassVar

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import router
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils.functional import SimpleLazyObject
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from ..api.errors import ConfigurationError
from ..conf import kollus_settings
from ..prepared import PreparedStatement, Slot, UnpreparedValue, prepare_select, sentinel_for
from .viewer import Viewer


@dataclass(frozen=True)
class Decision:
    """A policy's answer. Build it with :meth:`allow`, :meth:`preview` or :meth:`refuse`."""

    ALLOW: ClassVar[str] = "allow"
    PREVIEW: ClassVar[str] = "preview"
    REFUSE: ClassVar[str] = "refuse"

    outcome: str
    preview_seconds: int = 0
    message: str = ""
    # Why a play is refused, for the refused plays report (``RefusalReason`` codes, or a
    # code of the site's own). Never sent to the viewer.
    reason: str = ""

    @classmethod
    def allow(cls) -> Decision:
        return cls(cls.ALLOW)

    @classmethod
    def preview(cls, seconds: int, message: str = "") -> Decision:
        """Play the first ``seconds`` only (``message``: shown next to the player, optional)."""
        seconds = int(seconds)
        if seconds <= 0:
            raise ValueError("A preview lasts a positive number of seconds.")
        return cls(cls.PREVIEW, preview_seconds=seconds, message=str(message))

    @classmethod
    def refuse(cls, message: str, reason: str = "policy") -> Decision:
        """Refuse with ``message`` (what the viewer reads); ``reason``: a short code for the
        refused plays report (``"policy"`` unless given)."""
        return cls(
            cls.REFUSE,
            message=str(message) or _("You cannot watch this video."),
            reason=str(reason) or "policy",
        )

    @property
    def plays(self) -> bool:
        return self.outcome != self.REFUSE

    def play_section(self) -> dict[str, int] | None:
        """Kollus's ``play_section`` for a preview (JSON integers), else ``None``."""
        if self.outcome != self.PREVIEW:
            return None
        return {"start_time": 0, "end_time": self.preview_seconds}


class PlaybackPolicy:
    """Base class of playback policies: override :meth:`decide`.

    ``verbose_name`` and ``description`` are optional: the page editor's "Who can play" panel
    says "Decided by <verbose_name>: <description>" for a policy of the site's own (both may
    be lazy translations).
    """

    verbose_name: ClassVar[Any] = ""
    description: ClassVar[Any] = ""

    def decide(self, viewer: Viewer, page: Any, media_content_key: str) -> Decision:
        raise NotImplementedError(f"{type(self).__name__} must implement decide().")


class AllowEveryone(PlaybackPolicy):
    """Every viewer plays (the play callback then only counts streams)."""

    def decide(self, viewer: Viewer, page: Any, media_content_key: str) -> Decision:
        return Decision.allow()


# Where a request keeps the privacy answers of its pages: a page with ten players asks once.
_MEMO_ATTRIBUTE = "_wagtail_kollus_page_privacy"


class PagePrivacyPolicy(PlaybackPolicy):
    """Plays where Wagtail would serve the page: its privacy (``PageViewRestriction`` of the
    page and its ancestors: logged-in users, groups, a password) decides.

    A viewer it refuses watches a preview of ``PLAYBACK_PREVIEW_SECONDS`` when that is set,
    and is refused with a message saying what they need otherwise. One query per page and
    viewer, the user's state and groups included.
    """

    def decide(self, viewer: Viewer, page: Any, media_content_key: str) -> Decision:
        if page is None or page.pk is None:
            return Decision.allow()
        unmet = self.unmet_restriction(viewer, page.pk, page.__dict__.get("path", ""))
        if unmet is None:
            return Decision.allow()
        preview = int(kollus_settings.PLAYBACK_PREVIEW_SECONDS or 0)
        if preview > 0:
            return Decision.preview(preview)
        return Decision.refuse(
            self.refusal_message(unmet, viewer), reason=self.refusal_reason(unmet)
        )

    def refusal_reason(self, restriction_type: str) -> str:
        """The refused plays report's code for an unmet restriction of this type."""
        from wagtail.models import PageViewRestriction

        return {
            PageViewRestriction.PASSWORD: "password_required",
            PageViewRestriction.LOGIN: "login_required",
            PageViewRestriction.GROUPS: "group_required",
        }.get(restriction_type, "policy")

    def refusal_message(self, restriction_type: str, viewer: Viewer) -> str:
        from wagtail.models import PageViewRestriction

        if restriction_type == PageViewRestriction.PASSWORD:
            return _("Enter this page's password to watch this video.")
        if restriction_type == PageViewRestriction.LOGIN or not viewer.is_authenticated:
            return _("Log in to watch this video.")
        return _("This video is for members of another group.")

    def unmet_restriction(self, viewer: Viewer, page_id: int, path: str = "") -> str | None:
        """The type of the first restriction of the page the viewer does not meet, or None.

        ``path``: the page's tree path, if known (found by index then); else by the page's id.
        """
        memo = getattr(viewer.request, _MEMO_ATTRIBUTE, None)
        key = (page_id, viewer.user_id, viewer.passed_passwords)
        if memo is not None and key in memo:
            return memo[key]
        unmet = self._read_unmet_restriction(viewer, page_id, path)
        if viewer.request is not None:
            if memo is None:
                memo = {}
                # A request-like object without attributes asks every time.
                with contextlib.suppress(AttributeError):
                    setattr(viewer.request, _MEMO_ATTRIBUTE, memo)
            memo[key] = unmet
        return unmet

    def _read_unmet_restriction(self, viewer: Viewer, page_id: int, path: str) -> str | None:
        from wagtail.models import Page

        # The restrictions of the page and its ancestors, whose paths prefix the page's: by
        # the tree paths' index, one lookup per ancestor (treebeard's steplen); by the page's
        # id when the path is not known.
        step = Page.steplen
        prefixes = [path[:end] for end in range(step, len(path) + 1, step)] if path else []
        values: dict[str, Any] = {f"prefix{n}": prefix for n, prefix in enumerate(prefixes)}
        if not prefixes:
            values["page_id"] = page_id
        if viewer.user_id is not None:
            values["user_id"] = viewer.user_id
        using = router.db_for_read(Page)
        statement = _restrictions_statement(using, len(prefixes), viewer.user_id is not None)
        if statement is not None:
            rows = statement.fetchall(using, **values)
        else:
            rows = list(_restrictions_query(using, page_id, prefixes, viewer.user_id))
        restrictions: dict[int, dict[str, Any]] = {}
        for row in rows:
            restriction = restrictions.setdefault(row["pk"], {**row, "member": False})
            restriction["member"] = restriction["member"] or bool(row.get("member"))
        for restriction in restrictions.values():
            if not self._meets(viewer, restriction):
                return restriction["restriction_type"]
        return None

    @staticmethod
    def _meets(viewer: Viewer, restriction: dict[str, Any]) -> bool:
        from wagtail.models import PageViewRestriction

        kind = restriction["restriction_type"]
        if kind == PageViewRestriction.PASSWORD:
            return restriction["pk"] in viewer.passed_passwords
        active = viewer.user_id is not None and restriction.get("superuser") is not None
        if kind == PageViewRestriction.LOGIN:
            return active
        if kind == PageViewRestriction.GROUPS:
            return active and (bool(restriction.get("superuser")) or restriction["member"])
        return True


def _restrictions_query(using: str, page_id: Any, prefixes: list[Any], user_id: Any) -> Any:
    """The restrictions of a page and its ancestors (found by ``prefixes`` of its path, or by
    ``page_id``), each with the user's state and membership of its groups (one query)."""
    from wagtail.models import Page, PageViewRestriction

    restrictions = PageViewRestriction.objects.using(using)
    if prefixes:
        restrictions = restrictions.filter(page__path__in=prefixes)
    else:
        restrictions = restrictions.annotate(
            target_path=Subquery(Page.objects.filter(pk=page_id).values("path")[:1])
        ).filter(target_path__startswith=F("page__path"))
    rows = restrictions.values("pk", "restriction_type", "groups")
    if user_id is None:
        return rows
    user_model = get_user_model()
    # None: no such active user; else whether they are a superuser (one subquery).
    active = user_model._default_manager.filter(pk=user_id, is_active=True)
    rows = rows.annotate(superuser=Subquery(active.values("is_superuser")[:1]))
    if hasattr(user_model, "groups"):
        rows = rows.annotate(
            member=Exists(
                user_model.groups.through.objects.filter(
                    **{user_model.groups.field.m2m_field_name(): user_id},
                    group_id=OuterRef("groups"),
                )
            )
        )
    return rows


@lru_cache(maxsize=64)
def _restrictions_statement(using: str, depth: int, with_user: bool) -> PreparedStatement | None:
    """:func:`_restrictions_query` compiled once per database, path depth and viewer kind
    (:mod:`wagtail_kollus.prepared`: the play callback asks it on every play); ``None`` where
    it cannot be prepared (a user model whose keys are not integers): then the ORM builds it."""
    from wagtail.models import Page

    page_pk, user_pk = Page._meta.pk, get_user_model()._meta.pk
    path_field = Page._meta.get_field("path")
    try:
        slots = {f"prefix{n}": Slot(sentinel_for(path_field, n)) for n in range(depth)}
        page_sentinel, user_sentinel = sentinel_for(page_pk, 0), sentinel_for(user_pk, 1)
        if not depth:
            slots["page_id"] = Slot(page_sentinel, page_pk)
        if with_user:
            slots["user_id"] = Slot(user_sentinel, user_pk)
        query = _restrictions_query(
            using,
            page_sentinel,
            [slots[f"prefix{n}"].sentinel for n in range(depth)],
            user_sentinel if with_user else None,
        )
        return prepare_select(query, slots)
    except (UnpreparedValue, EmptyResultSet, ValidationError, TypeError, ValueError):
        return None


class _LazyPage(SimpleLazyObject):
    """A ``Page`` built on first use of anything but its id and known path.

    Building a ``Page`` instance, even from two columns, walks every relation pointing at
    pages (modelcluster's child relations, twice): on the play callback's path that was
    about a tenth of an answer, for a policy that reads no more than ``page.pk`` and
    ``page.path``. Those are instance attributes here, read before ``LazyObject``'s proxying;
    anything else (``page.title``, ``isinstance(page, Page)``, ``page.specific``) builds the
    page, whose other fields then load on first use as usual.
    """

    def __init__(self, page_id: int, path: str = "") -> None:
        super().__init__(partial(_page_from_db, page_id, path))
        known = {"pk": page_id, "id": page_id}
        if path:
            known["path"] = path
        # Through __dict__: LazyObject.__setattr__ would build the page to set them on it.
        self.__dict__.update(known)


def _page_from_db(page_id: int, path: str) -> Any:
    from wagtail.models import Page

    fields, values = (["id", "path"], [page_id, path]) if path else (["id"], [page_id])
    return Page.from_db(router.db_for_read(Page), fields, values)


def lazy_page(page_id: int | None, path: str = "") -> Any:
    """The page ``page_id`` as a ``Page`` whose fields load on first use (``pk``, and
    ``path`` when given, cost no query and do not even build the instance; any other field
    one query): what the play callback and the token endpoint pass to the policy, which may
    need no more than the id."""
    if page_id is None:
        return None
    return _LazyPage(page_id, path)


@lru_cache(maxsize=8)
def _policy_for(path: str) -> PlaybackPolicy:
    try:
        policy_class = import_string(path)
    except ImportError as exc:
        raise ConfigurationError(
            f"WAGTAIL_KOLLUS['PLAYBACK_POLICY'] = {path!r} cannot be imported: {exc}",
            service="kollus",
        ) from exc
    policy = policy_class()
    if not callable(getattr(policy, "decide", None)):
        raise ConfigurationError(
            f"WAGTAIL_KOLLUS['PLAYBACK_POLICY'] = {path!r} has no decide() method.",
            service="kollus",
        )
    return policy


def playback_policy() -> PlaybackPolicy:
    """The policy the ``PLAYBACK_POLICY`` setting names (one instance per path)."""
    return _policy_for(str(kollus_settings.PLAYBACK_POLICY))
