"""Forms of satisfaction surveys, the customer's answer and churn rules (input shape only; the
rules live in the services)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import ChurnSignal, SurveyFrequency, SurveyKind
from .services.surveys import COMMENT_MAX


def audience_to_text(audience: dict[str, Any] | None) -> str:
    return urlencode(audience or {}, doseq=True)


class SurveyForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=SurveyKind.choices)
    name = forms.CharField(label=_("Name"), max_length=100)
    name_en = forms.CharField(label=_("English name"), max_length=100, required=False)
    question = forms.CharField(label=_("Question"), max_length=255, required=False)
    question_en = forms.CharField(label=_("Question (English)"), max_length=255, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    send_on_resolve = forms.BooleanField(
        label=_("Send when a ticket is resolved"),
        required=False,
        help_text=_("CSAT only: the requester of each resolved ticket is asked to rate it."),
    )
    audience = forms.CharField(
        label=_("Audience (contact filters)"),
        required=False,
        max_length=2000,
        help_text=_(
            "NPS: filter the contact list, then paste the part of its address after “?”, "
            "e.g. tags=3&is_primary=true. Empty: every contact with an e-mail address. "
            "Contacts marked “do not e-mail” are always left out."
        ),
    )
    frequency = forms.ChoiceField(label=_("Frequency"), choices=SurveyFrequency.choices)
    next_run_at = forms.DateTimeField(
        label=_("Next sending"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    valid_days = forms.IntegerField(label=_("Link valid for (days)"), min_value=1, max_value=365, initial=30)

    def clean_audience(self) -> dict[str, Any]:
        text = str(self.cleaned_data.get("audience") or "").strip().lstrip("?")
        if "?" in text:  # a whole address pasted
            text = text.split("?", 1)[1]
        parsed = parse_qs(text, keep_blank_values=False)
        return {key: values if len(values) > 1 else values[0] for key, values in parsed.items()}


class AnswerForm(forms.Form):
    score = forms.IntegerField(label=_("Score"), error_messages={"required": _("Choose a score.")})
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ChurnRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    name_en = forms.CharField(label=_("English name"), max_length=100, required=False)
    signal = forms.ChoiceField(label=_("Signal"), choices=ChurnSignal.choices)
    threshold = forms.IntegerField(
        label=_("Threshold (N)"),
        min_value=0,
        help_text=_("Days without an order; the highest NPS or CSAT score; or the number of complaints."),
    )
    window_days = forms.IntegerField(
        label=_("Window (days)"),
        min_value=1,
        max_value=3650,
        initial=30,
        help_text=_("Answers and complaints are counted over this many past days."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    create_task = forms.BooleanField(
        label=_("Create a follow-up task for the owner"), required=False, initial=True
    )
    task_due_days = forms.IntegerField(label=_("Task due in (days)"), min_value=0, max_value=365, initial=3)


class ResolveRiskForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
