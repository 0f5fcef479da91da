"""/api/v1/custom-fields/: definitions and picklists; the `custom` object of customizable models."""

from __future__ import annotations

import pytest
from django.apps import apps
from rest_framework import serializers
from rest_framework.test import APIClient, APIRequestFactory

from kehu.core.api.errors import exception_handler
from kehu.customfields.api.fields import CustomFieldsField, CustomFieldsFieldExtension
from kehu.customfields.api.serializers import CustomFieldsSerializerMixin
from kehu.customfields.models import CustomField, Picklist, PicklistItem
from kehu.users.models import FieldPermission

from .factories import CustomFieldFactory, choice_list

pytestmark = pytest.mark.django_db
Account = apps.get_model("customers", "Account")
FIELDS = "/api/v1/custom-fields/fields/"
PICKLISTS = "/api/v1/custom-fields/picklists/"
ITEMS = "/api/v1/custom-fields/picklist-items/"


def client(user=None) -> APIClient:
    c = APIClient()
    if user is not None:
        c.force_authenticate(user)
    return c


# --- permissions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [FIELDS, PICKLISTS, ITEMS])
def test_anonymous_gets_401(url) -> None:
    response = client().get(url)
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "fields"}


def test_any_signed_in_user_reads_definitions(company) -> None:
    CustomFieldFactory.create(name="code", model="customers.account")
    CustomFieldFactory.create(name="nick", model="customers.contact")
    response = client(company.nobody).get(FIELDS, {"model": "customers.account"})
    assert response.status_code == 200
    assert [f["name"] for f in response.json()] == ["code"]
    assert response.json()[0]["key"] == "custom.code"


def test_non_admins_cannot_write(company) -> None:
    field = CustomFieldFactory.create(name="code")
    c = client(company.rep1)
    body = {"model": "customers.account", "name": "x", "label": "x", "type": "text"}
    assert c.post(FIELDS, body, format="json").status_code == 403
    assert c.patch(f"{FIELDS}{field.pk}/", {"label": "y"}, format="json").status_code == 403
    assert c.delete(f"{FIELDS}{field.pk}/").status_code == 403
    assert c.post(PICKLISTS, {"code": "x", "name": "x"}, format="json").status_code == 403
    assert c.post(ITEMS, {"picklist": 1, "value": "x", "label": "x"}, format="json").status_code == 403
    assert CustomField.objects.count() == 1
    assert CustomField.objects.get().label == field.label
    assert not Picklist.objects.filter(code="x").exists()


# --- definitions ----------------------------------------------------------------------------------


def test_admin_defines_changes_and_deletes_a_field(company) -> None:
    c = client(company.admin)
    colours = choice_list()
    response = c.post(
        FIELDS,
        {
            "model": "customers.account",
            "name": "colour",
            "label": "颜色",
            "label_en": "Colour",
            "type": "single_choice",
            "picklist": colours.pk,
            "default": "green",
            "filterable": True,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["picklist"], body["picklist_code"], body["default"], body["order"]) == (
        "colour",
        colours.pk,
        "colours",
        "green",
        1,
    )
    pk = body["id"]
    response = c.patch(
        f"{FIELDS}{pk}/", {"label_en": "Color", "name": "renamed", "is_active": False}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["label_en"], response.json()["name"], response.json()["is_active"]) == (
        "Color",
        "colour",
        False,
    )
    assert c.delete(f"{FIELDS}{pk}/").status_code == 204
    assert not CustomField.objects.exists()


def test_definition_errors_use_the_error_shape(company) -> None:
    c = client(company.admin)
    response = c.post(
        FIELDS, {"model": "customers.account", "name": "name", "label": "x", "type": "text"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "“name” is already a standard field of this model.",
        "fields": {"name": ["This name is already a standard field of this model."]},
    }
    response = c.post(
        FIELDS, {"model": "customers.account", "name": "x", "label": "x", "type": "colour"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["type"]


def test_type_change_with_values_is_a_409(company) -> None:
    field = CustomFieldFactory.create(name="size", type="integer")
    Account.objects.create(name="x", custom={"size": 3})
    response = client(company.admin).patch(f"{FIELDS}{field.pk}/", {"type": "boolean"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "type_change_refused"
    assert response.json()["fields"] == {"type": ["Records already hold values of this field."]}
    response = client(company.admin).delete(f"{FIELDS}{field.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "in_use"


def test_reorder(company) -> None:
    a, b = CustomFieldFactory.create(name="a", order=1), CustomFieldFactory.create(name="b", order=2)
    response = client(company.admin).post(
        f"{FIELDS}reorder/", {"model": "customers.account", "ids": [b.pk, a.pk]}, format="json"
    )
    assert response.status_code == 204
    assert [f["name"] for f in client(company.rep1).get(FIELDS).json()] == ["b", "a"]


# --- picklists ------------------------------------------------------------------------------------


def test_picklists_with_nested_items(company) -> None:
    response = client(company.rep1).get(PICKLISTS)
    assert response.status_code == 200
    level = next(p for p in response.json() if p["code"] == "customer_level")
    assert level["is_system"] is True
    assert [(i["value"], i["label"], i["label_en"]) for i in level["items"]] == [
        ("vip", "VIP 客户", "VIP"),
        ("a", "A 类客户", "Class A"),
        ("b", "B 类客户", "Class B"),
        ("c", "C 类客户", "Class C"),
    ]
    items = client(company.rep1).get(ITEMS, {"picklist_code": "customer_level", "is_active": "true"}).json()
    assert [i["value"] for i in items] == ["vip", "a", "b", "c"]


def test_admin_manages_picklists_and_items(company) -> None:
    c = client(company.admin)
    response = c.post(PICKLISTS, {"code": "region", "name": "区域", "name_en": "Region"}, format="json")
    assert response.status_code == 201
    pk = response.json()["id"]
    response = c.post(
        ITEMS,
        {"picklist": pk, "value": "north", "label": "华北", "label_en": "North", "color": "teal"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    item = response.json()
    assert (item["order"], item["display_label"]) == (1, "North")
    response = c.post(ITEMS, {"picklist": pk, "value": "NORTH", "label": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"value": ["This value is already used in this picklist."]}
    response = c.patch(f"{ITEMS}{item['id']}/", {"is_active": False, "picklist": 999}, format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is False and response.json()["picklist"] == pk
    response = c.patch(f"{PICKLISTS}{pk}/", {"code": "changed", "name": "大区"}, format="json")
    assert response.status_code == 200
    assert (response.json()["code"], response.json()["name"]) == ("region", "大区")
    assert c.delete(f"{PICKLISTS}{pk}/").status_code == 204
    assert not Picklist.objects.filter(code="region").exists()


def test_in_use_item_and_system_picklist_cannot_be_deleted(company) -> None:
    Account.objects.create(name="x", industry="finance")
    finance = PicklistItem.objects.get(picklist__code="industry", value="finance")
    c = client(company.admin)
    response = c.delete(f"{ITEMS}{finance.pk}/")
    assert response.status_code == 409
    assert response.json() == {
        "code": "in_use",
        "message": "“Finance” is in use (customers.account.industry), so it cannot be deleted. "
        "Deactivate it instead.",
        "fields": {},
    }
    response = c.delete(f"{PICKLISTS}{finance.picklist_id}/")
    assert response.status_code == 409
    assert PicklistItem.objects.filter(pk=finance.pk).exists()


# --- the `custom` object of a customizable model --------------------------------------------------


class AccountSerializer(CustomFieldsSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "name", "custom"]


@pytest.fixture
def defs():
    colours = choice_list()
    CustomFieldFactory.create(name="code", type="text", required=True)
    CustomFieldFactory.create(name="staff", type="integer", default=10)
    CustomFieldFactory.create(name="tags", type="multi_choice", picklist=colours)
    CustomFieldFactory.create(name="mobile", type="phone")
    CustomFieldFactory.create(name="off", type="text", is_active=False)


def context(user) -> dict:
    request = APIRequestFactory().get("/")
    request.user = user
    return {"request": request}


def error_body(serializer) -> dict:
    """What the API answers for the serializer's errors."""
    try:
        serializer.is_valid(raise_exception=True)
    except serializers.ValidationError as exc:
        response = exception_handler(exc, {})
        assert response is not None
        return response.data
    raise AssertionError("valid")


def test_read_lists_every_active_field(company, defs) -> None:
    account = Account.objects.create(name="x", custom={"code": "HT1", "tags": ["red"], "off": "legacy"})
    data = AccountSerializer(account, context=context(company.admin)).data
    assert data["custom"] == {"code": "HT1", "staff": None, "tags": ["red"], "mobile": None}


def test_read_applies_field_permissions(company, defs) -> None:
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="custom.code", mode="hidden"
    )
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="custom.mobile", mode="masked"
    )
    account = Account.objects.create(name="x", custom={"code": "HT1", "mobile": "+8613800138000"})
    data = AccountSerializer(account, context=context(company.rep1)).data
    assert data["custom"] == {"staff": None, "tags": None, "mobile": "+86 138****8000"}


def test_create_validates_applies_defaults_and_requires(company, defs) -> None:
    s = AccountSerializer(
        data={"name": "x", "custom": {"code": " HT1 ", "mobile": "13800138000"}},
        context=context(company.admin),
    )
    assert s.is_valid(), s.errors
    assert s.validated_data["custom"] == {"code": "HT1", "staff": 10, "mobile": "+8613800138000"}
    s = AccountSerializer(data={"name": "x"}, context=context(company.admin))
    assert error_body(s) == {
        "code": "invalid",
        "message": "Some fields are not valid.",
        "fields": {"custom.code": ["This field is required."]},
    }


def test_write_errors_are_keyed_custom_dot_name(company, defs) -> None:
    s = AccountSerializer(
        data={
            "name": "",
            "custom": {"code": "x", "staff": "many", "tags": ["purple"], "nope": 1, "off": "y"},
        },
        context=context(company.admin),
    )
    assert error_body(s)["fields"] == {
        "name": ["This field may not be blank."],
        "custom.staff": ["Enter a whole number."],
        "custom.tags": ["Select a valid choice. purple is not one of the available choices."],
        "custom.nope": ["Unknown custom field."],
        "custom.off": ["You cannot change this field."],
    }
    s = AccountSerializer(data={"name": "x", "custom": ["a"]}, context=context(company.admin))
    assert error_body(s)["fields"] == {"custom": ["Custom fields must be an object."]}


def test_patch_is_partial_put_is_full(company, defs) -> None:
    account = Account.objects.create(name="x", custom={"code": "HT1", "staff": 5, "off": "legacy"})
    s = AccountSerializer(
        account, data={"custom": {"staff": 6}}, partial=True, context=context(company.admin)
    )
    assert s.is_valid(), s.errors
    assert s.validated_data["custom"] == {"code": "HT1", "staff": 6, "off": "legacy"}
    s = AccountSerializer(account, data={"name": "y"}, partial=True, context=context(company.admin))
    assert s.is_valid() and "custom" not in s.validated_data
    s = AccountSerializer(
        account, data={"name": "x", "custom": {"code": "HT2"}}, context=context(company.admin)
    )
    assert s.is_valid(), s.errors
    assert s.validated_data["custom"] == {"code": "HT2", "off": "legacy"}


def test_read_only_fields_cannot_be_changed(company, defs) -> None:
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="custom.code", mode="read_only"
    )
    account = Account.objects.create(name="x", custom={"code": "HT1"})
    s = AccountSerializer(
        account, data={"custom": {"code": "HT1", "staff": 1}}, partial=True, context=context(company.rep1)
    )
    assert s.is_valid(), s.errors  # unchanged: fine
    s = AccountSerializer(
        account, data={"custom": {"code": "HT9"}}, partial=True, context=context(company.rep1)
    )
    assert error_body(s)["fields"] == {"custom.code": ["You cannot change this field."]}


def test_schema_types_each_custom_field(defs) -> None:
    field = AccountSerializer().fields["custom"]
    assert isinstance(field, CustomFieldsField)
    schema = CustomFieldsFieldExtension(field).map_serializer_field(None, "response")
    assert schema["type"] == "object"
    props = schema["properties"]
    assert list(props) == ["code", "staff", "tags", "mobile"]
    assert props["staff"]["type"] == "integer" and props["staff"]["nullable"] is True
    assert props["tags"]["type"] == "array"
    assert props["tags"]["items"] == {"type": "string", "enum": ["red", "green", "blue"]}
    assert props["tags"]["nullable"] is True
    assert props["tags"]["description"].endswith("(Multiple choice)")
    assert props["code"]["description"].endswith("(Text); required")


def test_openapi_schema_lists_the_endpoints(company) -> None:
    response = client(company.admin).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/custom-fields/fields/",
        "/api/v1/custom-fields/fields/{id}/",
        "/api/v1/custom-fields/fields/reorder/",
        "/api/v1/custom-fields/picklists/",
        "/api/v1/custom-fields/picklists/{id}/reorder-items/",
        "/api/v1/custom-fields/picklist-items/{id}/",
    ):
        assert path in paths


def test_schema_of_a_single_choice_allows_null() -> None:
    colours = choice_list()
    CustomFieldFactory.create(name="colour", type="single_choice", picklist=colours)
    schema = CustomFieldsFieldExtension(AccountSerializer().fields["custom"]).map_serializer_field(
        None, "request"
    )
    assert schema["properties"]["colour"]["enum"] == ["red", "green", "blue", None]
    assert schema["properties"]["colour"]["nullable"] is True
