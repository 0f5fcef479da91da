"""The service dashboard's filter: a date range and a queue."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Queue
from .selectors.dashboard import dashboard_queues

REPORT_YEARS = (2000, 2100)


class ReportDateField(forms.DateField):
    """A report filter's date: within REPORT_YEARS (a range ends at the next day's midnight, which
    must exist; 9999-12-31 has none)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
        super().__init__(**kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        first, last = REPORT_YEARS
        if value is not None and not first <= value.year <= last:
            raise forms.ValidationError(
                _("Enter a date in the years %(first)s to %(last)s."),
                code="out_of_range",
                params={"first": first, "last": last},
            )


class DashboardFilterForm(forms.Form):
    date_from = ReportDateField(label=_("From"))
    date_to = ReportDateField(label=_("To"))
    queue: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Queue"), queryset=Queue.objects.none(), required=False, empty_label=_("All queues")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        queue = self.fields["queue"]
        assert isinstance(queue, forms.ModelChoiceField)
        queue.queryset = dashboard_queues()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end comes before the start."))
        return data
