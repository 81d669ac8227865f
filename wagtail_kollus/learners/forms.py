"""The filters of the learner progress reports: a period, a completion state, a section."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..compat import get_page_model
from ..stats.forms import DateInput
from .figures import COMPLETED, IN_PROGRESS, Filters


def state_choices() -> list[tuple[str, str]]:
    # Built per form, in the editor's language (as the statistics presets).
    return [
        ("", gettext("Any")),
        (COMPLETED, gettext("Completed")),
        (IN_PROGRESS, gettext("In progress")),
    ]


class ProgressFilterForm(forms.Form):
    start = forms.DateField(label=_("Watched from"), required=False, widget=DateInput())
    end = forms.DateField(label=_("Watched until"), required=False, widget=DateInput())
    state = forms.ChoiceField(label=_("Completion"), required=False)
    section = forms.TypedChoiceField(label=_("Section"), required=False, coerce=int, empty_value=None)

    def __init__(self, data=None, *, sections: list[tuple[int, str]] | None = None, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["state"].choices = state_choices()
        if sections is None:
            del self.fields["section"]
        else:
            self.fields["section"].choices = [("", gettext("All pages")), *sections]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        return cleaned

    def filters(self) -> Filters:
        """What the form asks for; nothing (the whole history) when it is not valid."""
        if not self.is_bound or not self.is_valid():
            return Filters()
        data = self.cleaned_data
        path = ""
        if data.get("section"):
            section = get_page_model().objects.filter(pk=data["section"]).only("path").first()
            path = section.path if section else ""
        return Filters(
            start=data.get("start"), end=data.get("end"), state=data.get("state") or "",
            section_path=path,
        )


def section_choices(page_ids: set[int]) -> list[tuple[int, str]]:
    """The pages ``page_ids`` and their ancestors below the root, in tree order, indented: a
    course, its sections and its lessons. Bounded by the lessons that have progress."""
    Page = get_page_model()
    paths = set(Page.objects.filter(pk__in=page_ids).values_list("path", flat=True))
    steplen = Page.steplen
    prefixes = {path[:end] for path in paths for end in range(2 * steplen, len(path) + 1, steplen)}
    pages = Page.objects.filter(path__in=prefixes).order_by("path").only("pk", "title", "depth")
    return [(page.pk, "\u2003" * (page.depth - 2) + page.title) for page in pages]
