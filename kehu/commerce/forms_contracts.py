"""Forms of contracts: shape and field validation only; the views call the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kehu.catalog.selectors import company_currency_code, currency_codes
from kehu.core.choices import Action
from kehu.core.forms import RemoteSelect, ServiceFormMixin
from kehu.customers.models import Account, Contact
from kehu.customfields.forms import CustomFieldsFormMixin
from kehu.sales.models import Opportunity

from .choices import AttachmentKind
from .models import Contract

DATE = {"type": "date"}


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs=DATE, format="%Y-%m-%d")


def restrict_links(form: Any, instance: Any) -> None:
    """Account (server-side search), contact and opportunity among the records the user may view."""
    user = form.user
    for name, model in (("account", Account), ("contact", Contact), ("opportunity", Opportunity)):
        if name not in form.fields:
            continue
        field = form.fields[name]
        visible = model.objects.restrict(user, Action.VIEW) if user is not None else model.objects.none()
        current = getattr(instance, f"{name}_id", None) if instance is not None and instance.pk else None
        if current:
            visible = visible | model.objects.filter(pk=current)
        field.queryset = visible
        if name == "account":
            field.widget = RemoteSelect(url=str(reverse_lazy("customers:account_autocomplete")))
            field.widget.choices = field.choices
        else:
            field.widget.attrs.update({"data-tom-select": ""})
    if "currency" in form.fields:
        include = instance.currency if instance is not None and instance.pk else None
        form.fields["currency"] = forms.ChoiceField(
            label=_("Currency"),
            choices=[(c, c) for c in currency_codes(include=include)],
            initial=include or company_currency_code(),
        )


class ContractForm(CustomFieldsFormMixin, ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = Contract
        fields = [
            "name",
            "account",
            "contact",
            "opportunity",
            "currency",
            "value",
            "signed_on",
            "start_on",
            "end_on",
            "renewal_reminder_days",
            "terms",
        ]
        widgets = {
            "signed_on": date_input(),
            "start_on": date_input(),
            "end_on": date_input(),
            "terms": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        restrict_links(self, self.instance)
        if "value" in self.fields:
            self.fields["value"].widget.attrs.update({"min": 0, "step": "any"})


class ContractActivateForm(forms.Form):
    signed_on = forms.DateField(label=_("Signing date"), widget=date_input())


class ContractTerminateForm(forms.Form):
    terminated_on = forms.DateField(label=_("Termination date"), widget=date_input())
    termination_reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"), choices=AttachmentKind.choices, initial=AttachmentKind.SIGNED, required=False
    )
    file = forms.FileField(label=_("File"))
