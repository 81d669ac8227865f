"""Bulk actions of the video library, through Wagtail's bulk-action framework (as images,
documents and snippets do): refresh from Kollus, set category, delete.

Registered with ``register_bulk_action`` (``wagtail_hooks``); the library's checkboxes (grid
and list) and footer come from Wagtail. "Add to collection" is not offered: ``KollusMedia``
has no collection (the library is one account's Kollus library, permissions are per model).

What reaches Kollus follows the single actions: a refresh reads the first video in the
request (an outage or a refused token reaches the editor at once, nothing is queued) and
queues the others (Kollus allows one call a second); a category change is saved and pushed
by the worker (``push_metadata``), as the edit screen does; a delete calls Kollus in the
request, one video after the other, and refuses videos still used, as the single delete
does for editors who may not break pages.
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import messages
from django.shortcuts import get_list_or_404
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.views.bulk_action import BulkAction
from wagtail.permission_policies import ModelPermissionPolicy

from ..accounts import kollus_client
from ..api.errors import KollusAPIError
from ..models import KollusMedia
from . import jobs
from .categories import known_categories
from .delete import delete_media
from .explain import explain
from .filters import exclude_deleted
from .refresh import refresh_or_explain
from .usage import media_usage

logger = logging.getLogger(__name__)

CONFIRM_TEMPLATE = "wagtail_kollus/media/bulk_actions/confirm.html"


class MediaBulkAction(BulkAction):
    models = [KollusMedia]
    template_name = CONFIRM_TEMPLATE
    permission_required = "change"
    #: Shown above the list of selected videos, and on the confirm button.
    question = ""
    confirm_label = _("Yes, continue")

    @property
    def permission_policy(self) -> ModelPermissionPolicy:
        return ModelPermissionPolicy(KollusMedia)

    @classmethod
    def get_queryset(cls, model: Any, object_ids: Any) -> list[KollusMedia]:
        # Deleted rows stay for the pages that point at them; they are not in the library.
        return get_list_or_404(exclude_deleted(model.objects.all()), pk__in=object_ids)

    def get_all_objects_in_listing_query(self, parent_id: Any) -> Any:
        listing = exclude_deleted(KollusMedia.objects.all())
        query = self.request.GET.get("q")
        if query:
            listing = listing.filter(title__icontains=query)
        return listing.values_list("pk", flat=True)

    def check_perm(self, obj: KollusMedia) -> bool:
        return self.permission_policy.user_has_permission(
            self.request.user, self.permission_required
        )

    def get_execution_context(self) -> dict[str, Any]:
        # The actions need the request (messages, the probe) in the class method Wagtail calls.
        return {"action": self}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(question=self.question, confirm_label=self.confirm_label)
        return context


class RefreshBulkAction(MediaBulkAction):
    display_name = _("Refresh from Kollus")
    action_type = "refresh"
    aria_label = _("Refresh the selected videos from Kollus")
    action_priority = 10
    question = _("Re-read these videos from Kollus?")
    confirm_label = _("Yes, refresh")

    @classmethod
    def execute_action(
        cls, objects: list[KollusMedia], action: Any = None, **kwargs: Any
    ) -> tuple[int, int]:
        refreshable = [media for media in objects if media.upload_file_key]
        if not refreshable:
            return 0, 0
        if not refresh_or_explain(action.request, refreshable[0]):
            if len(refreshable) > 1:
                messages.warning(action.request, _("The other videos were not refreshed."))
            return 0, 0
        jobs.enqueue_many("refresh_media", [(media.pk,) for media in refreshable[1:]])
        return len(refreshable), 0

    def get_success_message(self, num_parent_objects: int, num_child_objects: int) -> str | None:
        if not num_parent_objects:
            return None
        return ngettext(
            "%(count)d video will be refreshed from Kollus.",
            "%(count)d videos will be refreshed from Kollus.",
            num_parent_objects,
        ) % {"count": num_parent_objects}


class CategoryForm(forms.Form):
    """The category to give the selected videos.

    Starts on an empty "Choose a category" that must be changed: confirming the form straight
    away used to remove every video's category. Removing it is an explicit choice, "(none)".
    """

    #: The "(none)" choice; "" is the empty, invalid "Choose a category".
    NO_CATEGORY = "__none__"

    category_key = forms.ChoiceField(
        label=_("Category"),
        error_messages={"required": _('Choose a category, or "(none)" to remove it.')},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category_key"].choices = [
            ("", _("Choose a category")),
            (self.NO_CATEGORY, _("(none)")),
            *known_categories(),
        ]

    def clean_category_key(self) -> str:
        key = self.cleaned_data["category_key"]
        return "" if key == self.NO_CATEGORY else key


class SetCategoryBulkAction(MediaBulkAction):
    display_name = _("Set category")
    action_type = "set_category"
    aria_label = _("Set the category of the selected videos")
    action_priority = 20
    form_class = CategoryForm
    question = _("Give these videos the category chosen below?")
    confirm_label = _("Yes, set the category")

    def get_initial(self) -> dict[str, Any]:
        # The category the selected videos already share, if they all share one.
        objects, _without_access = self.get_actionable_objects()
        keys = {media.category_key for media in objects}
        if len(keys) == 1 and (shared := keys.pop()) in dict(known_categories()):
            return {**super().get_initial(), "category_key": shared}
        return super().get_initial()

    def get_execution_context(self) -> dict[str, Any]:
        key = self.cleaned_form.cleaned_data["category_key"]
        return {**super().get_execution_context(), "category_key": key}

    @classmethod
    def execute_action(
        cls, objects: list[KollusMedia], category_key: str = "", **kwargs: Any
    ) -> tuple[int, int]:
        name = dict(known_categories()).get(category_key, "") if category_key else ""
        changed = [media.pk for media in objects if media.category_key != category_key]
        KollusMedia.objects.filter(pk__in=changed).update(
            category_key=category_key, category_name=name
        )
        # Pushed by the worker, as an edit is: Kollus allows one call a second.
        jobs.enqueue_many("push_metadata", [(pk,) for pk in changed])
        return len(objects), 0

    def get_success_message(self, num_parent_objects: int, num_child_objects: int) -> str:
        return ngettext(
            "%(count)d video now has this category; Kollus will be updated in a moment.",
            "%(count)d videos now have this category; Kollus will be updated in a moment.",
            num_parent_objects,
        ) % {"count": num_parent_objects}


class DeleteBulkAction(MediaBulkAction):
    display_name = _("Delete")
    action_type = "delete"
    aria_label = _("Delete the selected videos")
    action_priority = 30
    classes = {"serious"}
    permission_required = "delete"
    question = _("Delete these videos from Kollus? Pages that used them would show a placeholder.")
    confirm_label = _("Yes, delete")

    def get_actionable_objects(self) -> tuple[list[KollusMedia], dict[str, Any]]:
        """Videos still used are refused (listed apart, with where they are used): deleting
        them breaks pages, which the single delete allows only after a confirmation."""
        objects, extras = super().get_actionable_objects()
        unused, in_use = [], []
        for media in objects:
            usage = media_usage(media)
            if usage.is_used:
                in_use.append({"item": media, "count": usage.source_count})
            else:
                unused.append(media)
        return unused, {**extras, "items_in_use": in_use}

    @classmethod
    def execute_action(
        cls, objects: list[KollusMedia], action: Any = None, **kwargs: Any
    ) -> tuple[int, int]:
        client = kollus_client()
        deleted = 0
        for media in objects:
            try:
                delete_media(media, client=client)
            except KollusAPIError as error:
                # The ones before stay deleted (on Kollus too); say which one stopped it.
                logger.warning("Bulk delete of media %s failed: %s", media.pk, error.describe())
                messages.error(
                    action.request,
                    _(
                        "Kollus did not delete '%(title)s', so the videos after it were not "
                        "deleted either: %(reason)s"
                    )
                    % {"title": media, "reason": explain(error)},
                )
                break
            deleted += 1
        return deleted, 0

    def get_success_message(self, num_parent_objects: int, num_child_objects: int) -> str | None:
        if not num_parent_objects:
            return None
        return ngettext(
            "%(count)d video deleted.", "%(count)d videos deleted.", num_parent_objects
        ) % {"count": num_parent_objects}


BULK_ACTIONS = (RefreshBulkAction, SetCategoryBulkAction, DeleteBulkAction)
