"""The filter form shared by the sales report pages and API (period, pipeline, owner, department,
source, conversion mode), and the target form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.catalog.selectors import company_currency_code, currency_codes
from kehu.customfields.selectors import picklist_choices
from kehu.users.models import Department

from .choices import PeriodKind
from .models import Pipeline
from .selectors.reports import ReportFilters
from .services.targets import period_end_of, period_start_of

PERIODS = [
    ("this_month", _("This month")),
    ("last_month", _("Last month")),
    ("this_quarter", _("This quarter")),
    ("last_quarter", _("Last quarter")),
    ("this_year", _("This year")),
    ("last_year", _("Last year")),
    ("custom", _("Custom dates")),
]
MODES = [
    ("cohort", _("Created in the period (cohort)")),
    ("activity", _("Entered the stage in the period")),
]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # what type=date reads, in every language


def period_bounds(preset: str, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or timezone.localdate()
    kind = {"month": PeriodKind.MONTH, "quarter": PeriodKind.QUARTER, "year": PeriodKind.YEAR}
    which, _sep, unit = preset.partition("_")
    start = period_start_of(kind.get(unit, PeriodKind.MONTH), today)
    if which == "last":
        start = period_start_of(kind.get(unit, PeriodKind.MONTH), start - dt.timedelta(days=1))
    return start, period_end_of(kind.get(unit, PeriodKind.MONTH), start)


class ReportFilterForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False, initial="this_quarter")
    start = forms.DateField(label=_("From"), required=False, widget=DATE)
    end = forms.DateField(label=_("Until"), required=False, widget=DATE)
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"),
        queryset=Pipeline.objects.filter(is_active=True),
        required=False,
        empty_label=None,
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
        widget=forms.Select(attrs={"data-tom-select": ""}),
    )
    department = forms.ModelChoiceField(
        label=_("Department (and below)"),
        queryset=Department.objects.filter(is_active=True).order_by("path"),
        required=False,
    )
    source = forms.ChoiceField(label=_("Source"), required=False)
    mode = forms.ChoiceField(label=_("Conversion counts"), choices=MODES, required=False, initial="cohort")
    currency = forms.ChoiceField(label=_("Currency"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", _("All")), *picklist_choices("source")]  # type: ignore[attr-defined]
        self.fields["currency"].choices = [(c, c) for c in currency_codes()]  # type: ignore[attr-defined]
        default = Pipeline.objects.filter(is_default=True).first()
        if default is not None:
            self.fields["pipeline"].initial = default.pk

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        preset = data.get("period") or "this_quarter"
        if preset == "custom":
            if not data.get("start") or not data.get("end"):
                self.add_error("start", _("Enter both dates for a custom period."))
            elif data["end"] < data["start"]:
                self.add_error("end", _("“Until” is before “From”."))
            elif (data["end"] - data["start"]).days > 3660:
                self.add_error("end", _("At most ten years."))
        return data

    def filters(self) -> ReportFilters:
        """The cleaned values as report filters (defaults where the form is empty or invalid)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        preset = data.get("period") or "this_quarter"
        if preset == "custom" and data.get("start") and data.get("end"):
            start, end = data["start"], data["end"]
        else:
            start, end = period_bounds(preset if preset != "custom" else "this_quarter")
        pipeline = data.get("pipeline") or Pipeline.objects.filter(is_default=True).first()
        return ReportFilters(
            start=start,
            end=end,
            pipeline=pipeline,
            owner_id=data["owner"].pk if data.get("owner") else None,
            department_id=data["department"].pk if data.get("department") else None,
            source=data.get("source") or "",
            currency=data.get("currency") or company_currency_code(),
        )

    def conversion_mode(self) -> str:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return data.get("mode") or "cohort"


class TargetForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("User"),
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
        widget=forms.Select(attrs={"data-tom-select": ""}),
        help_text=_("Leave empty for a department target."),
    )
    department = forms.ModelChoiceField(
        label=pgettext_lazy("customers", "Department"),
        queryset=Department.objects.filter(is_active=True).order_by("path"),
        required=False,
    )
    period_kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices)
    period_start = forms.DateField(label=_("Period start"), widget=DATE)
    amount = forms.DecimalField(label=_("Target amount"), max_digits=18, decimal_places=2, min_value=0)
    currency = forms.ChoiceField(label=_("Currency"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(c, c) for c in currency_codes()]  # type: ignore[attr-defined]
        self.fields["currency"].initial = company_currency_code()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("user") and not data.get("department"):
            self.add_error("user", _("Choose a user or a department."))
        return data
