"""Forms of orders, order lines and order statuses."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.catalog.models import Product
from kehu.core.choices import Action
from kehu.core.forms import ServiceFormMixin
from kehu.customfields.forms import CustomFieldsFormMixin

from .forms_contracts import date_input, restrict_links
from .models import Order, OrderStatus

NUMBER = {"step": "any", "min": 0}


class OrderForm(CustomFieldsFormMixin, ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = Order
        fields = [
            "account",
            "contact",
            "opportunity",
            "currency",
            "ordered_on",
            "delivery_address",
            "shipping_notes",
        ]
        widgets = {
            "ordered_on": date_input(),
            "delivery_address": forms.Textarea(attrs={"rows": 2}),
            "shipping_notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        restrict_links(self, self.instance)
        if "ordered_on" in self.fields:
            self.fields["ordered_on"].required = False
        if "delivery_address" in self.fields and self.is_new:
            self.fields["delivery_address"].help_text = _("Leave empty to take the account's address.")


class OrderLineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.none(),
        required=False,
        widget=forms.Select(attrs={"data-tom-select": ""}),
    )
    description = forms.CharField(label=_("Description"), max_length=500, required=False)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=18, decimal_places=4, widget=forms.NumberInput(attrs=NUMBER)
    )
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        max_digits=18,
        decimal_places=4,
        required=False,
        widget=forms.NumberInput(attrs=NUMBER),
        help_text=_("Leave empty to take the price list's price."),
    )
    discount_percent = forms.DecimalField(
        label=_("Discount (%)"),
        max_digits=7,
        decimal_places=4,
        required=False,
        widget=forms.NumberInput(attrs=NUMBER),
    )
    discount_amount = forms.DecimalField(
        label=_("Discount amount"),
        max_digits=18,
        decimal_places=4,
        required=False,
        widget=forms.NumberInput(attrs=NUMBER),
    )
    tax_rate = forms.DecimalField(
        label=_("Tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs=NUMBER),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is not None:
            products = Product.objects.restrict(user, Action.VIEW).filter(is_active=True)
            self.fields["product"].queryset = products  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        return {k: v for k, v in data.items() if k in self.changed_data or k == "quantity"}


class OrderMoveForm(forms.Form):
    status = forms.ModelChoiceField(label=_("New status"), queryset=OrderStatus.objects.none())
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].queryset = order.status.next_statuses.order_by("position", "id")  # type: ignore[attr-defined]


class OrderStatusForm(ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = OrderStatus
        fields = ["code", "name", "name_en", "kind", "position", "is_initial", "next_statuses"]
        widgets = {"next_statuses": forms.SelectMultiple(attrs={"data-tom-select": ""})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "next_statuses" in self.fields:
            qs = OrderStatus.objects.order_by("position", "id")
            if self.instance.pk:
                qs = qs.exclude(pk=self.instance.pk)
            self.fields["next_statuses"].queryset = qs  # type: ignore[attr-defined]
            self.fields["next_statuses"].required = False

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        if "next_statuses" in data:
            data["next_statuses"] = list(data["next_statuses"])
        return data
