"""The data standards pages (Settings → Data standards) and /api/v1/custom-fields/field-rules/."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from kehu.core.models import Job
from kehu.customfields import services
from kehu.customfields.models import CustomField, FieldRule

from .factories import CustomFieldFactory

pytestmark = pytest.mark.django_db
Account = apps.get_model("customers", "Account")
HTMX = {"HX-Request": "true"}
RULES = "/api/v1/custom-fields/field-rules/"


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def api(user=None) -> APIClient:
    c = APIClient()
    if user is not None:
        c.force_authenticate(user)
    return c


def pages() -> list[tuple[str, str]]:
    return [
        ("get", reverse("customfields:standards")),
        ("get", reverse("customfields:standards_model", args=["customers.account"])),
        ("post", reverse("customfields:standards_field", args=["customers.account", "phone"])),
        ("get", reverse("customfields:standards_pattern", args=["customers.account", "phone"])),
        ("post", reverse("customfields:standards_pattern", args=["customers.account", "phone"])),
        ("post", reverse("customfields:standards_recompute", args=["customers.account"])),
    ]


def state() -> tuple:
    return (list(FieldRule.objects.values_list("field", "required", "weight")), Job.objects.count())


# --- pages ----------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in() -> None:
    for method, url in pages():
        response = getattr(Client(), method)(url, {"required": "on", "weight": "3"})
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")
    assert state() == ([], 0)


@pytest.mark.parametrize("who", ["rep1", "manager1", "viewer_all", "nobody"])
def test_non_admins_get_403_and_change_nothing(company, who) -> None:
    c = signed_in(getattr(company, who))
    for method, url in pages():
        response = getattr(c, method)(url, {"required": "on", "weight": "3", "pattern": "x"}, headers=HTMX)
        assert response.status_code == 403, url
    assert state() == ([], 0)


def test_admin_sees_every_standard_and_custom_field(company) -> None:
    CustomFieldFactory.create(name="contract_no", label_en="Contract no.")
    c = signed_in(company.admin)
    response = c.get(reverse("customfields:standards"))
    assert response.status_code == 302
    assert response["Location"].endswith("/standards/customers.account/")
    html = c.get(response["Location"]).content.decode()
    for key in ("name", "phone", "email", "tax_number", "custom.contract_no"):
        assert f'data-field="{key}"' in html
    assert 'data-field="owner"' not in html and 'data-field="version"' not in html
    # name is required by the model itself: shown locked
    row = html.split('data-field="name"')[1].split("</tr>")[0]
    assert "ti-lock" in row and 'name="required"' in row
    assert c.get(reverse("customfields:standards_model", args=["nope.model"])).status_code == 404
    from kehu.core.navigation import menu_for

    urls = {i["url_name"] for g in menu_for(company.admin) for i in g["items"]}
    assert "customfields:standards" in urls
    assert "customfields:standards" not in {i["url_name"] for g in menu_for(company.rep1) for i in g["items"]}


def test_inline_row_saves_required_unique_and_weight(company, django_capture_on_commit_callbacks) -> None:
    c = signed_in(company.admin)
    url = reverse("customfields:standards_field", args=["customers.account", "tax_number"])
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(url, {"required": "on", "unique": "on", "weight": "4"}, headers=HTMX)
    assert response.status_code == 200
    assert 'data-field="tax_number"' in response.content.decode()
    toast = json.loads(response["HX-Trigger"])["kehu:toast"]
    assert toast["level"] == "success"
    rule = FieldRule.objects.get(field="tax_number")
    assert (rule.required, rule.unique, rule.weight) == (True, True, 4)
    assert Job.objects.filter(kind=services.COMPLETENESS_JOB_KIND).count() == 1
    # unticking: checkboxes absent from the post
    c.post(url, {"weight": "4"}, headers=HTMX)
    rule.refresh_from_db()
    assert (rule.required, rule.unique) == (False, False)


def test_inline_row_shows_errors_and_saves_nothing(company) -> None:
    c = signed_in(company.admin)
    url = reverse("customfields:standards_field", args=["customers.account", "phone"])
    response = c.post(url, {"weight": "12"}, headers=HTMX)
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    assert json.loads(response["HX-Trigger"])["kehu:toast"]["level"] == "error"
    assert not FieldRule.objects.exists()
    assert (
        c.post(
            reverse("customfields:standards_field", args=["customers.account", "nope"]),
            {"weight": "1"},
            headers=HTMX,
        ).status_code
        == 404
    )


def test_pattern_modal_validates_and_saves(company) -> None:
    c = signed_in(company.admin)
    url = reverse("customfields:standards_pattern", args=["customers.account", "tax_number"])
    assert c.get(url, headers=HTMX).status_code == 200
    response = c.post(
        url, {"pattern": "^(a+)+$", "pattern_message": "", "pattern_message_en": ""}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Nested repetitions" in response.content.decode()
    assert not FieldRule.objects.exists()
    response = c.post(
        url,
        {"pattern": r"^[0-9A-Z]{18}$", "pattern_message": "税号为18位", "pattern_message_en": "18 chars"},
        headers=HTMX,
    )
    assert response.status_code == 204
    rule = FieldRule.objects.get(field="tax_number")
    assert (rule.pattern, rule.pattern_message_en) == (r"^[0-9A-Z]{18}$", "18 chars")


def test_pattern_modal_of_a_custom_field_edits_the_definition(company) -> None:
    field = CustomFieldFactory.create(name="code")
    c = signed_in(company.admin)
    url = reverse("customfields:standards_pattern", args=["customers.account", "custom.code"])
    response = c.post(
        url, {"pattern": r"^C\d+$", "pattern_message": "", "pattern_message_en": ""}, headers=HTMX
    )
    assert response.status_code == 204
    field.refresh_from_db()
    assert field.pattern == r"^C\d+$"


def test_html_in_labels_is_escaped(company) -> None:
    CustomFieldFactory.create(name="xss", label_en="<script>alert(1)</script>")
    html = signed_in(company.admin).get(reverse("customfields:standards_model", args=["customers.account"]))
    assert "<script>alert(1)</script>" not in html.content.decode()


# --- API ------------------------------------------------------------------------------------------


def test_api_crud_for_admins(company, django_capture_on_commit_callbacks) -> None:
    c = api(company.admin)
    body = {
        "model": "customers.account",
        "field": "tax_number",
        "required": True,
        "unique": True,
        "weight": 3,
    }
    response = c.post(RULES, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["field"], data["required"], data["unique"], data["weight"], data["is_custom"]) == (
        "tax_number",
        True,
        True,
        3,
        False,
    )
    pk = data["id"]
    # a second create of the same field is refused
    assert c.post(RULES, body, format="json").status_code == 400
    response = c.patch(f"{RULES}{pk}/", {"weight": 5, "field": "phone"}, format="json")
    assert response.status_code == 200
    assert (response.json()["weight"], response.json()["field"]) == (5, "tax_number")
    assert [r["id"] for r in c.get(RULES, {"model": "customers.account"}).json()] == [pk]
    assert c.get(RULES, {"model": "customers.contact"}).json() == []
    assert c.delete(f"{RULES}{pk}/").status_code == 204
    assert not FieldRule.objects.exists()


def test_api_custom_field_rules_read_required_from_the_definition(company) -> None:
    CustomFieldFactory.create(name="code")
    c = api(company.admin)
    response = c.post(
        RULES,
        {"model": "customers.account", "field": "custom.code", "required": True, "unique": True},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["required"] is True
    assert CustomField.objects.get(name="code").required is True


@pytest.mark.parametrize(
    "body",
    [
        {"model": "customers.account", "field": "owner", "required": True},
        {"model": "customers.account", "field": "phone", "pattern": "(a+)+"},
        {"model": "customers.account", "field": "phone", "weight": 99},
        {"model": "nope", "field": "phone"},
        {"model": "customers.account", "field": "name", "required": False},
        {"model": "customers.account"},
    ],
)
def test_api_bad_input_is_a_400_with_fields(company, body) -> None:
    response = api(company.admin).post(RULES, body, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]
    assert not FieldRule.objects.exists()


def test_api_permissions(company) -> None:
    rule = FieldRule.objects.create(model="customers.account", field="phone", required=True)
    assert api().get(RULES).status_code == 401
    rep = api(company.rep1)
    assert rep.get(RULES).status_code == 200  # signed-in users read the standards (forms need them)
    assert rep.post(RULES, {"model": "customers.account", "field": "email"}, format="json").status_code == 403
    assert rep.patch(f"{RULES}{rule.pk}/", {"weight": 3}, format="json").status_code == 403
    assert rep.delete(f"{RULES}{rule.pk}/").status_code == 403
    rule.refresh_from_db()
    assert rule.weight == 1


def test_api_is_in_the_schema(company) -> None:
    response = api(company.admin).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    assert "/api/v1/custom-fields/field-rules/" in paths
    assert "/api/v1/custom-fields/field-rules/{id}/" in paths
