"""Form fields generated from definitions: widgets, initials, validation, field permissions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.apps import apps
from django.utils import timezone

from kehu.core.forms import ServiceFormMixin
from kehu.customfields.forms import CustomFieldsFormMixin
from kehu.users.models import FieldPermission

from .factories import CustomFieldFactory, choice_list

pytestmark = pytest.mark.django_db


def phone_error(value: str) -> list[str]:
    """The message of the shared phone normaliser (standard and custom phones say the same)."""
    from django.core.exceptions import ValidationError

    from kehu.core.validators import normalise_phone

    with pytest.raises(ValidationError) as exc:
        normalise_phone(value)
    return exc.value.messages


Account = apps.get_model("customers", "Account")


class AccountForm(CustomFieldsFormMixin, forms.ModelForm):
    class Meta:
        model = Account
        fields = ["name"]


class ServiceAccountForm(CustomFieldsFormMixin, ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = Account
        fields = ["name"]


class ServiceFirstAccountForm(ServiceFormMixin, CustomFieldsFormMixin, forms.ModelForm):
    class Meta:
        model = Account
        fields = ["name"]


@pytest.fixture
def defs():
    colours = choice_list()
    return {
        "code": CustomFieldFactory.create(
            name="code",
            type="text",
            required=True,
            help_text="合同上的编号",
            help_text_en="As on the contract",
        ),
        "notes": CustomFieldFactory.create(name="notes", type="long_text"),
        "staff": CustomFieldFactory.create(name="staff", type="integer", default=10),
        "revenue": CustomFieldFactory.create(name="revenue", type="decimal"),
        "founded": CustomFieldFactory.create(name="founded", type="date"),
        "met_at": CustomFieldFactory.create(name="met_at", type="datetime"),
        "vip": CustomFieldFactory.create(name="vip", type="boolean"),
        "colour": CustomFieldFactory.create(name="colour", type="single_choice", picklist=colours),
        "tags": CustomFieldFactory.create(name="tags", type="multi_choice", picklist=colours),
        "site": CustomFieldFactory.create(name="site", type="url"),
        "mail": CustomFieldFactory.create(name="mail", type="email"),
        "mobile": CustomFieldFactory.create(name="mobile", type="phone"),
        "off": CustomFieldFactory.create(name="off", type="text", is_active=False),
    }


def choices(field: Any) -> list[str]:
    return [c[0] for c in field.choices]


def test_one_form_field_per_active_definition_with_the_right_widget(defs) -> None:
    form = AccountForm()
    custom = [n for n in form.fields if n.startswith("custom__")]
    assert custom == [f"custom__{n}" for n in defs if n != "off"]
    f = form.fields
    assert isinstance(f["custom__code"], forms.CharField) and f["custom__code"].required
    assert f["custom__code"].help_text == "As on the contract"
    assert isinstance(f["custom__notes"].widget, forms.Textarea)
    assert isinstance(f["custom__staff"], forms.IntegerField)
    assert isinstance(f["custom__revenue"], forms.DecimalField)
    assert f["custom__founded"].widget.input_type == "date"
    assert f["custom__met_at"].widget.input_type == "datetime-local"
    assert isinstance(f["custom__vip"], forms.BooleanField) and not f["custom__vip"].required
    assert "data-tom-select" in f["custom__colour"].widget.attrs
    assert choices(f["custom__colour"]) == ["", "red", "green", "blue"]
    assert isinstance(f["custom__tags"].widget, forms.SelectMultiple)
    assert "data-tom-select" in f["custom__tags"].widget.attrs
    assert isinstance(f["custom__site"], forms.URLField)
    assert isinstance(f["custom__mail"], forms.EmailField)
    assert f["custom__mobile"].widget.input_type == "tel"
    assert form.initial["custom__staff"] == 10  # the default on a new record


def test_valid_post_gives_cleaned_custom(defs) -> None:
    with timezone.override("Asia/Shanghai"):
        form = AccountForm(
            {
                "name": "华为",
                "custom__code": " HT1 ",
                "custom__staff": "20",
                "custom__revenue": "12.50",
                "custom__founded": "2020-02-29",
                "custom__met_at": "2024-05-01T09:30",
                "custom__vip": "on",
                "custom__colour": "green",
                "custom__tags": ["blue", "red"],
                "custom__site": "example.cn",
                "custom__mail": "A@B.CN",
                "custom__mobile": "138 0013 8000",
            }
        )
        assert form.is_valid(), form.errors
    assert form.cleaned_custom == {
        "code": "HT1",
        "staff": 20,
        "revenue": "12.5",
        "founded": "2020-02-29",
        "met_at": "2024-05-01T01:30:00Z",
        "vip": True,
        "colour": "green",
        "tags": ["red", "blue"],
        "site": "https://example.cn",
        "mail": "a@b.cn",
        "mobile": "+8613800138000",
    }
    assert form.service_data() == {"name": "华为", "custom": form.cleaned_custom}


def test_errors_land_on_the_custom_fields(defs) -> None:
    form = AccountForm(
        {"name": "x", "custom__staff": "abc", "custom__mobile": "123", "custom__colour": "purple"}
    )
    assert not form.is_valid()
    assert form.errors["custom__code"] == ["This field is required."]
    assert form.errors["custom__staff"] == ["Enter a whole number."]
    assert form.errors["custom__mobile"] == phone_error("123")
    assert form.errors["custom__colour"] == [
        "Select a valid choice. purple is not one of the available choices."
    ]


def test_pattern_error_is_shown_on_the_field(defs) -> None:
    defs["code"].pattern = r"^HT\d+$"
    defs["code"].pattern_message_en = "Start with HT and digits."
    defs["code"].save()
    form = AccountForm({"name": "x", "custom__code": "X1"})
    assert not form.is_valid()
    assert form.errors["custom__code"] == ["Start with HT and digits."]


def test_edit_shows_stored_values_and_keeps_inactive_ones(defs) -> None:
    account = Account.objects.create(
        name="x",
        custom={
            "code": "HT1",
            "revenue": "3.5",
            "met_at": "2024-05-01T01:30:00Z",
            "tags": ["red"],
            "off": "legacy",
        },
    )
    with timezone.override("Asia/Shanghai"):
        form = AccountForm(instance=account)
        assert form.initial["custom__revenue"] == Decimal("3.5")
        assert form.initial["custom__met_at"] == dt.datetime(
            2024, 5, 1, 9, 30, tzinfo=timezone.get_current_timezone()
        )
        assert "custom__staff" not in form.initial  # no default on edit
        form = AccountForm({"name": "x", "custom__code": "HT2", "custom__tags": ["red"]}, instance=account)
        assert form.is_valid(), form.errors
    assert form.cleaned_custom == {"code": "HT2", "tags": ["red"], "off": "legacy", "vip": False}


def test_deactivated_choice_stays_offered_to_records_that_hold_it(defs) -> None:
    defs["colour"].picklist.items.filter(value="red").update(is_active=False)
    account = Account.objects.create(name="x", custom={"code": "HT1", "colour": "red"})
    assert choices(AccountForm(instance=account).fields["custom__colour"]) == [
        "",
        "red",
        "green",
        "blue",
    ]
    assert choices(AccountForm().fields["custom__colour"]) == ["", "green", "blue"]


@pytest.mark.parametrize("form_class", [ServiceAccountForm, ServiceFirstAccountForm, AccountForm])
def test_field_permissions(company, defs, form_class) -> None:
    for name, mode in (("code", "read_only"), ("mobile", "masked"), ("revenue", "hidden")):
        FieldPermission.objects.create(
            role=company.role_rep, model="customers.account", field=f"custom.{name}", mode=mode
        )
    stored = {"code": "HT1", "mobile": "+8613800138000", "revenue": "9"}
    account = Account.objects.create(name="x", custom=stored)
    form = form_class(instance=account, user=company.rep1)
    assert "custom__revenue" not in form.fields
    assert form.fields["custom__code"].disabled and not form.fields["custom__code"].required
    assert form.fields["custom__mobile"].disabled
    assert form["custom__mobile"].value() == "+86 138****8000"
    form = form_class(
        {
            "name": "x",
            "custom__code": "CHANGED",
            "custom__mobile": "13900139000",
            "custom__revenue": "1",
            "custom__staff": "3",
        },
        instance=account,
        user=company.rep1,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_custom == {**stored, "staff": 3, "vip": False}
    # an administrator sees and edits everything
    assert "custom__revenue" in form_class(instance=account, user=company.admin).fields


def test_service_data_without_custom_changes_on_edit(defs) -> None:
    account = Account.objects.create(name="x", custom={"code": "HT1", "vip": False})
    form = ServiceAccountForm({"name": "y", "custom__code": "HT1"}, instance=account, user=None)
    assert form.is_valid(), form.errors
    assert "custom" not in form.service_data()
    assert form.custom_values() is None


def test_domain_error_from_a_service_is_mapped_to_form_fields(defs) -> None:
    from kehu.core.errors import DomainError

    form = AccountForm({"name": "x", "custom__code": "HT1"})
    assert form.is_valid()
    form.add_domain_error(DomainError("bad", fields={"custom.code": ["Taken."], "custom.nope": ["?"]}))
    assert form.errors["custom__code"] == ["Taken."]


def test_plain_form_with_a_model_attribute(defs) -> None:
    class Plain(CustomFieldsFormMixin, forms.Form):
        custom_fields_model = Account

    form = Plain({"custom__code": "HT9"}, custom_values={"code": "HT1", "off": "x"})
    assert form.is_valid(), form.errors
    assert form.cleaned_custom == {"code": "HT9", "off": "x", "vip": False}
