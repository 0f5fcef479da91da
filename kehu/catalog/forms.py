"""Forms of products, price lists and prices: shape and field validation only; the views call the
services with ``service_data()``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kehu.core.choices import Action
from kehu.core.forms import RemoteSelect, ServiceFormMixin
from kehu.customers.choices import PICKLIST_FIELDS
from kehu.customers.models import Account
from kehu.customfields.forms import CustomFieldsFormMixin
from kehu.customfields.selectors import picklist_choices

from .models import Currency, PriceList, Product
from .services import PRODUCT_FIELDS

TOM_SELECT = {"data-tom-select": ""}
DATE = {"type": "date"}


class ProductForm(CustomFieldsFormMixin, ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = Product
        fields = list(PRODUCT_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "category": forms.Select(attrs=TOM_SELECT),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("tax_rate", "cost"):
            if name in self.fields:
                self.fields[name].widget.attrs.update({"min": 0, "step": "any"})
                value = self.initial.get(name)
                if value is not None and hasattr(value, "normalize"):  # 13.00 → 13, 18000.0000 → 18000
                    self.initial[name] = f"{value.normalize():f}"


class PriceListForm(ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = PriceList
        fields = [
            "name",
            "currency",
            "customer_level",
            "account",
            "valid_from",
            "valid_until",
            "is_active",
            "notes",
        ]
        widgets = {
            "valid_from": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "valid_until": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance
        if "currency" in self.fields:
            current = [instance.currency_id] if instance.pk else []
            currencies = Currency.objects.filter(is_active=True) | Currency.objects.filter(pk__in=current)
            self.fields["currency"].queryset = currencies  # type: ignore[attr-defined]
        if "customer_level" in self.fields:
            current_level = instance.customer_level if instance.pk else None
            self.fields["customer_level"] = forms.ChoiceField(
                label=self.fields["customer_level"].label,
                required=False,
                choices=[
                    ("", _("Every level")),
                    *picklist_choices(PICKLIST_FIELDS["level"], current=current_level or None),
                ],
                help_text=_("Only accounts of this level get these prices."),
            )
        if "account" in self.fields:
            field = self.fields["account"]
            visible = (
                Account.objects.restrict(self.user, Action.VIEW)
                if self.user is not None
                else Account.objects.none()
            )
            if instance.pk and instance.account_id:
                visible = visible | Account.objects.filter(pk=instance.account_id)
            field.queryset = visible  # type: ignore[attr-defined]
            field.widget = RemoteSelect(url=str(reverse_lazy("customers:account_autocomplete")))
            field.widget.choices = field.choices  # type: ignore[attr-defined]
            field.help_text = _(
                "Only this account gets these prices (it wins over the level's and everyone's)."
            )


class PriceSetForm(forms.Form):
    """One price tier of a product in a price list (added or replaced)."""

    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(is_active=True),
        widget=forms.Select(attrs=TOM_SELECT),
    )
    min_quantity = forms.DecimalField(
        label=_("From quantity"), initial=1, min_value=0, max_digits=14, decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0}),
    )  # fmt: skip
    unit_price = forms.DecimalField(
        label=_("Unit price"), min_value=0, max_digits=18, decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0}),
    )  # fmt: skip
