"""The date-range picker of the statistics screens: presets or a custom range."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .periods import DEFAULT_PRESET_DAYS, PRESET_DAYS, DateRange, utc_today

CUSTOM = "custom"
# Long enough for multi-year history from snapshots, short enough to stay one screen of work.
MAX_CUSTOM_DAYS = 3 * 366


class DateInput(forms.DateInput):
    input_type = "date"  # the browser's own picker; no admin JavaScript to keep in sync

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def range_choices() -> list[tuple[str, str]]:
    """The period presets, in the language active now.

    Built per form, not at import: formatting a lazy string freezes it in whatever language
    was active when the module was imported (the site's ``LANGUAGE_CODE``), not the editor's.
    """
    presets = [(str(days), gettext("Last %(days)s days") % {"days": days}) for days in PRESET_DAYS]
    return [*presets, (CUSTOM, gettext("Custom range"))]


class StatisticsRangeForm(forms.Form):
    range = forms.ChoiceField(
        label=_("Period"),
        initial=str(DEFAULT_PRESET_DAYS),
        widget=forms.RadioSelect,
        required=False,
    )
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, data=None, *, today: date | None = None, **kwargs) -> None:
        self.today = today or utc_today()
        super().__init__(data if data and data.get("range") else None, **kwargs)
        self.fields["range"].choices = range_choices()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("range") != CUSTOM:
            return cleaned
        start, end = cleaned.get("start"), cleaned.get("end")
        if not start or not end:
            raise forms.ValidationError(_("A custom range needs a start and an end date."))
        if end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        if end > self.today:
            raise forms.ValidationError(_("The end date is in the future."))
        if (end - start).days + 1 > MAX_CUSTOM_DAYS:
            raise forms.ValidationError(
                _("Choose at most %(days)s days.") % {"days": MAX_CUSTOM_DAYS}
            )
        return cleaned

    def period(self) -> DateRange:
        """The chosen range; the default preset when nothing (valid) was chosen."""
        if self.is_bound and self.is_valid():
            choice = self.cleaned_data.get("range") or str(DEFAULT_PRESET_DAYS)
            if choice == CUSTOM:
                return DateRange(self.cleaned_data["start"], self.cleaned_data["end"])
            return DateRange.last_days(int(choice), self.today)
        return DateRange.last_days(DEFAULT_PRESET_DAYS, self.today)

    def query_string(self, period: DateRange) -> str:
        """The GET parameters that reproduce ``period`` (links between screens keep it)."""
        choice = self.cleaned_data.get("range") if self.is_bound and self.is_valid() else None
        if choice and choice != CUSTOM:
            return f"range={choice}"
        if period == DateRange.last_days(period.days, self.today) and period.days in PRESET_DAYS:
            return f"range={period.days}"
        return f"range={CUSTOM}&start={period.start}&end={period.end}"
