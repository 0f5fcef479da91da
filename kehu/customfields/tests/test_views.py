"""Administration pages: only administrators; modal forms answer htmx; writes through services."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from kehu.customfields.models import CustomField, Picklist, PicklistItem

from .factories import CustomFieldFactory, choice_list

pytestmark = pytest.mark.django_db
Account = apps.get_model("customers", "Account")
HTMX = {"HX-Request": "true"}


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def trigger(response) -> dict:
    return json.loads(response["HX-Trigger"])


@pytest.fixture
def objects():
    colours = choice_list()
    field = CustomFieldFactory.create(name="code", label="合同编号", label_en="Contract no.")
    return {"picklist": colours, "item": colours.items.get(value="red"), "field": field}


def pages(o) -> list[tuple[str, str]]:
    return [
        ("get", reverse("customfields:field_list")),
        ("get", reverse("customfields:field_add") + "?model=customers.account"),
        ("get", reverse("customfields:field_edit", args=[o["field"].pk])),
        ("get", reverse("customfields:field_delete", args=[o["field"].pk])),
        ("post", reverse("customfields:field_deactivate", args=[o["field"].pk])),
        ("post", reverse("customfields:field_reorder")),
        ("get", reverse("customfields:picklist_list")),
        ("get", reverse("customfields:picklist_add")),
        ("get", reverse("customfields:picklist_detail", args=[o["picklist"].pk])),
        ("get", reverse("customfields:picklist_edit", args=[o["picklist"].pk])),
        ("post", reverse("customfields:picklist_delete", args=[o["picklist"].pk])),
        ("get", reverse("customfields:item_add", args=[o["picklist"].pk])),
        ("get", reverse("customfields:item_edit", args=[o["item"].pk])),
        ("post", reverse("customfields:item_deactivate", args=[o["item"].pk])),
        ("post", reverse("customfields:item_delete", args=[o["item"].pk])),
    ]


def snapshot() -> tuple:
    return (
        list(CustomField.objects.values_list("pk", "is_active", "order", "label")),
        list(Picklist.objects.values_list("pk", "name")),
        list(PicklistItem.objects.values_list("pk", "is_active", "order")),
    )


def test_anonymous_is_sent_to_sign_in(objects) -> None:
    before = snapshot()
    for method, url in pages(objects):
        response = getattr(Client(), method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")
    assert snapshot() == before


@pytest.mark.parametrize("who", ["rep1", "manager1", "director", "viewer_all", "nobody"])
def test_non_admins_get_403_and_change_nothing(company, objects, who) -> None:
    before = snapshot()
    c = signed_in(getattr(company, who))
    for method, url in pages(objects):
        assert getattr(c, method)(url, headers=HTMX).status_code == 403, url
    assert snapshot() == before


def test_admin_sees_the_pages(company, objects) -> None:
    c = signed_in(company.admin)
    response = c.get(reverse("customfields:field_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-model="customers.account"' in html and 'data-model="customers.contact"' in html
    assert 'data-field-name="code"' in html
    assert "Sortable.min.js" in html
    response = c.get(reverse("customfields:picklist_list"))
    assert response.status_code == 200
    assert 'data-picklist="customer_level"' in response.content.decode()
    response = c.get(reverse("customfields:picklist_detail", args=[objects["picklist"].pk]))
    assert response.status_code == 200
    assert response.content.decode().count('data-value="') == 3


def test_menu_items_only_for_admins(company) -> None:
    from kehu.core.navigation import menu_for

    def urls(user):
        return {i["url_name"] for g in menu_for(user) for i in g["items"]}

    assert {"customfields:field_list", "customfields:picklist_list"} <= urls(company.admin)
    assert not {"customfields:field_list", "customfields:picklist_list"} & urls(company.rep1)


def test_create_a_field_in_the_modal(company) -> None:
    c = signed_in(company.admin)
    url = reverse("customfields:field_add")
    response = c.get(url + "?model=customers.account", headers=HTMX)
    assert response.status_code == 200
    assert 'value="customers.account" selected' in response.content.decode()
    response = c.post(
        url,
        {
            "model": "customers.account",
            "name": "contract_no",
            "label": "合同编号",
            "type": "text",
            "is_active": "on",
            "show_in_list": "on",
        },
        headers=HTMX,
    )
    assert response.status_code == 204
    events = trigger(response)
    assert events["kehu:closeModal"] is True
    assert events["kehu:toast"] == {"message": "Custom field “合同编号” created.", "level": "success"}
    assert json.loads(response["HX-Location"])["path"] == reverse("customfields:field_list")
    field = CustomField.objects.get(name="contract_no")
    assert (field.model, field.show_in_list, field.filterable, field.is_active) == (
        "customers.account",
        True,
        False,
        True,
    )


def test_errors_are_shown_in_the_modal(company, objects) -> None:
    c = signed_in(company.admin)
    response = c.post(
        reverse("customfields:field_add"),
        {"model": "customers.account", "name": "code", "label": "x", "type": "single_choice"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose the picklist that holds the choices." in html
    response = c.post(
        reverse("customfields:field_add"),
        {"model": "customers.account", "name": "code", "label": "x", "type": "text", "pattern": "([a"},
        headers=HTMX,
    )
    assert "A custom field with this name already exists." in response.content.decode()
    assert CustomField.objects.count() == 1


def test_edit_keeps_name_and_model_and_limits_types_when_values_exist(company, objects) -> None:
    field = objects["field"]
    Account.objects.create(name="x", custom={"code": "HT1"})
    c = signed_in(company.admin)
    url = reverse("customfields:field_edit", args=[field.pk])
    response = c.get(url, headers=HTMX)
    html = response.content.decode()
    assert "data-values-exist" in html
    assert 'value="long_text"' in html and 'value="integer"' not in html
    response = c.post(
        url,
        {
            "model": "customers.contact",
            "name": "renamed",
            "label": "新标签",
            "type": "long_text",
            "is_active": "on",
        },
        headers=HTMX,
    )
    assert response.status_code == 204
    field.refresh_from_db()
    assert (field.model, field.name, field.label, field.type) == (
        "customers.account",
        "code",
        "新标签",
        "long_text",
    )
    response = c.post(url, {"label": "x", "type": "integer", "is_active": "on"}, headers=HTMX)
    assert response.status_code == 200  # refused: the form shows why
    field.refresh_from_db()
    assert field.type == "long_text"


def test_deactivate_reactivate_and_delete(company, objects) -> None:
    field = objects["field"]
    c = signed_in(company.admin)
    response = c.post(reverse("customfields:field_deactivate", args=[field.pk]), headers=HTMX)
    assert response.status_code == 204
    assert trigger(response)["kehu:toast"]["level"] == "success"
    field.refresh_from_db()
    assert field.is_active is False
    c.post(reverse("customfields:field_reactivate", args=[field.pk]), headers=HTMX)
    field.refresh_from_db()
    assert field.is_active is True
    account = Account.objects.create(name="x", custom={"code": "HT1"})
    response = c.get(reverse("customfields:field_delete", args=[field.pk]), headers=HTMX)
    assert "data-delete-refused" in response.content.decode()
    response = c.post(reverse("customfields:field_delete", args=[field.pk]), headers=HTMX)
    assert response.status_code == 204
    assert trigger(response)["kehu:toast"]["level"] == "error"
    assert CustomField.objects.filter(pk=field.pk).exists()
    account.delete()
    response = c.post(reverse("customfields:field_delete", args=[field.pk]), headers=HTMX)
    assert trigger(response)["kehu:toast"] == {"message": "“Contract no.” deleted.", "level": "success"}
    assert not CustomField.objects.filter(pk=field.pk).exists()


def test_reorder_fields_and_items(company, objects) -> None:
    second = CustomFieldFactory.create(name="second")
    c = signed_in(company.admin)
    response = c.post(
        reverse("customfields:field_reorder"),
        {"model": "customers.account", "ids": [second.pk, objects["field"].pk]},
        headers=HTMX,
    )
    assert response.status_code == 204
    assert trigger(response)["kehu:toast"]["level"] == "success"
    assert list(CustomField.objects.order_by("order").values_list("name", flat=True)) == ["second", "code"]
    response = c.post(
        reverse("customfields:field_reorder"), {"model": "customers.account", "ids": ["x"]}, headers=HTMX
    )
    assert trigger(response)["kehu:toast"]["level"] == "error"
    picklist = objects["picklist"]
    ids = list(picklist.items.order_by("-order").values_list("pk", flat=True))
    response = c.post(reverse("customfields:item_reorder", args=[picklist.pk]), {"ids": ids}, headers=HTMX)
    assert response.status_code == 204
    assert list(picklist.items.order_by("order").values_list("value", flat=True)) == ["blue", "green", "red"]


def test_picklist_and_items_in_the_ui(company) -> None:
    c = signed_in(company.admin)
    response = c.post(
        reverse("customfields:picklist_add"),
        {"code": "region", "name": "区域", "name_en": "Region"},
        headers=HTMX,
    )
    assert response.status_code == 204
    picklist = Picklist.objects.get(code="region")
    assert json.loads(response["HX-Location"])["path"] == picklist.get_absolute_url()
    response = c.post(
        reverse("customfields:item_add", args=[picklist.pk]),
        {"value": "north", "label": "华北", "label_en": "North", "color": "#00aa55", "is_active": "on"},
        headers=HTMX,
    )
    assert response.status_code == 204
    item = picklist.items.get()
    assert (item.value, item.color, item.order) == ("north", "#00aa55", 1)
    response = c.post(
        reverse("customfields:item_add", args=[picklist.pk]),
        {"value": "NORTH", "label": "x", "color": "rainbow"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose a colour from the palette" in html
    response = c.post(
        reverse("customfields:item_edit", args=[item.pk]),
        {"value": "north", "label": "华北区", "color": "teal"},
        headers=HTMX,
    )
    assert response.status_code == 204
    item.refresh_from_db()
    assert (item.label, item.color, item.is_active) == ("华北区", "teal", False)
    response = c.post(
        reverse("customfields:picklist_edit", args=[picklist.pk]), {"code": "x", "name": "大区"}, headers=HTMX
    )
    assert response.status_code == 204
    picklist.refresh_from_db()
    assert (picklist.code, picklist.name) == ("region", "大区")
    response = c.post(reverse("customfields:picklist_delete", args=[picklist.pk]), headers=HTMX)
    assert trigger(response)["kehu:toast"]["level"] == "success"
    assert not Picklist.objects.filter(pk=picklist.pk).exists()


def test_in_use_item_delete_is_refused_with_a_toast(company) -> None:
    Account.objects.create(name="x", level="vip")
    vip = PicklistItem.objects.get(picklist__code="customer_level", value="vip")
    c = signed_in(company.admin)
    response = c.get(reverse("customfields:item_delete", args=[vip.pk]), headers=HTMX)
    assert "data-delete-refused" in response.content.decode()
    response = c.post(reverse("customfields:item_delete", args=[vip.pk]), headers=HTMX)
    assert response.status_code == 204
    assert trigger(response)["kehu:toast"] == {
        "message": "“VIP” is in use (customers.account.level), so it cannot be deleted. "
        "Deactivate it instead.",
        "level": "error",
    }
    assert PicklistItem.objects.filter(pk=vip.pk).exists()
    response = c.post(reverse("customfields:item_deactivate", args=[vip.pk]), headers=HTMX)
    vip.refresh_from_db()
    assert vip.is_active is False
    response = c.post(reverse("customfields:picklist_delete", args=[vip.picklist_id]), headers=HTMX)
    assert trigger(response)["kehu:toast"]["level"] == "error"


def test_plain_posts_redirect_with_a_message(company, objects) -> None:
    c = signed_in(company.admin)
    response = c.post(reverse("customfields:field_deactivate", args=[objects["field"].pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("customfields:field_list")


def test_definition_changes_are_in_the_operation_log(company) -> None:
    from kehu.audit.models import ObjectChange

    c = signed_in(company.admin)
    c.post(
        reverse("customfields:field_add"),
        {"model": "customers.account", "name": "region", "label": "区域", "type": "text", "is_active": "on"},
        headers=HTMX,
    )
    field = CustomField.objects.get(name="region")
    change = ObjectChange.objects.get(model="customfields.customfield", object_id=field.pk)
    assert change.user == company.admin
    c.post(reverse("customfields:field_deactivate", args=[field.pk]), headers=HTMX)
    assert ObjectChange.objects.filter(model="customfields.customfield", object_id=field.pk).count() == 2
