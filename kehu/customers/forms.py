"""Edit forms of accounts and contacts: input shape and field validation only; the services save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kehu.core.choices import Action
from kehu.core.forms import RemoteSelect, ServiceFormMixin
from kehu.core.permissions import can
from kehu.core.validators import format_phone, normalise_email, normalise_phone
from kehu.customfields.forms import CustomFieldsFormMixin
from kehu.customfields.selectors import picklist_choices
from kehu.tags.forms import TagsFormMixin

from .choices import PICKLIST_FIELDS
from .models import Account, Contact
from .selectors import contact_account_choices


class _OwnedForm(CustomFieldsFormMixin, ServiceFormMixin, forms.ModelForm):  # type: ignore[misc]
    """Common: owner (only for users who may assign), phones and e-mails normalised, custom fields."""

    phone_fields: tuple[str, ...] = ("phone",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model = self._meta.model
        if "owner" in self.fields:
            if self.user is not None and can(self.user, model, Action.ASSIGN):
                field = self.fields["owner"]
                field.queryset = get_user_model().objects.filter(is_active=True).order_by("username")  # type: ignore[attr-defined]
                field.required = False
                field.widget.attrs["data-tom-select"] = ""
                field.help_text = _(
                    "Leave empty to keep the current owner (or to own a new record yourself)."
                )
            else:
                del self.fields["owner"]
        for name in self.phone_fields:
            if name in self.fields and self.initial.get(name) and name not in self.locked_fields:
                self.initial[name] = format_phone(self.initial[name])
                self.fields[name].widget.attrs.setdefault("inputmode", "tel")

    def _clean_phone(self, name: str) -> str:
        value = self.cleaned_data.get(name, "")
        if name in self.locked_fields:
            return str(value)
        return normalise_phone(value)

    def clean_phone(self) -> str:
        return self._clean_phone("phone")

    def clean_email(self) -> str:
        if "email" in self.locked_fields:
            return str(self.cleaned_data.get("email", ""))
        return normalise_email(self.cleaned_data.get("email"))

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        if data.get("owner") is None:
            data.pop("owner", None)
        return data


class AccountForm(TagsFormMixin, _OwnedForm):
    website = forms.URLField(label=_("Website"), max_length=200, required=False, assume_scheme="https")

    class Meta:
        model = Account
        fields = [
            "kind",
            "name",
            "short_name",
            "level",
            "industry",
            "source",
            "phone",
            "email",
            "website",
            "address",
            "owner",
            "is_active",
            "notes",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "email": forms.TextInput(attrs={"inputmode": "email"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, code in PICKLIST_FIELDS.items():
            if name not in self.fields or name in self.locked_fields:
                continue
            current = self.initial.get(name) or (getattr(self.instance, name, "") if self.instance else "")
            choices = picklist_choices(code, current=current or None)
            if choices:
                old = self.fields[name]
                self.fields[name] = forms.ChoiceField(
                    label=old.label,
                    required=False,
                    choices=[("", "---------"), *choices],
                    help_text=old.help_text,
                )
        self.fields["email"].error_messages["invalid"] = _(
            "Enter a valid e-mail address, e.g. name@example.com."
        )


class ContactForm(TagsFormMixin, _OwnedForm):
    phone_fields = ("phone", "mobile")

    class Meta:
        model = Contact
        fields = [
            "account",
            "name",
            "title",
            "mobile",
            "phone",
            "email",
            "wechat",
            "is_primary",
            "owner",
            "notes",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "email": forms.TextInput(attrs={"inputmode": "email"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "account" in self.fields:
            field = self.fields["account"]
            # Only accounts the user may view can be chosen (and searched).
            field.queryset = contact_account_choices(  # type: ignore[attr-defined]
                user=self.user, contact=self.instance if self.instance.pk else None
            )
            field.widget = RemoteSelect(url=str(reverse_lazy("customers:account_autocomplete")))
            field.widget.choices = field.choices  # type: ignore[attr-defined]
            field.error_messages["invalid_choice"] = _("Choose an account you can see.")

    def clean_mobile(self) -> str:
        return self._clean_phone("mobile")
