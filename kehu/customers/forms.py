"""Edit forms of accounts and contacts: input shape and field validation only; the services save."""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kehu.core.choices import Action, FieldMode
from kehu.core.errors import StaleObjectError
from kehu.core.forms import RemoteSelect, ServiceFormMixin
from kehu.core.permissions import can, field_modes
from kehu.core.validators import format_phone, normalise_email, normalise_phone
from kehu.customfields.forms import CustomFieldsFormMixin
from kehu.customfields.selectors import picklist_choices
from kehu.tags.forms import TagsFormMixin

from .choices import CONTACT_ROLE_PICKLIST, DO_NOT_CONTACT_FIELDS, PICKLIST_FIELDS
from .models import Account, Contact
from .selectors import contact_account_choices
from .validators import normalise_tax_number
from .widgets import (
    FULL_WIDTH,
    AddressRowsWidget,
    EmailRowsWidget,
    PhoneRowsWidget,
    RegionField,
    RemoteSelectMultiple,
    RowsField,
    RowsWidget,
)

# Typed lists and the plain (primary) fields whose field permissions they follow.
LIST_FIELDS = {"phones": ("phone", "mobile"), "emails": ("email",), "addresses": ("address",)}


SNAPSHOT_SALT = "kehu.customers.form-snapshot"
_NOT_SNAPSHOT = {"id", "created_at", "updated_at", "version", "custom", "completeness", "last_activity_at"}


def _snapshot(obj: Any, user: Any) -> dict[str, str]:
    """Short digests of the record's standard field values (hidden fields left out)."""
    hidden = {n for n, mode in field_modes(user, type(obj)).items() if mode == FieldMode.HIDDEN}
    out = {}
    for field in type(obj)._meta.concrete_fields:
        if field.name in _NOT_SNAPSHOT or field.name in hidden:
            continue
        raw = str(field.value_from_object(obj))
        out[field.name] = hashlib.sha256(raw.encode()).hexdigest()[:12]
    return out


def _rows(qs: Any, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{f: getattr(r, f) for f in fields} for r in qs]


class ExternalIdFormMixin:
    """`external_id` is unique when set. The service checks it (one message for forms, the API and
    imports: "Another record already has this external ID."), so the form leaves the model's partial
    unique constraint out of its own validation (Django would say "Constraint … is violated")."""

    def _get_validation_exclusions(self) -> set[str]:
        exclude: set[str] = super()._get_validation_exclusions()  # type: ignore[misc]
        exclude.add("external_id")
        return exclude


class _OwnedForm(ExternalIdFormMixin, CustomFieldsFormMixin, ServiceFormMixin, forms.ModelForm):
    """Common: owner (only for users who may assign), phones and e-mails normalised, custom fields."""

    phone_fields: tuple[str, ...] = ("phone",)
    # The owner field's help on a new record, when leaving it empty does more than "you own it".
    new_owner_help: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model = self._meta.model
        if "owner" in self.fields:
            if self.user is not None and can(self.user, model, Action.ASSIGN):
                field = self.fields["owner"]
                field.queryset = get_user_model().objects.filter(is_active=True).order_by("username")  # type: ignore[attr-defined]
                field.required = False
                field.widget.attrs["data-tom-select"] = ""
                field.help_text = (
                    self.new_owner_help
                    if self.is_new and self.new_owner_help
                    else _("Leave empty to keep the current owner (or to own a new record yourself).")
                )
            else:
                del self.fields["owner"]
        for name in self.phone_fields:
            if name in self.fields and self.initial.get(name) and name not in self.locked_fields:
                self.initial[name] = format_phone(self.initial[name])
                self.fields[name].widget.attrs.setdefault("inputmode", "tel")
        if not self.is_new:
            # What the user saw, signed: a stale save can then say which fields others changed.
            self.fields["snapshot"] = forms.CharField(widget=forms.HiddenInput, required=False)
            self.initial["snapshot"] = signing.dumps(_snapshot(self.instance, self.user), salt=SNAPSHOT_SALT)

    def add_domain_error(self, exc: Any) -> None:
        super().add_domain_error(exc)
        if isinstance(exc, StaleObjectError) and not self.is_new:
            labels = self._changed_meanwhile()
            if labels:
                self.add_error(None, _("Changed meanwhile: %(fields)s.") % {"fields": ", ".join(labels)})

    def _changed_meanwhile(self) -> list[str]:
        try:
            seen = signing.loads(
                self.data.get(self.add_prefix("snapshot"), ""), salt=SNAPSHOT_SALT, max_age=86400
            )
        except signing.BadSignature:
            return []
        model = self._meta.model
        fresh = model.objects.filter(pk=self.instance.pk).first()
        if fresh is None or not isinstance(seen, dict):
            return []
        now = _snapshot(fresh, self.user)
        return [
            str(model._meta.get_field(name).verbose_name)
            for name in now
            if name in seen and seen[name] != now[name]
        ]

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

    def _use_lists(self, lists: dict[str, tuple[type[RowsWidget], tuple[str, ...]]]) -> None:
        """Offer the typed lists (phones, e-mails, addresses) instead of the plain primary fields,
        unless a field permission locks the plain field (then both stay as they are)."""
        instance = self.instance if self.instance.pk else None
        for name, (widget, fields) in lists.items():
            plain = [f for f in LIST_FIELDS[name] if f in (self._meta.fields or ())]  # type: ignore[attr-defined,unused-ignore]
            if any(f in self.locked_fields or f not in self.fields for f in plain):
                continue
            for f in plain:
                del self.fields[f]
            label = {"phones": _("Phones"), "emails": _("E-mails"), "addresses": _("Addresses")}[name]
            self.fields[name] = RowsField(widget=widget, label=label)
            if instance is not None:
                self.initial[name] = _rows(getattr(instance, name).all(), fields)

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        data.pop("snapshot", None)
        if data.get("owner") is None:
            data.pop("owner", None)
        for name in LIST_FIELDS:
            field = self.fields.get(name)
            # Rows not posted at all (an older client, a partial form): leave the list alone.
            if field is not None and field.widget.value_omitted_from_data(
                self.data, self.files, self.add_prefix(name)
            ):
                data.pop(name, None)
        return data


class AccountForm(TagsFormMixin, _OwnedForm):
    new_owner_help = _("Leave empty to let the assignment rules decide (no matching rule: you own it).")
    website = forms.URLField(label=_("Website"), max_length=200, required=False, assume_scheme="https")
    region = RegionField(label=_("Region"), required=False)

    class Meta:
        model = Account
        fields = [
            "kind",
            "name",
            "short_name",
            "level",
            "industry",
            "source",
            "lifecycle_stage",
            "parent",
            "tax_number",
            "wechat",
            "website",
            "phone",
            "email",
            "address",
            "owner",
            "is_active",
            "notes",
            "external_id",
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
        if "email" in self.fields:
            self.fields["email"].error_messages["invalid"] = _(
                "Enter a valid e-mail address, e.g. name@example.com."
            )
        if "lifecycle_stage" in self.fields:
            self.fields["lifecycle_stage"].required = False
        if "parent" in self.fields:
            field = self.fields["parent"]
            visible = Account.objects.restrict(self.user, Action.VIEW)
            if self.instance.pk:
                visible = visible.exclude(pk=self.instance.pk) | Account.objects.filter(
                    pk=self.instance.parent_id
                )
            field.queryset = visible  # type: ignore[attr-defined]
            field.widget = RemoteSelect(url=str(reverse_lazy("customers:account_autocomplete")))
            field.widget.choices = field.choices  # type: ignore[attr-defined]
            field.error_messages["invalid_choice"] = _("Choose an account you can see.")
            field.help_text = _("The group company this account belongs to.")
        if "tax_number" in self.fields and "tax_number" not in self.locked_fields:
            self.fields["tax_number"].help_text = _(
                "统一社会信用代码: 18 characters, e.g. 91350100M000100Y43."
            )
            self.fields["tax_number"].max_length = 40  # type: ignore[attr-defined]
            self.fields["tax_number"].widget.attrs["maxlength"] = 40
        self.initial.setdefault(
            "region",
            {n: getattr(self.instance, n, "") for n in ("country", "province", "city", "district")},
        )
        self._use_lists(
            {
                "phones": (PhoneRowsWidget, ("kind", "number", "is_primary")),
                "emails": (EmailRowsWidget, ("kind", "email", "is_primary")),
                "addresses": (
                    AddressRowsWidget,
                    ("kind", "country", "province", "city", "district", "street", "postcode", "is_primary"),
                ),
            }
        )
        self.order_fields(
            [
                "kind",
                "name",
                "short_name",
                "level",
                "industry",
                "source",
                "lifecycle_stage",
                "parent",
                "region",
            ]
        )

    def clean_tax_number(self) -> str:
        if "tax_number" in self.locked_fields:
            return str(self.cleaned_data.get("tax_number", ""))
        return normalise_tax_number(self.cleaned_data.get("tax_number"))

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        region = data.pop("region", None)
        if region is not None:
            data.update(region)
        if not data.get("lifecycle_stage", "x"):
            data.pop("lifecycle_stage")
        return data


class ContactForm(TagsFormMixin, _OwnedForm):
    phone_fields = ("phone", "mobile")
    role = forms.ChoiceField(label=_("Role"), required=False, help_text=_("Role at this account."))
    other_accounts = forms.ModelMultipleChoiceField(
        queryset=Account.objects.none(),
        required=False,
        label=_("Also works with"),
        help_text=_("Other accounts this contact works with (group companies, partners)."),
    )

    class Meta:
        model = Contact
        fields = [
            "account",
            "name",
            "title",
            "gender",
            "birthday",
            "mobile",
            "phone",
            "email",
            "wechat",
            "preferred_channel",
            *DO_NOT_CONTACT_FIELDS.values(),
            "is_primary",
            "owner",
            "notes",
            "external_id",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "email": forms.TextInput(attrs={"inputmode": "email"}),
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
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
        instance = self.instance if self.instance.pk else None
        direct = None
        if instance is not None:
            relations = list(instance.account_relations.all())
            direct = next((r for r in relations if r.is_direct), None)
            self.initial.setdefault("role", direct.role if direct else "")
            self.initial.setdefault("other_accounts", [r.account_id for r in relations if not r.is_direct])
        self.fields["role"].choices = [  # type: ignore[attr-defined]
            ("", "---------"),
            *picklist_choices(CONTACT_ROLE_PICKLIST, current=(direct.role if direct else None) or None),
        ]
        others = self.fields["other_accounts"]
        others.queryset = Account.objects.restrict(self.user, Action.VIEW)  # type: ignore[attr-defined]
        others.widget = RemoteSelectMultiple(url=str(reverse_lazy("customers:account_autocomplete")))
        others.widget.choices = others.choices  # type: ignore[attr-defined]
        others.error_messages["invalid_choice"] = _("Choose an account you can see.")
        self._use_lists(
            {
                "phones": (PhoneRowsWidget, ("kind", "number", "is_primary")),
                "emails": (EmailRowsWidget, ("kind", "email", "is_primary")),
            }
        )
        self.order_fields(
            ["account", "role", "other_accounts", "name", "title", "gender", "birthday", "phones", "emails"]
        )
        if "notes" in self.fields:
            self.fields["notes"].widget.attrs.update(FULL_WIDTH)

    def clean_mobile(self) -> str:
        return self._clean_phone("mobile")

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        if "other_accounts" in data:
            current = {}
            if self.instance.pk:
                current = {r.account_id: r for r in self.instance.account_relations.all() if not r.is_direct}
            data["relations"] = [
                {
                    "account": a,
                    "role": current[a.pk].role if a.pk in current else "",
                    "start_date": current[a.pk].start_date if a.pk in current else None,
                    "end_date": current[a.pk].end_date if a.pk in current else None,
                }
                for a in data.pop("other_accounts")
            ]
        return data
