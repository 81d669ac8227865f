"""Forms of the video library: editing metadata, upload options, and delete confirmation."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from ..accounts import KollusAccount
from ..conf import kollus_settings
from ..models import KollusMedia
from .categories import known_categories, refreshed_categories


def _category_field(
    initial_key: str = "", *, refresh: bool = False, account: KollusAccount | None = None
) -> forms.Field:
    """The category, from the local mirror (``media.categories``); ``refresh``: re-read
    Kollus's list first if it is old (the library's own screens; never the chooser's tab)."""
    choices = refreshed_categories(account) if refresh else known_categories()
    if not choices:
        # Nothing known yet (or Kollus unreachable): the key as text.
        return forms.CharField(label=_("Category key"), required=False, max_length=100)
    if initial_key and initial_key not in dict(choices):
        choices = [*choices, (initial_key, initial_key)]
    return forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("(none)")), *choices]
    )


class MediaEditForm(WagtailAdminModelForm):
    """Title and category; saving queues a push to Kollus (see ``tasks.push_metadata``)."""

    class Meta:
        model = KollusMedia
        fields = ["title", "category_key"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category_key"] = _category_field(self.instance.category_key, refresh=True)

    def save(self, commit: bool = True) -> KollusMedia:
        instance = super().save(commit=False)
        names = dict(known_categories())
        if instance.category_key in names:
            instance.category_name = names[instance.category_key]
        elif not instance.category_key:
            instance.category_name = ""
        if commit:
            instance.save()
        return instance


# Upload options the editor may be allowed to change, mapped to their defaults' settings.
OVERRIDABLE_UPLOAD_FIELDS = ("title", "category_key", "is_encryption_upload", "is_audio_upload")
# Kollus replaces like with like: a new source takes these from the video it replaces.
INHERITED_BY_REPLACEMENTS = ("is_encryption_upload", "is_audio_upload")


class UploadOptionsForm(forms.Form):
    """What the server sends Kollus when asking for an upload URL.

    Defaults come from settings (the category from ``account``, by default the settings'
    account); fields the user may not change are left out, so a posted value for them is
    ignored rather than trusted. ``replacing``: the upload is a new source for an existing
    video, whose encryption and kind it keeps, so those are not offered.
    """

    file_name = forms.CharField(max_length=255, widget=forms.HiddenInput)
    file_size = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), max_length=255, required=False)
    is_encryption_upload = forms.BooleanField(label=_("Encrypted (DRM)"), required=False)
    is_audio_upload = forms.BooleanField(label=_("Audio only"), required=False)

    def __init__(
        self,
        *args,
        user=None,
        replacing: bool = False,
        refresh_categories: bool = False,
        account: KollusAccount | None = None,
        **kwargs,
    ) -> None:
        self.account = account or KollusAccount.from_settings()
        kwargs.setdefault(
            "initial",
            {
                "is_encryption_upload": bool(kollus_settings.UPLOAD_ENCRYPTION),
                "is_audio_upload": bool(kollus_settings.UPLOAD_AUDIO),
                "category_key": self.account.kollus_category_key,
            },
        )
        super().__init__(*args, **kwargs)
        # ``refresh_categories``: the library's upload page may re-read Kollus's list; the
        # chooser's upload tab (the default) reads the mirror only, so it opens at once.
        self.fields["category_key"] = _category_field(
            self.account.kollus_category_key, refresh=refresh_categories, account=self.account
        )
        allowed = self.allowed_overrides(user)
        if replacing:
            allowed -= set(INHERITED_BY_REPLACEMENTS)
        for name in OVERRIDABLE_UPLOAD_FIELDS:
            if name not in allowed:
                del self.fields[name]

    @staticmethod
    def allowed_overrides(user) -> set[str]:
        if user is not None and user.is_superuser:
            return set(OVERRIDABLE_UPLOAD_FIELDS)
        return set(kollus_settings.UPLOAD_EDITOR_OVERRIDES or ()) & set(OVERRIDABLE_UPLOAD_FIELDS)

    def upload_options(self) -> dict:
        """Keyword arguments for ``KollusClient.create_upload_url``."""
        data = self.cleaned_data
        title = data.get("title") or data["file_name"].rsplit(".", 1)[0]
        return {
            "title": title[:255],
            "category_key": data.get("category_key", self.account.kollus_category_key) or None,
            "is_encryption_upload": data.get(
                "is_encryption_upload", bool(kollus_settings.UPLOAD_ENCRYPTION)
            ),
            "is_audio_upload": data.get("is_audio_upload", bool(kollus_settings.UPLOAD_AUDIO)),
            "expire_time": int(kollus_settings.UPLOAD_EXPIRE_TIME),
        }


class ConfirmDeleteUsedForm(forms.Form):
    confirm = forms.BooleanField(
        # The page shows how many places use the video and links to them ("See where"); it
        # does not list them, so the label must not say "listed above".
        label=_("I understand that the pages and content records using this video will show "
                "a placeholder instead of it."),
        required=True,
    )
