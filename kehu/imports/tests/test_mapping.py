"""Import targets, automatic column mapping and row conversion."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from kehu.imports import mapping as m
from kehu.imports import presets
from kehu.imports.mapping import (
    ConvertOptions,
    FieldKind,
    ImportField,
    auto_map,
    convert_values,
    custom_import_fields,
    get_target,
    group_row,
    mapping_problems,
    normalise_header,
    picklist_mappers,
    register_import_target,
    unregister_import_target,
)
from kehu.imports.transforms import Option, PicklistMapper


@pytest.fixture
def contact() -> m.ImportTarget:
    return get_target("customers.contact", custom=False)


@pytest.fixture
def account() -> m.ImportTarget:
    return get_target("customers.account", custom=False)


@pytest.fixture
def sales_registered() -> Iterator[None]:
    """The sales targets, registered for the test if sales/apps.py has not done it already."""
    before = set(m.registered_targets())
    m.register_sales_targets()
    yield
    for label in m.sales_targets():
        if label not in before:
            unregister_import_target(label)


# --- registry -------------------------------------------------------------------------------


def test_customer_targets_are_registered() -> None:
    assert {"customers.account", "customers.contact"} <= set(m.registered_targets())
    with pytest.raises(LookupError):
        get_target("nope.nothing")


def test_register_refuses_duplicates_and_incomplete_relations() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        register_import_target("x.y", [ImportField("a"), ImportField("a")])
    with pytest.raises(ValueError, match="needs `related` and `lookups`"):
        register_import_target("x.y", [ImportField("owner", FieldKind.FK)])
    assert "x.y" not in m.registered_targets()


def test_register_and_unregister() -> None:
    register_import_target("Demo.Thing", [ImportField("code", aliases=("编号",))])
    try:
        target = get_target("demo.thing", custom=False)
        assert [f.name for f in target.fields] == ["code"]
        assert auto_map(["编号"], target) == {"编号": "code"}
    finally:
        unregister_import_target("demo.thing")
    assert "demo.thing" not in m.registered_targets()


def test_contact_fields_cover_the_model(contact: m.ImportTarget) -> None:
    from kehu.customers.models import Contact

    model_fields = {f.name for f in Contact._meta.get_fields()}
    plain = [f.name for f in contact.fields if "." not in f.name and not f.combine and f.name != "tags"]
    assert set(plain) <= model_fields
    assert {
        "name",
        "mobile",
        "email",
        "account",
        "owner",
        "birthday",
        "tags",
        "phones.home",
        "emails.other",
    } <= {f.name for f in contact.fields}
    account_field = contact.get("account")
    assert account_field is not None
    assert (account_field.kind, account_field.related, account_field.lookups) == (
        FieldKind.FK,
        "customers.account",
        ("name",),
    )
    owner = contact.get("owner")
    assert owner is not None and owner.lookups == ("username", "email")


def test_account_fields_cover_the_model(account: m.ImportTarget) -> None:
    from kehu.customers.models import Account

    model_fields = {f.name for f in Account._meta.get_fields()}
    plain = [f.name for f in account.fields if "." not in f.name and f.name not in ("tags", "postcode")]
    assert set(plain) <= model_fields
    industry = account.get("industry")
    assert industry is not None and industry.picklist == "industry"


def test_labels_come_from_verbose_names_in_both_languages(contact: m.ImportTarget) -> None:
    mobile = contact.get("mobile")
    assert mobile is not None
    assert contact.labels(mobile) == ["mobile", "手机"]
    with translation.override("zh-hans"):
        assert contact.label(mobile) == "手机"
    first = contact.get("first_name")
    assert first is not None and contact.labels(first)[0] == "first name"


def test_sales_targets_use_string_names_and_resolve_labels(sales_registered: None) -> None:
    lead = get_target("sales.lead", custom=False)
    status = lead.get("status")
    assert status is not None and status.kind == FieldKind.PICKLIST
    assert [key for key, _label in lead.choices(status)] == [
        "new",
        "contacting",
        "qualified",
        "unqualified",
        "converted",
    ]
    assert lead.labels(status)[0] == "status"
    opportunity = get_target("sales.opportunity", custom=False)
    stage = opportunity.get("stage")
    assert stage is not None and (stage.related, stage.lookups) == ("sales.stage", ("name",))
    assert auto_map(["Opportunity Name", "Amount", "Close Date", "Stage"], opportunity) == {
        "Opportunity Name": "name",
        "Amount": "amount",
        "Close Date": "expected_close_date",
        "Stage": "stage",
    }


class _Definition:
    def __init__(self, name: str, type: str, label: str, label_en: str = "", required: bool = False) -> None:
        self.name, self.type, self.label, self.label_en, self.required = name, type, label, label_en, required
        self.picklist = None


def test_custom_import_fields() -> None:
    fields = custom_import_fields(
        [
            _Definition("contract_no", "text", "合同编号", "Contract No.", True),
            _Definition("budget", "decimal", "预算"),
        ]
    )
    assert [(f.name, f.kind, f.required, f.picklist) for f in fields] == [
        ("custom.contract_no", FieldKind.TEXT, True, ""),
        ("custom.budget", FieldKind.DECIMAL, False, ""),
    ]
    target = m.ImportTarget("customers.contact", tuple(fields))
    assert target.labels(fields[0]) == ["Contract No.", "合同编号"]
    assert auto_map(["合同编号", "contract no", "预算"], target) == {
        "合同编号": "custom.contract_no",
        "contract no": None,
        "预算": "custom.budget",
    }


@pytest.mark.django_db
def test_get_target_appends_active_custom_fields() -> None:
    from kehu.customfields.models import CustomField, Picklist, PicklistItem
    from kehu.customfields.selectors import forget_definitions

    picklist = Picklist.objects.create(code="region_zone", name="大区", name_en="Zone")
    PicklistItem.objects.create(picklist=picklist, value="east", label="华东", label_en="East")
    CustomField.objects.create(
        model="customers.contact", name="zone", label="大区", type="single_choice", picklist=picklist
    )
    CustomField.objects.create(
        model="customers.contact", name="old", label="旧字段", type="text", is_active=False
    )
    forget_definitions()
    target = get_target("customers.contact")
    zone = target.get("custom.zone")
    assert zone is not None and (zone.kind, zone.picklist) == (FieldKind.PICKLIST, "region_zone")
    assert target.get("custom.old") is None
    assert auto_map(["大区"], target) == {"大区": "custom.zone"}
    mappers = picklist_mappers(target)
    assert mappers["custom.zone"]("East") == "east"
    assert mappers["gender"]("female") == "female"


# --- automatic mapping ----------------------------------------------------------------------


def test_normalise_header() -> None:
    assert normalise_header(" E-mail Address * ") == "emailaddress"
    assert normalise_header("手机号（必填）") == "手机号"
    assert normalise_header("ＥＭＡＩＬ") == "email"
    assert normalise_header("State/Region") == "stateregion"


def test_auto_map_chinese_headers(contact: m.ImportTarget) -> None:
    headers = ["姓名", "手机", "邮箱", "公司", "职位", "生日", "标签", "备注", "负责人", "微信号", "电话"]
    assert auto_map(headers, contact) == {
        "姓名": "name",
        "手机": "mobile",
        "邮箱": "email",
        "公司": "account",
        "职位": "title",
        "生日": "birthday",
        "标签": "tags",
        "备注": "notes",
        "负责人": "owner",
        "微信号": "wechat",
        "电话": "phone",
    }


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("手机号", "mobile"),
        ("移动电话", "mobile"),
        ("Mobile Phone", "mobile"),
        ("Mobile", "mobile"),
        ("电子邮件", "email"),
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("单位", "account"),
        ("Company", "account"),
        ("Account Name", "account"),
        ("公司名称", "account"),
        ("First Name", "first_name"),
        ("Contact Owner", "owner"),
        ("Email Opt Out", "do_not_email"),
        ("手机号码*", "mobile"),
        ("Emial Adress", "email"),  # fuzzy
        ("手机号吗", "mobile"),  # fuzzy (a typo of 手机号码)
    ],
)
def test_auto_map_aliases_and_fuzzy(contact: m.ImportTarget, header: str, field: str) -> None:
    assert auto_map([header], contact) == {header: field}


def test_auto_map_never_gives_a_single_field_twice(contact: m.ImportTarget) -> None:
    result = auto_map(["手机", "手机号", "Mobile Phone", "Emial", "邮箱"], contact)
    assert result == {"手机": "mobile", "手机号": None, "Mobile Phone": None, "Emial": None, "邮箱": "email"}


def test_auto_map_multiple_fields_take_several_columns(contact: m.ImportTarget) -> None:
    assert auto_map(["备注", "Notes", "其他电话", "Other Phone"], contact) == {
        "备注": "notes",
        "Notes": "notes",
        "其他电话": "phones.other",
        "Other Phone": "phones.other",
    }


def test_auto_map_leaves_unknown_headers_and_respects_threshold(contact: m.ImportTarget) -> None:
    assert auto_map(["Favourite colour", "", "ID"], contact) == {
        "Favourite colour": None,
        "": None,
        "ID": None,
    }
    assert auto_map(["Emial Adress"], contact, threshold=99) == {"Emial Adress": None}


def test_auto_map_account_headers(account: m.ImportTarget) -> None:
    headers = [
        "客户名称",
        "联系电话",
        "行业",
        "客户来源",
        "省份",
        "城市",
        "地址",
        "统一社会信用代码",
        "客户等级",
        "邮编",
    ]
    assert auto_map(headers, account) == {
        "客户名称": "name",
        "联系电话": "phone",
        "行业": "industry",
        "客户来源": "source",
        "省份": "province",
        "城市": "city",
        "地址": "address",
        "统一社会信用代码": "tax_number",
        "客户等级": "level",
        "邮编": "postcode",
    }


def test_mapping_problems(contact: m.ImportTarget) -> None:
    with translation.override("en"):
        assert mapping_problems({"A": "mobile", "B": "mobile", "C": "nope"}, contact) == [
            "Only one column can go to “mobile”.",
            "“nope” is not a field you can import.",
            "No column goes to “name”, which is required.",
            "No column goes to “account”, which is required.",
        ]
        # A name made of its parts counts as given.
        assert mapping_problems({"F": "first_name", "L": "last_name", "Co": "account"}, contact) == []


# --- converting rows ------------------------------------------------------------------------


def test_group_row_and_convert_values(contact: m.ImportTarget) -> None:
    mapping = {
        "姓": "last_name",
        "名": "first_name",
        "手机": "mobile",
        "邮箱": "email",
        "生日": "birthday",
        "标签": "tags",
        "备注": "notes",
        "Notes": "notes",
        "勿电": "do_not_call",
        "公司": "account",
        "忽略": None,
    }
    row = {
        "姓": "张",
        "名": "伟",
        "手机": "138 1234 5678",
        "邮箱": " Zhang.Wei@Example.COM ",
        "生日": "1990年3月5日",
        "标签": "重要客户；VIP, vip",
        "备注": "老客户",
        "Notes": " ",
        "勿电": "是",
        "公司": " 北京字节跳动科技有限公司 ",
        "忽略": "x",
    }
    grouped = group_row(mapping, row)
    assert grouped == {
        "last_name": ["张"],
        "first_name": ["伟"],
        "mobile": ["138 1234 5678"],
        "email": [" Zhang.Wei@Example.COM "],
        "birthday": ["1990年3月5日"],
        "tags": ["重要客户；VIP, vip"],
        "notes": ["老客户"],
        "do_not_call": ["是"],
        "account": [" 北京字节跳动科技有限公司 "],
    }
    values, errors = convert_values(contact, grouped)
    assert errors == {}
    assert values == {
        "name": "张伟",
        "mobile": "+8613812345678",
        "email": "zhang.wei@example.com",
        "birthday": dt.date(1990, 3, 5),
        "tags": ["重要客户", "VIP"],
        "notes": ["老客户"],
        "do_not_call": True,
        "account": "北京字节跳动科技有限公司",
    }


def test_convert_values_collects_errors_per_field(contact: m.ImportTarget) -> None:
    options = ConvertOptions(
        date_order="DMY",
        region="CN",
        picklists={"gender": PicklistMapper.from_choices([("male", "Male"), ("female", "Female")])},
    )
    with translation.override("en"):
        values, errors = convert_values(
            contact,
            {
                "name": ["John Smith"],
                "mobile": ["12345"],
                "birthday": ["05/03/1990"],
                "gender": ["unknown"],
                "email": ["not-an-email"],
                "phones.other": ["+1 650 253 0000", "+16502530000", "010 6552 9988"],
            },
            options,
        )
    assert values == {
        "name": "John Smith",
        "birthday": dt.date(1990, 3, 5),
        "phones.other": ["+16502530000", "+861065529988"],
    }
    assert errors == {
        "mobile": ["“12345” is not a valid phone number. Enter it like 138 1234 5678 or +86 10 6552 9988."],
        "gender": ["“unknown” is not one of the choices (Male, Female)."],
        "email": ["“not-an-email” is not an e-mail address. Write it like name@example.com."],
    }


def test_convert_values_numbers_and_multi_picklists() -> None:
    target = m.ImportTarget(
        "customers.account",
        (
            ImportField("custom.budget", FieldKind.DECIMAL),
            ImportField("custom.seats", FieldKind.INTEGER),
            ImportField("custom.zones", FieldKind.MULTI, picklist="zones"),
            ImportField("custom.visited", FieldKind.DATETIME),
        ),
    )
    zones = PicklistMapper([Option("east", "华东", "East"), Option("north", "华北", "North")])
    values, errors = convert_values(
        target,
        {
            "custom.budget": ["¥1.2万"],
            "custom.seats": ["1,200"],
            "custom.zones": ["华东; North; east"],
            "custom.visited": ["2024-03-05T10:00:00Z"],
        },
        ConvertOptions(picklists={"custom.zones": zones}),
    )
    assert errors == {}
    assert values == {
        "custom.budget": Decimal("12000"),
        "custom.seats": 1200,
        "custom.zones": ["east", "north"],
        "custom.visited": dt.datetime(2024, 3, 5, 10, tzinfo=dt.UTC),
    }
    _values, errors = convert_values(target, {"custom.seats": ["1.5"]})
    assert list(errors) == ["custom.seats"]


def test_picklist_mappers_without_database(account: m.ImportTarget) -> None:
    items = {"industry": [Option("it", "信息技术", "IT")], "source": [], "customer_level": []}

    def read(code: str) -> list[object]:
        return [
            type("Item", (), {"value": o.key, "label": o.label, "label_en": o.label_en})()
            for o in items[code]
        ]

    mappers = picklist_mappers(
        account, items=read, policy="create", mappings={"lifecycle_stage": {"老客户": "mature"}}
    )
    # Tags are free text (no picklist, no choices): no mapper.
    assert sorted(mappers) == ["industry", "kind", "level", "lifecycle_stage", "source"]
    assert mappers["industry"]("IT") == "it"
    assert mappers["industry"]("制造业") == "zhi_zao_ye"
    assert mappers["industry"].created == {"zhi_zao_ye": "制造业"}
    assert mappers["kind"]("Company") == "company"
    assert mappers["lifecycle_stage"]("老客户") == "mature"


# --- presets (one fixture CSV per vendor export) --------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "presets"


def _read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (FIXTURES / name).open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def _mapped(preset: presets.Preset, headers: list[str]) -> dict[str, str]:
    """The headers the preset imports (the others are known and deliberately left out)."""
    result = preset.mapping(headers)
    assert set(result) == set(headers)
    return {h: f for h, f in result.items() if f}


def _check(name: str, key: str, region: str) -> tuple[list[str], list[dict[str, Any]]]:
    headers, rows = _read(name)
    preset, score = presets.detect_preset(headers)
    assert preset is not None and (preset.key, score) == (key, 1.0)
    converted = []
    for row in rows:
        values, errors = preset.convert(row, region=region)
        assert errors == {}
        converted.append(values)
    return headers, converted


def test_salesforce_contacts_preset() -> None:
    headers, rows = _check("salesforce_contacts.csv", "salesforce_contacts", "US")
    assert _mapped(presets.SALESFORCE_CONTACTS, headers) == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Title": "title",
        "Account Name": "account",
        "Email": "email",
        "Phone": "phone",
        "Mobile": "mobile",
        "Birthdate": "birthday",
        "Contact Owner": "owner",
        "Email Opt Out": "do_not_email",
        "Description": "notes",
    }
    assert rows == [
        {
            "name": "Jane Doe",
            "title": "VP Sales",
            "account": "Acme Corporation",
            "email": "jane.doe@acme.example",
            "phone": "+16502530000",
            "mobile": "+14155550100",
            "birthday": dt.date(1990, 3, 5),
            "owner": "jsmith@example.com",
            "do_not_email": False,
            "notes": ["Met at Dreamforce"],
        },
        {
            "name": "张伟",
            "title": "采购经理",
            "account": "北京字节跳动科技有限公司",
            "email": "zhang.wei@bytedance.example",
            "phone": "+861065529988",
            "mobile": "+8613812345678",
            "birthday": dt.date(1985, 12, 25),
            "owner": "jsmith@example.com",
            "do_not_email": True,
            "notes": ["重要客户；年底采购"],
        },
        {
            "name": "Tom O'Brien",
            "account": "Globex",
            "email": "tom@globex.example",
            "mobile": "+12127363100",
            "owner": "Sarah Connor",
            "do_not_email": False,
        },
    ]


def test_salesforce_leads_preset(sales_registered: None) -> None:
    headers, rows = _check("salesforce_leads.csv", "salesforce_leads", "US")
    assert _mapped(presets.SALESFORCE_LEADS, headers) == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Title": "title",
        "Company": "company",
        "Email": "email",
        "Phone": "phone",
        "Mobile": "mobile",
        "Street": "address",
        "City": "city",
        "State/Province": "province",
        "Country": "country",
        "Website": "website",
        "Lead Source": "source",
        "Lead Status": "status",
        "Description": "description",
        "Lead Owner": "owner",
    }
    assert rows == [
        {
            "name": "Sarah Lee",
            "title": "CTO",
            "company": "Initech",
            "email": "sarah@initech.example",
            "phone": "+12062661000",
            "website": "www.initech.example",
            "address": "500 Oracle Pkwy",
            "city": "Redwood City",
            "province": "CA",
            "country": "USA",
            "source": "Web",
            "status": "new",
            "owner": "owner@example.com",
        },
        {
            "name": "王芳",
            "title": "总经理",
            "company": "上海某某贸易有限公司",
            "email": "wangfang@example.cn",
            "phone": "+862168888888",
            "mobile": "+8613912345678",
            "address": "南京西路1号",
            "city": "上海",
            "province": "上海",
            "country": "中国",
            "source": "Trade Show",
            "status": "contacting",
            "description": ["展会认识"],
            "owner": "owner@example.com",
        },
        {
            "name": "Bob Smith",
            "company": "Umbrella",
            "email": "bob@umbrella.example",
            "status": "unqualified",
            "owner": "owner@example.com",
        },
    ]


def test_hubspot_contacts_preset(sales_registered: None) -> None:
    headers, rows = _check("hubspot_contacts.csv", "hubspot_contacts", "US")
    assert _mapped(presets.HUBSPOT_CONTACTS, headers) == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Phone Number": "phone",
        "Mobile Phone Number": "mobile",
        "Company Name": "company",
        "Job Title": "title",
        "Lifecycle Stage": "status",
        "Lead Status": "status",
        "Contact owner": "owner",
        "City": "city",
        "State/Region": "province",
        "Country/Region": "country",
    }
    # The lead status wins; the lifecycle stage is read when it is empty.
    assert [r["status"] for r in rows] == ["contacting", "qualified", "new"]
    assert rows[1] == {
        "name": "李磊",
        "email": "lilei@example.cn",
        "phone": "+861065529988",
        "mobile": "+8613812345678",
        "company": "深圳市腾讯计算机系统有限公司",
        "title": "产品总监",
        "city": "深圳",
        "province": "广东",
        "country": "中国",
        "status": "qualified",
        "owner": "Jane Smith",
    }
    assert rows[2] == {"name": "Ken Tanaka", "email": "ken@example.jp", "status": "new"}
    assert rows[0]["phone"] == "+14258828080"


def test_google_contacts_preset() -> None:
    headers, rows = _check("google_contacts.csv", "google_contacts", "CN")
    assert _mapped(presets.GOOGLE_CONTACTS, headers) == {
        "First Name": "first_name",
        "Middle Name": "middle_name",
        "Last Name": "last_name",
        "Organization Name": "account",
        "Organization Title": "title",
        "Birthday": "birthday",
        "Notes": "notes",
        "Labels": "tags",
        "E-mail 1 - Value": "email",
        "E-mail 2 - Value": "email",
        "Phone 1 - Value": "phone",
        "Phone 2 - Value": "phone",
    }
    assert rows == [
        {
            "name": "刘小红",
            "account": "阿里巴巴（中国）有限公司",
            "title": "运营专员",
            "birthday": dt.date(1992, 7, 8),
            "tags": ["客户"],  # Google's own "* myContacts" is not a tag
            "email": "liuxiaohong@alibaba-inc.example",
            "emails.other": ["xiaohong@gmail.com"],
            "mobile": "+8613812345678",  # "Mobile" label; the second mobile overflows to other phones
            "phones.other": ["+8613912345678"],
            "phone": "+8657185022088",
        },
        {
            "name": "David Miller",
            "account": "Fabrikam",
            "title": "Engineer",
            "notes": ["Met at PyCon"],
            "email": "david@fabrikam.example",
            "phones.fax": ["+16502530000"],
            "phones.home": ["+12062661000"],
        },
        {"name": "Anna Schmidt", "tags": ["VIP"], "email": "anna@example.de", "phone": "+4930901820"},
    ]


def test_google_contacts_legacy_preset() -> None:
    headers, rows = _check("google_contacts_legacy.csv", "google_contacts_legacy", "CN")
    assert _mapped(presets.GOOGLE_CONTACTS_LEGACY, headers) == {
        "Name": "name",
        "Given Name": "first_name",
        "Additional Name": "middle_name",
        "Family Name": "last_name",
        "Birthday": "birthday",
        "Gender": "gender",
        "Notes": "notes",
        "Group Membership": "tags",
        "E-mail 1 - Value": "email",
        "E-mail 2 - Value": "email",
        "Phone 1 - Value": "phone",
        "Phone 2 - Value": "phone",
        "Organization 1 - Name": "account",
        "Organization 1 - Title": "title",
    }
    assert rows == [
        {
            "name": "陈静",
            "birthday": dt.date(1988, 11, 2),
            "gender": "female",
            "tags": ["供应商"],
            "account": "华为技术有限公司",
            "title": "采购部经理",
            "email": "chenjing@huawei.example",
            "mobile": "+8613800138000",
        },
        {
            "name": "Lucy Brown",
            "gender": "female",
            "notes": ["Old friend"],
            "account": "Wayne Enterprises",
            "email": "lucy.brown@example.com",
            "emails.other": ["lucy@wayne.example"],
            "phone": "+12127363100",
        },
        {
            "name": "Mark Davis",
            "gender": "male",
            "tags": ["Partners"],
            "account": "Stark Industries",
            "title": "CFO",
            "email": "mark@davis.example",
        },
    ]


def test_outlook_contacts_preset() -> None:
    headers, rows = _check("outlook_contacts.csv", "outlook_contacts", "CN")
    assert len(headers) == len(presets.OUTLOOK_CONTACTS.columns)
    assert _mapped(presets.OUTLOOK_CONTACTS, headers) == {
        "First Name": "first_name",
        "Middle Name": "middle_name",
        "Last Name": "last_name",
        "Company": "account",
        "Job Title": "title",
        "Business Fax": "phones.fax",
        "Business Phone": "phone",
        "Business Phone 2": "phones.other",
        "Car Phone": "phones.other",
        "Home Fax": "phones.fax",
        "Home Phone": "phones.home",
        "Home Phone 2": "phones.home",
        "Mobile Phone": "mobile",
        "Other Fax": "phones.fax",
        "Other Phone": "phones.other",
        "Primary Phone": "phones.other",
        "Birthday": "birthday",
        "Categories": "tags",
        "E-mail Address": "email",
        "E-mail 2 Address": "emails.other",
        "E-mail 3 Address": "emails.other",
        "Gender": "gender",
        "Notes": "notes",
    }
    assert rows == [
        {
            "name": "Emily Chen",
            "account": "Northwind Traders",
            "title": "Account Manager",
            "phone": "+14258828080",
            "mobile": "+12062661000",
            "birthday": dt.date(1990, 3, 5),
            "tags": ["Customers", "VIP"],
            "email": "emily.chen@northwind.example",
            "emails.other": ["emily@gmail.com"],
            "notes": ["Prefers e-mail"],
        },
        {
            "name": "赵强",  # "Title" 先生 is the salutation, not the job
            "account": "中国平安保险（集团）股份有限公司",
            "title": "客户经理",
            "phone": "+8675522622888",
            "mobile": "+8618600001234",
            "tags": ["保险", "重要客户"],
            "email": "zhaoqiang@pingan.example",
            "gender": "male",
        },
        {
            "name": "Peter B. Parker",
            "account": "Daily Bugle",
            "title": "Photographer",
            "phones.home": ["+12127363100"],
            "birthday": dt.date(2001, 8, 10),
            "email": "peter.parker@bugle.example",
            "emails.other": ["spidey@example.com"],
            "gender": "male",
        },
    ]


def test_detect_preset_on_partial_and_foreign_headers() -> None:
    # A Salesforce report with only some columns, in another order.
    preset, score = presets.detect_preset(
        ["Email", "Account Name", "Last Name", "First Name", "Mailing City"]
    )
    assert preset is presets.SALESFORCE_CONTACTS and score == 1.0
    # Outlook shares First/Last Name with everyone; its e-mail and phone headers decide.
    preset, score = presets.detect_preset(
        ["First Name", "Last Name", "E-mail Address", "Business Phone", "Extra"]
    )
    assert preset is presets.OUTLOOK_CONTACTS and score == 0.8
    assert presets.detect_preset(["姓名", "手机", "邮箱", "公司"]) == (None, 0.0)
    assert presets.detect_preset(["First Name", "Last Name", "Email", "x1", "x2", "x3", "x4"])[0] is None
    assert presets.detect_preset([]) == (None, 0.0)
    preset, _score = presets.detect_preset(
        ["First Name", "Last Name", "Email", "Company"], target="sales.lead"
    )
    assert preset is presets.SALESFORCE_LEADS


def test_preset_keys_are_unique_and_fields_exist(sales_registered: None) -> None:
    assert len({p.key for p in presets.PRESETS}) == len(presets.PRESETS)
    assert presets.get_preset("outlook_contacts") is presets.OUTLOOK_CONTACTS
    for preset in presets.PRESETS:
        target = get_target(preset.target, custom=False)
        used = {f for f in preset.columns.values() if f} | {r.default for r in preset.routes}
        used |= {f for r in preset.routes for f in (*r.fields.values(), r.overflow) if f}
        assert {f for f in used if target.get(f) is None} == set(), preset.key


@pytest.mark.django_db
def test_presets_round_trip_through_json(sales_registered: None) -> None:
    """A user-saved preset is stored as JSON: every built-in preset survives the trip and reads
    its fixture the same way."""
    import json

    fixtures = {
        "salesforce_contacts": ("salesforce_contacts.csv", "US"),
        "salesforce_leads": ("salesforce_leads.csv", "US"),
        "hubspot_contacts": ("hubspot_contacts.csv", "US"),
        "google_contacts": ("google_contacts.csv", "CN"),
        "google_contacts_legacy": ("google_contacts_legacy.csv", "CN"),
        "outlook_contacts": ("outlook_contacts.csv", "CN"),
    }
    for preset in presets.PRESETS:
        copy = presets.Preset.from_json(json.loads(json.dumps(preset.to_json())))
        assert (copy.key, copy.target, copy.date_order) == (preset.key, preset.target, preset.date_order)
        name, region = fixtures[preset.key]
        _headers, rows = _read(name)
        assert [copy.convert(r, region=region) for r in rows] == [
            preset.convert(r, region=region) for r in rows
        ]


@pytest.mark.django_db
def test_user_preset_from_json_is_checked() -> None:
    data = {
        "name": "我的通讯录",
        "target": "customers.contact",
        "columns": {"姓名": "name", "手机号": "mobile", "单位": "account", "级别": None},
        "values": {"gender": {"先生": "male", "女士": "female"}},
        "date_order": "DMY",
    }
    preset = presets.Preset.from_json(data)
    assert preset.mapping(["姓名", "手机号", "单位", "级别", "其他"]) == {
        "姓名": "name",
        "手机号": "mobile",
        "单位": "account",
        "级别": None,
        "其他": None,
    }
    assert presets.detect_preset(["姓名", "手机号", "单位", "级别"], [preset]) == (preset, 1.0)
    assert preset.convert({"姓名": " 王五 ", "手机号": "13800138000", "单位": "某公司"}) == (
        {"name": "王五", "mobile": "+8613800138000", "account": "某公司"},
        {},
    )
    with pytest.raises(ValueError, match=r"has no fields \['nope'\]"):
        presets.Preset.from_json({**data, "columns": {"A": "nope"}})
    with pytest.raises(ValueError, match="unknown date order"):
        presets.Preset.from_json({**data, "date_order": "DDMM"})


@pytest.mark.django_db
def test_user_preset_with_a_custom_field() -> None:
    from kehu.customfields.models import CustomField
    from kehu.customfields.selectors import forget_definitions

    CustomField.objects.create(model="customers.contact", name="budget", label="预算", type="decimal")
    forget_definitions()
    preset = presets.Preset.from_json(
        {
            "name": "带预算",
            "target": "customers.contact",
            "columns": {"姓名": "name", "预算": "custom.budget"},
        }
    )
    assert preset.convert({"姓名": "王五", "预算": "¥1.5万"}) == (
        {"name": "王五", "custom.budget": Decimal(15000)},
        {},
    )
