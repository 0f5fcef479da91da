"""custom_values_clean: the one validation path of forms, the API and imports."""

from __future__ import annotations

import pytest

from kehu.core.errors import DomainError
from kehu.customfields.services import (
    CustomFieldError,
    custom_values_clean,
    form_field_errors,
    form_field_name,
)

from .factories import CustomFieldFactory, choice_list

pytestmark = pytest.mark.django_db


def phone_error(value: str) -> list[str]:
    """The message of the shared phone normaliser (standard and custom phones say the same)."""
    from django.core.exceptions import ValidationError

    from kehu.core.validators import normalise_phone

    with pytest.raises(ValidationError) as exc:
        normalise_phone(value)
    return exc.value.messages


M = "customers.account"


def errors_of(**kwargs) -> dict[str, list[str]]:
    with pytest.raises(CustomFieldError) as exc:
        custom_values_clean(model=M, **kwargs)
    assert exc.value.code == "invalid_custom_fields"
    assert exc.value.status == 400
    assert exc.value.message == "Some custom fields are not valid."
    return exc.value.fields


@pytest.fixture
def defs():
    colours = choice_list()
    return {
        "contract_no": CustomFieldFactory.create(
            name="contract_no", type="text", required=True, pattern=r"^HT\d+$"
        ),
        "employees": CustomFieldFactory.create(name="employees", type="integer", default=10),
        "revenue": CustomFieldFactory.create(name="revenue", type="decimal"),
        "colour": CustomFieldFactory.create(
            name="colour", type="single_choice", picklist=colours, default="green"
        ),
        "tags": CustomFieldFactory.create(name="tags", type="multi_choice", picklist=colours),
        "mobile": CustomFieldFactory.create(name="mobile", type="phone"),
        "old": CustomFieldFactory.create(name="old", type="text", is_active=False),
        "other_model": CustomFieldFactory.create(model="customers.contact", name="nickname", type="text"),
    }


def test_create_normalises_applies_defaults_and_drops_empties(defs) -> None:
    result = custom_values_clean(
        model=M,
        values={
            "contract_no": "HT001",
            "revenue": "1,5".replace(",", "."),
            "mobile": "138 0013 8000",
            "tags": [],
        },
    )
    assert result == {
        "contract_no": "HT001",
        "employees": 10,
        "revenue": "1.5",
        "colour": "green",
        "mobile": "+8613800138000",
    }


def test_create_takes_the_model_class_or_label(defs) -> None:
    from django.contrib.auth import get_user_model

    # a class is resolved to its label; a model without definitions has no fields at all
    assert custom_values_clean(model=get_user_model(), values={}) == {}
    assert errors_of(values={"nickname": "x"})["custom.nickname"] == ["Unknown custom field."]


def test_required_unknown_inactive_and_type_errors_are_keyed_custom_dot_name(defs) -> None:
    fields = errors_of(
        values={"employees": "many", "colour": "purple", "nope": 1, "old": "x", "mobile": "123"},
    )
    assert fields == {
        "custom.contract_no": ["This field is required."],
        "custom.employees": ["Enter a whole number."],
        "custom.colour": ["Select a valid choice. purple is not one of the available choices."],
        "custom.nope": ["Unknown custom field."],
        "custom.old": ["You cannot change this field."],
        "custom.mobile": phone_error("123"),
    }


def test_pattern_is_enforced(defs) -> None:
    assert errors_of(values={"contract_no": "X1"}) == {
        "custom.contract_no": ["Enter a value in the required format."]
    }


def test_values_must_be_an_object(defs) -> None:
    with pytest.raises(CustomFieldError) as exc:
        custom_values_clean(model=M, values=["a"])  # type: ignore[arg-type]
    assert exc.value.message == "Custom fields must be an object."
    assert exc.value.fields == {"custom": ["Custom fields must be an object."]}


def test_full_update_clears_missing_fields_and_keeps_inactive_values(defs) -> None:
    stored = {"contract_no": "HT1", "employees": 5, "revenue": "2", "old": "legacy"}
    result = custom_values_clean(
        model=M, values={"contract_no": "HT2", "old": "legacy"}, instance_values=stored
    )
    # no defaults on update; the inactive field's value survives (sending it back unchanged is fine)
    assert result == {"contract_no": "HT2", "old": "legacy"}


def test_full_update_enforces_required(defs) -> None:
    assert errors_of(values={"revenue": "3"}, instance_values={"contract_no": "HT1"}) == {
        "custom.contract_no": ["This field is required."]
    }


def test_partial_update_touches_only_given_fields(defs) -> None:
    stored = {"contract_no": "HT1", "employees": 5}
    result = custom_values_clean(
        model=M, values={"employees": "6", "revenue": None}, instance_values=stored, partial=True
    )
    assert result == {"contract_no": "HT1", "employees": 6}
    assert errors_of(values={"contract_no": ""}, instance_values=stored, partial=True) == {
        "custom.contract_no": ["This field is required."]
    }


def test_excluded_fields_keep_their_values_and_refuse_changes(defs) -> None:
    stored = {"contract_no": "HT1", "mobile": "+8613800138000"}
    result = custom_values_clean(
        model=M,
        values={"contract_no": "HT9", "mobile": "+8613800138000"},
        instance_values=stored,
        exclude={"mobile"},
    )
    assert result == {"contract_no": "HT9", "mobile": "+8613800138000"}
    # not sending an excluded field is not "clearing" it, even in a full update
    result = custom_values_clean(
        model=M, values={"contract_no": "HT9"}, instance_values=stored, exclude={"mobile"}
    )
    assert result["mobile"] == "+8613800138000"
    assert errors_of(
        values={"contract_no": "HT9", "mobile": "13900139000"}, instance_values=stored, exclude={"mobile"}
    ) == {"custom.mobile": ["You cannot change this field."]}


def test_excluded_required_field_is_not_demanded_but_defaults_apply_on_create(defs) -> None:
    result = custom_values_clean(model=M, values={}, exclude={"contract_no", "colour"})
    assert result == {"employees": 10, "colour": "green"}


def test_a_stale_default_is_ignored(defs) -> None:
    defs["colour"].picklist.items.filter(value="green").update(is_active=False)
    result = custom_values_clean(model=M, values={"contract_no": "HT1"})
    assert "colour" not in result


def test_deactivated_choice_stays_on_records_that_hold_it(defs) -> None:
    defs["colour"].picklist.items.filter(value="red").update(is_active=False)
    stored = {"contract_no": "HT1", "colour": "red", "tags": ["red", "blue"]}
    result = custom_values_clean(
        model=M, values={"colour": "red", "tags": ["red"]}, instance_values=stored, partial=True
    )
    assert result["colour"] == "red"
    assert result["tags"] == ["red"]
    assert errors_of(values={"colour": "red"}, instance_values={"contract_no": "HT1"}, partial=True) == {
        "custom.colour": ["Select a valid choice. red is not one of the available choices."]
    }


def test_result_is_idempotent(defs) -> None:
    first = custom_values_clean(
        model=M,
        values={"contract_no": "HT1", "revenue": "10.50", "tags": ["blue", "red"], "mobile": "13800138000"},
    )
    assert custom_values_clean(model=M, values=first, instance_values=first) == first


def test_form_field_names() -> None:
    assert form_field_name("custom.contract_no") == "custom__contract_no"
    assert form_field_name("name") == "name"
    error = DomainError("x", fields={"custom.a": ["bad"], "custom": ["worse"]})
    assert form_field_errors(error) == {"custom__a": ["bad"], "custom": ["worse"]}
