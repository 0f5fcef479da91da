"""Detail rows, list columns and export columns of custom values, with field permissions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone, translation

from kehu.core.tables import Table
from kehu.customfields.display import render_value
from kehu.customfields.exporting import custom_columns, custom_export_columns
from kehu.customfields.tables import CustomFieldColumn, custom_list_columns
from kehu.users.models import FieldPermission

from .factories import CustomFieldFactory, choice_list

pytestmark = pytest.mark.django_db
Account = apps.get_model("customers", "Account")


@pytest.fixture
def account(company):
    colours = choice_list()
    colours.items.filter(value="blue").update(color="#1f77b4")
    colours.items.filter(value="green").update(is_active=False)
    CustomFieldFactory.create(
        name="code", label="合同编号", label_en="Contract no.", type="text", show_in_list=True
    )
    CustomFieldFactory.create(
        name="tags", label="标签", label_en="Tags", type="multi_choice", picklist=colours
    )
    CustomFieldFactory.create(name="mobile", label="手机", label_en="Mobile", type="phone")
    CustomFieldFactory.create(name="revenue", label="收入", label_en="Revenue", type="decimal")
    CustomFieldFactory.create(name="met_at", label="会面", label_en="Met at", type="datetime")
    CustomFieldFactory.create(name="vip", label="重点", label_en="VIP", type="boolean")
    CustomFieldFactory.create(name="site", label="网站", label_en="Site", type="url")
    CustomFieldFactory.create(name="empty", label="空", label_en="Empty", type="text")
    CustomFieldFactory.create(name="off", label="停用", label_en="Off", type="text", is_active=False)
    return Account.objects.create(
        name="华为",
        custom={
            "code": "<b>HT1</b>",
            "tags": ["green", "blue", "gone"],
            "mobile": "+8613800138000",
            "revenue": "1234.5",
            "met_at": "2024-05-01T01:30:00Z",
            "vip": True,
            "site": "https://example.cn",
            "off": "legacy",
        },
    )


def render(template: str, user, **context) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load customfields %}" + template).render(Context({"request": request, **context}))


def test_detail_rows_with_badges_links_and_escaping(company, account) -> None:
    with translation.override("en"), timezone.override("Asia/Shanghai"):
        html = render("{% custom_fields_display obj %}", company.admin, obj=account)
    assert html.count('class="datagrid-item"') == 8  # active fields, the inactive one left out
    assert "Off" not in html and "legacy" not in html
    assert "&lt;b&gt;HT1&lt;/b&gt;" in html
    # a deactivated item still shows; a vanished value shows as its code
    assert '<span class="badge bg-red-lt">Green</span>' in html
    assert '<span class="badge" style="background-color: #1f77b4; color: #ffffff;">Blue</span>' in html
    assert '<span class="badge bg-secondary-lt">gone</span>' in html
    assert '<a href="tel:+8613800138000" class="text-nowrap">+86 138 0013 8000</a>' in html
    assert "1234.5" in html
    assert "05/01/2024 9:30 a.m." in html
    assert '<a href="https://example.cn" target="_blank" rel="noopener noreferrer">' in html
    assert '<div class="datagrid-title">Empty</div>' in html


def test_detail_rows_respect_field_permissions(company, account) -> None:
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="custom.code", mode="hidden"
    )
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="custom.mobile", mode="masked"
    )
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="custom.revenue", mode="masked"
    )
    with translation.override("en"):
        html = render("{% custom_fields_display obj %}", company.rep1, obj=account)
    assert "Contract no." not in html and "HT1" not in html
    assert "+86 138****8000" in html and "13800138000" not in html
    assert "1234.5" not in html and "****" in html


def test_list_columns_and_cells(company, account) -> None:
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="custom.code", mode="hidden"
    )
    with translation.override("zh-hans"):
        columns = custom_list_columns(Account)
        assert [(c.name, str(c.label), c.default) for c in columns][:2] == [
            ("custom.code", "合同编号", True),
            ("custom.tags", "标签", False),
        ]
        assert next(c.name for c in custom_list_columns(Account, company.rep1)) == "custom.tags"
        html = render(
            "{% custom_list_columns model as cols %}"
            "{% for c in cols %}[{{ c.label }}:{% custom_value obj c %}]{% endfor %}",
            company.rep1,
            model=Account,
            obj=account,
        )
    assert "[合同编号" not in html
    assert '[标签:<span class="badge bg-red-lt">绿</span>' in html


def test_columns_plug_into_a_core_table(company, account) -> None:
    class AccountTable(Table):
        model = Account
        key = "test.customfields.accounts"

        @classmethod
        def extra_columns(cls):
            return custom_list_columns(cls.model)

    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="custom.mobile", mode="masked"
    )
    table = AccountTable(user=company.rep1, visible=["custom.code", "custom.mobile"], sort="-custom.code")
    assert [c.name for c in table.visible] == ["custom.code", "custom.mobile"]
    assert table.sort_column is not None and table.sort_column.name == "custom.code"
    (row,) = table.rows([account])
    assert str(row.cells[0].content) == "&lt;b&gt;HT1&lt;/b&gt;"
    assert "+86 138****8000" in str(row.cells[1].content)
    assert list(table.order(Account.objects.all())) == [account]
    # decimals and multiple choices are not sortable (text and list order would mislead)
    by_name = {c.name: c for c in custom_list_columns(Account)}
    assert by_name["custom.revenue"].sortable is False and by_name["custom.tags"].sortable is False
    assert isinstance(by_name["custom.code"], CustomFieldColumn)


def test_export_columns_give_plain_values(company, account) -> None:
    with translation.override("en"):
        cols = custom_columns(Account)
        values = {key: getter(account) for key, label, getter in cols}
    assert [label for _, label, _ in cols][:3] == ["Contract no.", "Tags", "Mobile"]
    assert values["custom.tags"] == "Green, Blue, gone"
    assert values["custom.revenue"] == Decimal("1234.5")
    assert values["custom.met_at"] == dt.datetime(2024, 5, 1, 1, 30, tzinfo=dt.UTC)
    assert values["custom.vip"] is True
    assert values["custom.empty"] is None
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="custom.code", mode="hidden"
    )
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="custom.mobile", mode="masked"
    )
    rep_values = {key: getter(account) for key, _, getter in custom_columns(Account, company.rep1)}
    assert "custom.code" not in rep_values
    assert rep_values["custom.mobile"] == "+86 138****8000"
    export = custom_export_columns(Account)
    assert [(c.key, c.mask_kind) for c in export][:3] == [
        ("custom.code", "text"),
        ("custom.tags", "text"),
        ("custom.mobile", "phone"),
    ]
    assert export[0].value(account) == "<b>HT1</b>"


def test_render_value_of_booleans_and_empties(account) -> None:
    from kehu.customfields.models import CustomField

    field = CustomField(name="b", type="boolean", label="b")
    with translation.override("en"):
        assert "No" in render_value(field, False)
        assert "Yes" in render_value(field, True)
        assert render_value(field, None) == '<span class="text-secondary">—</span>'
        assert render_value(field, True, mode="hidden") == ""


def test_history_names_custom_field_changes_by_label(db) -> None:
    from kehu.audit.display import field_label
    from kehu.customers.models import Account

    CustomFieldFactory(model="customers.account", name="region", label="签约区域", label_en="Contract region")
    with translation.override("en"):
        assert field_label(Account, "custom.region") == "Contract region"
    with translation.override("zh-hans"):
        assert field_label(Account, "custom.region") == "签约区域"
    assert field_label(Account, "custom.unknown") == "unknown"
