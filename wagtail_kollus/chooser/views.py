"""The modal's views: Wagtail's generic chooser views over the contents API.

Steps, all rendered through Wagtail's own modal JavaScript (no custom modal code):
1. ``ChooseView`` / ``ChooseResultsView``: search, filter and page through contents.
2. ``ChooseItemView``: the chapters and video items of one content (returned as a "choose"
   step, so the stock handler wires its links); a content with a single Kollus item skips it.
3. ``ChosenView``: copies the chosen item into a ``KollusVideo`` and answers with that row.
The "Upload" tab (``UploadTabMixin``, for users who may add library media) holds the media
upload form; its "Use this video" is ``LibraryVideoChosenView``, another chosen step.
Remote failures render an error step with a retry link in place of a listing; never a 500.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View
from wagtail import hooks
from wagtail.admin.modal_workflow import render_modal_workflow
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.chooser import (
    ChooseResultsView,
    ChooseView,
    ChosenResponseMixin,
    ModelLookupMixin,
)

from ..api.errors import (
    AuthenticationError,
    BadResponseError,
    ConfigurationError,
    KollusAPIError,
    NotFoundError,
    RateLimitedError,
)
from ..api.types import Content
from ..media.forms import UploadOptionsForm
from ..media.upload import may_follow_upload, upload_form_context
from ..models import KollusMedia, KollusVideo, MediaState
from .copying import copy_item_to_video, copy_media_to_video
from .forms import FILTER_PARAMETERS, ContentFilterForm
from .items import ItemChoice, item_choices
from .language import api_language, editor_language
from .remote import ContentsBrowser, PlayableItem, RemoteContentQuerySet, playable_items
from .rows import content_rows
from .widgets import chosen_video_data

logger = logging.getLogger(__name__)

CONSTRUCT_QUERYSET_HOOK = "construct_kollus_video_chooser_queryset"


def describe_remote_error(error: KollusAPIError) -> str:
    """What an editor should read when the contents API failed; no keys, no stack traces."""
    if isinstance(error, ConfigurationError):
        return _("The contents API is not configured. Ask an administrator to set it up.")
    if isinstance(error, AuthenticationError):
        return _(
            "The contents API refused this site's key. Ask an administrator to check the "
            "configured contents API key."
        )
    if isinstance(error, NotFoundError):
        return _("This content no longer exists in the contents API.")
    if isinstance(error, RateLimitedError):
        return _("The contents API asked us to slow down. Wait a moment, then try again.")
    if isinstance(error, BadResponseError):
        return _("The contents API sent an answer that could not be read. Try again shortly.")
    return _("The contents API is not answering right now. Try again in a moment.")


class RemoteErrorMixin:
    """Turn a failed remote call into a readable step with a "Try again" link."""

    request: HttpRequest
    error_template_name = "wagtail_kollus/chooser/error.html"

    @cached_property
    def browser(self) -> ContentsBrowser:
        return ContentsBrowser()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = super().dispatch(request, *args, **kwargs)
            if hasattr(response, "render"):
                # Lazy template responses read the listing while rendering: do it while the
                # errors can still be caught and the HTTP session is still open.
                response.render()
            return response
        except KollusAPIError as error:
            # The exception text is already redacted (api.errors); log it for the operator.
            logger.warning("Kollus video chooser: contents API call failed: %s", error)
            return self.render_remote_error(error)
        finally:
            if "browser" in self.__dict__:
                self.browser.close()

    def get_retry_url(self) -> str:
        return self.request.get_full_path()

    def get_error_context(self, error: KollusAPIError) -> dict[str, Any]:
        return {
            "message": describe_remote_error(error),
            "retry_url": self.get_retry_url(),
            "header_icon": "media",
            "page_title": _("Choose a video"),
        }

    def render_remote_error(self, error: KollusAPIError) -> HttpResponse:
        # A modal-workflow "choose" step: the stock handler binds the retry link, which is
        # marked like a result link, so it reloads this step in the modal.
        return render_modal_workflow(
            self.request,
            self.error_template_name,
            None,
            self.get_error_context(error),
            json_data={"step": "choose", "error": True},
        )


class ContentListingMixin:
    """The listing over the contents API, shared by the full modal and its results fragment."""

    request: HttpRequest
    filter_form_class = ContentFilterForm
    results_template_name = "wagtail_kollus/chooser/results.html"
    choose_item_url_name: str | None = None

    @cached_property
    def default_language(self) -> str:
        return editor_language(self.request)

    def get_object_list(self) -> RemoteContentQuerySet:
        return RemoteContentQuerySet(self.browser, page_size=self.per_page).for_page(
            self._requested_page()
        )

    def _requested_page(self) -> int:
        try:
            return int(self.request.GET.get("p", 1))
        except (TypeError, ValueError):
            return 1

    def get_results_page(self, request: HttpRequest) -> Any:
        try:
            return super().get_results_page(request)
        except Http404:
            # The listing shrank since the link was made (or the number is nonsense): show
            # its last page rather than an admin 404 inside the modal.
            return self.paginator.page(self.paginator.num_pages)

    def apply_object_list_ordering(self, objects: RemoteContentQuerySet) -> RemoteContentQuerySet:
        return objects  # the API's own order; it has no ordering parameter

    # Only the full modal renders the filter form, so only it needs the category names.
    lists_categories = True

    def get_filter_form(self) -> ContentFilterForm:
        categories = None
        notice = ""
        if self.lists_categories:
            language = api_language(self.request.GET.get("language")) or self.default_language
            try:
                categories = self.browser.categories(language)
            except KollusAPIError as error:
                # A secondary call: the listing and search still work without it, so the
                # editor gets them, minus the category filter, and is told why it is missing.
                logger.warning("Kollus video chooser: categories unavailable: %s", error)
                notice = _(
                    "The category filter is missing because the categories could not be "
                    "loaded. %(reason)s"
                ) % {"reason": describe_remote_error(error)}
        return self.filter_form_class(
            self.request.GET,
            default_language=self.default_language,
            categories=categories,
            categories_notice=notice,
        )

    def filter_object_list(self, objects: RemoteContentQuerySet) -> RemoteContentQuerySet:
        if self.filter_form.is_valid():
            objects = self.filter_form.filter(objects)
        else:
            # An invalid filter (say, a tag that is not a number) must not widen the listing
            # to every language: keep the language at least.
            objects = objects.filter(language=self.filter_form.selected_language)
        # Sites scope what editors may browse (a category per team, say) with this hook:
        # ``fn(objects, request)`` returns ``objects.filter(category_id=...)`` or similar.
        for hook in hooks.get_hooks(CONSTRUCT_QUERYSET_HOOK):
            objects = hook(objects, self.request)
        return objects

    @cached_property
    def listing_querystring(self) -> str:
        """The current search/filter/page parameters, carried into the item step and back."""
        params = {
            name: self.request.GET[name] for name in FILTER_PARAMETERS if self.request.GET.get(name)
        }
        if "content_type" in self.request.GET:
            # An empty type is the editor's "All types", not an absent filter.
            params["content_type"] = self.request.GET["content_type"]
        params["language"] = self.filter_form.selected_language
        return urlencode(params)

    def get_item_step_url(self, content: Content) -> str:
        url = reverse(self.choose_item_url_name, args=(content.content_id,))
        return f"{url}?{self.listing_querystring}"

    @property
    def columns(self) -> list:
        return []  # the rows are rendered by results_template_name, not by table components

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["content_rows"] = content_rows(
            list(self.results.object_list), self.get_item_step_url
        )
        return context


class UploadTabMixin:
    """The modal's "Upload" tab: Wagtail's own creation-form tab, holding the media upload form.

    Wagtail shows the tab when the context has a ``creation_form`` and renders
    ``creation_form_template_name`` as its panel; the form itself is posted by ``upload.js``
    (straight to Kollus), never to Wagtail's create view.
    """

    request: HttpRequest
    creation_form_template_name = "wagtail_kollus/chooser/upload_tab.html"
    chosen_library_url_name: str | None = None

    def can_create(self) -> bool:
        # Uploading creates a KollusMedia, so the library's permission decides, not KollusVideo's.
        return self.request.user.has_perm("wagtail_kollus.add_kollusmedia")

    def get_creation_form(self) -> UploadOptionsForm:
        # Own ids: the modal lives inside the page editor, which already has an #id_title.
        return UploadOptionsForm(user=self.request.user, auto_id="kollus_upload_%s")

    def get_creation_form_context_data(self, form: UploadOptionsForm) -> dict[str, Any]:
        return {
            **upload_form_context(self.request, upload_form=form),
            "upload_form": form,
            "creation_form": form,
            "chosen_library_url": self.append_preserved_url_parameters(
                reverse(self.chosen_library_url_name)
            ),
        }


class KollusContentChooseView(RemoteErrorMixin, UploadTabMixin, ContentListingMixin, ChooseView):
    template_name = "wagtail_kollus/chooser/choose.html"


class KollusContentChooseResultsView(RemoteErrorMixin, ContentListingMixin, ChooseResultsView):
    choose_url_name: str | None = None
    lists_categories = False
    results_error_template_name = "wagtail_kollus/chooser/results_error.html"

    def render_remote_error(self, error: KollusAPIError) -> HttpResponse:
        # This view answers an HTML fragment that replaces the results, not a modal step.
        return TemplateResponse(
            self.request, self.results_error_template_name, self.get_error_context(error)
        )

    def get_retry_url(self) -> str:
        # The fragment is swapped into the modal; retrying reloads the whole step, filters kept.
        query = self.request.GET.urlencode()
        url = reverse(self.choose_url_name)
        return f"{url}?{query}" if query else url


def _item_choice_pk(content: Content, entry: PlayableItem) -> str:
    return f"{content.content_id}-{entry.item.item_id}"


def chosen_response(
    view: ChosenResponseMixin,
    content: Content,
    entry: PlayableItem,
    *,
    language: str,
) -> HttpResponse:
    video = copy_item_to_video(
        content,
        entry.chapter,
        entry.item,
        language=language,
        media_content_key=entry.media_content_key or "",
    )
    return view.get_chosen_response(video)


class KollusVideoChosenResponseMixin(ChosenResponseMixin):
    """The chosen answer carries what the widget shows: poster, details, preview link."""

    def get_chosen_response_data(self, item: Any) -> dict[str, Any]:
        data = super().get_chosen_response_data(item)
        data.update(chosen_video_data(item))
        data["duration_seconds"] = item.duration_seconds
        return data


class ChooseItemView(RemoteErrorMixin, KollusVideoChosenResponseMixin, View):
    """Step 2: pick the exact video item of one content."""

    template_name = "wagtail_kollus/chooser/items.html"
    choose_url_name: str | None = None
    chosen_url_name: str | None = None

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.language = api_language(request.GET.get("language")) or editor_language(request)

    def get(self, request: HttpRequest, content_id: int) -> HttpResponse:
        content = self.browser.content(content_id, self.language)
        choices = item_choices(playable_items(content))
        if len(choices) == 1 and choices[0].choosable:
            # One video, nothing to decide: choose it in the same click.
            return chosen_response(self, content, choices[0].entry, language=self.language)
        return render_modal_workflow(
            request,
            self.template_name,
            None,
            self.get_context_data(content, choices),
            json_data={"step": "choose"},
        )

    def get_context_data(self, content: Content, choices: list[ItemChoice]) -> dict[str, Any]:
        listing_query = self.request.GET.urlencode()
        back_url = reverse(self.choose_url_name)
        chapters: list[dict[str, Any]] = []
        for choice in choices:
            entry = choice.entry
            if not chapters or chapters[-1]["chapter"] is not entry.chapter:
                chapters.append({"chapter": entry.chapter, "items": []})
            chosen_url = reverse(self.chosen_url_name, args=(_item_choice_pk(content, entry),))
            chapters[-1]["items"].append(
                {
                    "item": entry.item,
                    "choosable": choice.choosable,
                    "chosen_url": f"{chosen_url}?{urlencode({'language': self.language})}",
                    "reason": choice.reason,
                }
            )
        return {
            "content": content,
            "chapters": chapters,
            "back_url": f"{back_url}?{listing_query}" if listing_query else back_url,
            "header_icon": "media",
            "page_title": _("Choose a video"),
            "page_subtitle": content.title,
        }


class KollusVideoChosenView(
    RemoteErrorMixin, KollusVideoChosenResponseMixin, ModelLookupMixin, View
):
    """Step 3: copy the chosen chapter item locally and hand its ``KollusVideo`` to the widget.

    The URL's ``pk`` is ``"<content_id>-<item_id>"``: the remote coordinates, because the local
    row does not exist until this view creates it.
    """

    def get(self, request: HttpRequest, pk: str) -> HttpResponse:
        try:
            content_id, item_id = (int(part) for part in pk.split("-", 1))
        except ValueError as error:
            raise Http404 from error
        language = api_language(request.GET.get("language")) or editor_language(request)
        content = self.browser.fresh_content(content_id, language)
        entries = [e for e in playable_items(content) if e.item.item_id == item_id]
        if not entries:
            raise NotFoundError(_("This item is no longer part of the content."))
        choice = item_choices(entries[:1])[0]
        if not choice.choosable:
            # Never trust the link: the item step shows these disabled, but a hand-made URL
            # must not create a row that cannot play.
            return render_modal_workflow(
                request,
                self.error_template_name,
                None,
                {
                    **self.get_error_context(NotFoundError()),
                    "message": choice.reason,
                    "retry_url": "",
                },
                json_data={"step": "choose", "error": True},
            )
        return chosen_response(self, content, choice.entry, language=language)


class LibraryVideoChosenView(KollusVideoChosenResponseMixin, View):
    """The upload tab's "Use this video": the uploaded media becomes a library ``KollusVideo``.

    ``?media=<KollusMedia id>``. A video still uploading or transcoding may be chosen (pages
    show the placeholder until it is ready); a failed or deleted one never plays, so it is
    refused with a readable step rather than a row that cannot play.
    """

    error_template_name = "wagtail_kollus/chooser/error.html"
    refused_states = (MediaState.FAILED, MediaState.DELETED)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The same permission as the tab that offers this button.
        if not request.user.has_perm("wagtail_kollus.add_kollusmedia"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            media_id = int(request.GET.get("media", ""))
        except ValueError as error:
            raise Http404 from error
        media = KollusMedia.objects.filter(pk=media_id).first()
        # The tab offers the editor's own upload; another's takes "change" on videos.
        if media is None or not may_follow_upload(request.user, media):
            raise Http404
        if media.state in self.refused_states:
            return render_modal_workflow(
                request,
                self.error_template_name,
                None,
                {
                    "message": _("This video failed or was deleted, so it cannot be used."),
                    "retry_url": "",
                    "header_icon": "media",
                    "page_title": _("Choose a video"),
                },
                json_data={"step": "choose", "error": True},
            )
        return self.get_chosen_response(copy_media_to_video(media))


class ChosenVideoPreviewView(WagtailAdminTemplateMixin, TemplateView):
    """The widget's "Preview video": the chosen video in the player, as a page would show it."""

    template_name = "wagtail_kollus/chooser/preview.html"
    header_icon = "media"
    breadcrumbs_items = []  # a page of its own (opened in a new tab): title and subtitle only

    def get(self, request: HttpRequest, video_id: int) -> HttpResponse:
        self.video = get_object_or_404(KollusVideo, pk=video_id)
        return super().get(request, video_id=video_id)

    def get_page_title(self) -> str:
        return _("Preview video")

    def get_page_subtitle(self) -> str:
        return self.video.title

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # Late imports: the template tag module belongs to playback and loads the player.
        from ..blocks import KollusVideoBlock
        from ..playback.markup import render_player

        # As a block with default options plays it (the chosen item's title in the player).
        value = KollusVideoBlock().to_python({"video": self.video.pk})
        context = super().get_context_data(**kwargs)
        context.update(
            video=self.video,
            details=chosen_video_data(self.video)["details"],
            # Cache-safe: the HTML holds only a signed reference and player.js fetches the
            # URL from the token endpoint, so no admin screen carries the player URL's custom
            # key (docs/security.md allows it only in the site's own render-time pages).
            player=render_player(
                value, request=self.request, cache_safe=True, width=800, height=450
            ),
        )
        return context


__all__ = [
    "ChooseItemView",
    "ChosenVideoPreviewView",
    "LibraryVideoChosenView",
    "KollusContentChooseResultsView",
    "KollusContentChooseView",
    "KollusVideoChosenView",
]
