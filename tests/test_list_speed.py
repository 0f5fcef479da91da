"""The account list's lean paths (issue 4 speed work, docs/benchmarks.md): the filter panel loads
when opened, a query naming no filter leaves the FilterSet unbound, nested lists of the API are
read without a serializer pass per row, and the query count does not grow with the page."""

from __future__ import annotations

import pytest

from kehu.customers.api.serializers import AddressRowSerializer, EmailSerializer, PhoneSerializer
from kehu.customers.models import AccountAddress, AccountEmail, AccountPhone
from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db
LIST = "/customers/accounts/"
API = "/api/v1/customers/accounts/"


def _accounts(owner, n: int) -> list:
    out = []
    for i in range(n):
        a = AccountFactory.create(owner=owner, level="vip" if i % 2 else "")
        AccountPhone.objects.create(account=a, number=f"+861381234{i:04d}", is_primary=True)
        AccountEmail.objects.create(account=a, email=f"info{i}@example.com", is_primary=True)
        AccountAddress.objects.create(account=a, street=f"长安街{i}号", province="110000", is_primary=True)
        out.append(a)
    return out


def test_filter_panel_loads_when_opened_and_inline_when_filtering(company, client) -> None:
    grant(company.role_rep, "customers.account", "view", scope="own")
    _accounts(company.rep1, 2)
    client.force_login(company.rep1)
    page = client.get(LIST, {"per_page": 25}).content.decode()
    assert 'hx-trigger="show.bs.collapse once"' in page
    assert 'name="level"' not in page  # the filter fields are not rendered with the page
    panel = client.get(LIST, {"per_page": 25}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="kehu-filter-fields")
    assert panel.status_code == 200
    assert 'name="level"' in panel.content.decode()
    assert "<html" not in panel.content.decode()
    filtered = client.get(LIST, {"level": "vip"}).content.decode()
    assert 'name="level"' in filtered  # an active filter shows its panel open, with the fields
    assert 'hx-trigger="show.bs.collapse once"' not in filtered


def test_api_list_without_filters_and_with_filters(company, client) -> None:
    grant(company.role_rep, "customers.account", "view", scope="own")
    mine = _accounts(company.rep1, 4)
    _accounts(company.rep2, 2)
    client.force_login(company.rep1)
    body = client.get(API, {"page_size": 3}).json()
    assert [r["id"] for r in body["results"]] == [a.pk for a in reversed(mine)][:3]
    assert body["next"]
    vip = client.get(API, {"page_size": 10, "level": "vip"}).json()["results"]
    assert sorted(r["id"] for r in vip) == sorted(a.pk for a in mine if a.level == "vip")
    bad = client.get(API, {"created_after": "not a date"})
    assert bad.status_code == 400


def test_nested_lists_read_like_their_serializers(company, client) -> None:
    grant(company.role_rep, "customers.account", "view", scope="own")
    (account,) = _accounts(company.rep1, 1)
    client.force_login(company.rep1)
    (row,) = client.get(API).json()["results"]
    assert row["phones"] == [PhoneSerializer(p).data for p in account.phones.all()]
    assert row["emails"] == [EmailSerializer(e).data for e in account.emails.all()]
    assert row["addresses"] == [AddressRowSerializer(a).data for a in account.addresses.all()]
    assert row["addresses"][0]["region"]  # the region's name, from the property


def test_query_count_does_not_grow_with_the_page(company, client, django_assert_max_num_queries) -> None:
    grant(company.role_rep, "customers.account", "view", scope="own")
    _accounts(company.rep1, 3)
    client.force_login(company.rep1)
    client.get(API)
    client.get(LIST)
    with django_assert_max_num_queries(14) as few:
        client.get(API)
    with django_assert_max_num_queries(20) as few_html:
        client.get(LIST)
    _accounts(company.rep1, 12)
    with django_assert_max_num_queries(len(few)):
        client.get(API)
    with django_assert_max_num_queries(len(few_html)):
        client.get(LIST)


def test_picklist_columns_read_their_items_in_one_query(company, client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    grant(company.role_rep, "customers.account", "view", scope="own")
    AccountFactory.create(owner=company.rep1, level="vip", industry="manufacturing")
    client.force_login(company.rep1)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(LIST).content.decode()
    picklists = [q for q in queries.captured_queries if "customfields_picklistitem" in q["sql"]]
    assert len(picklists) == 1
    assert '<span class="badge bg-red-lt" style="">VIP' in page  # the item's label as a badge


def _reference_rows(user, accounts: list) -> list:
    """What DRF's own ListSerializer + Serializer.to_representation give for these accounts."""
    from rest_framework import serializers
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from kehu.customers.api.serializers import AccountSerializer
    from kehu.customers.models import Account

    request = Request(APIRequestFactory().get(API))
    request.user = user
    rows = list(
        Account.objects.filter(pk__in=[a.pk for a in accounts])
        .prefetch_related("phones", "emails", "addresses")
        .order_by("-id")
    )
    child = AccountSerializer(context={"request": request})
    return serializers.ListSerializer(child=child, instance=rows, context={"request": request}).data


def test_fast_list_serializer_gives_drf_output(company, client) -> None:
    """FastListSerializer (the API list): same rows as DRF's serializer pass, with tags, custom
    fields, a parent, nested lists, masked and hidden fields."""
    from kehu.customfields.models import CustomField
    from kehu.tags.tests.factories import TagFactory, TaggedItemFactory
    from kehu.users.models import FieldPermission

    grant(company.role_rep, "customers.account", "view", scope="own")
    CustomField.objects.create(model="customers.account", name="tax_no", label="税号", type="text")
    CustomField.objects.create(model="customers.account", name="staff", label="人数", type="integer")
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="phone", mode="masked"
    )
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="notes", mode="hidden"
    )
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="custom.staff", mode="hidden"
    )
    accounts = _accounts(company.rep1, 3)
    accounts[0].custom = {"tax_no": "91110000MA01", "staff": 12}
    accounts[0].notes = "secret"
    accounts[0].phone = "+8613812340000"
    accounts[0].parent = accounts[1]
    accounts[0].save()
    TaggedItemFactory.create(tag=TagFactory.create(name="重点"), obj=accounts[0])
    client.force_login(company.rep1)
    rows = client.get(API).json()["results"]
    assert rows == _reference_rows(company.rep1, accounts)
    first = next(r for r in rows if r["id"] == accounts[0].pk)
    assert "notes" not in first and "staff" not in first["custom"]
    assert first["custom"]["tax_no"] == "91110000MA01"
    assert first["phone"] != accounts[0].phone and "*" in first["phone"]
    assert first["phones"][0]["number"] != accounts[0].phones.get().number
    assert [t["name"] for t in first["tags"]] == ["重点"]
    assert first["parent"] == accounts[1].pk and first["owner"] == company.rep1.pk
    client.force_login(company.admin)
    assert client.get(API).json()["results"] == _reference_rows(company.admin, accounts)


def test_kept_list_plan_follows_field_modes_time_zone_and_custom_fields(company, client) -> None:
    """A kept list plan (`list_plan_cacheable`) is per field modes and time zone, and its custom
    fields and tags are read fresh each page: users, zones and definitions taking turns get what
    DRF's own serializer pass gives each time."""
    from django.utils import timezone

    from kehu.core.api import fastlist
    from kehu.customfields.models import CustomField
    from kehu.tags.tests.factories import TagFactory, TaggedItemFactory
    from kehu.users.models import FieldPermission

    grant(company.role_rep, "customers.account", "view", scope="own")
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="email", mode="masked"
    )
    accounts = _accounts(company.rep1, 2)
    accounts[0].email = "boss@example.com"
    accounts[0].save()
    fastlist._PLANS.clear()
    for user, zone in (
        (company.rep1, "Asia/Shanghai"),
        (company.admin, "Asia/Shanghai"),
        (company.rep1, "America/New_York"),
        (company.admin, "America/New_York"),
    ):
        user.time_zone = zone
        user.save(update_fields=["time_zone"])
        client.force_login(user)
        rows = client.get(API).json()["results"]
        with timezone.override(zone):
            assert rows == _reference_rows(user, accounts)
        offset = "+08:00" if zone == "Asia/Shanghai" else "-05:00"
        assert rows[0]["created_at"].endswith(offset) or rows[0]["created_at"].endswith("-04:00")
        masked = next(r for r in rows if r["id"] == accounts[0].pk)["email"]
        assert (masked == "boss@example.com") is (user == company.admin)
    assert len(fastlist._PLANS) == 4  # two field modes × two zones
    # A definition and a tag added after the plan was kept show on the next page.
    CustomField.objects.create(model="customers.account", name="grade", label="等级", type="text")
    TaggedItemFactory.create(tag=TagFactory.create(name="新"), obj=accounts[1])
    rows = client.get(API).json()["results"]
    with timezone.override("America/New_York"):
        assert rows == _reference_rows(company.admin, accounts)
    second = next(r for r in rows if r["id"] == accounts[1].pk)
    assert "grade" in second["custom"] and [t["name"] for t in second["tags"]] == ["新"]


def test_table_rows_are_written_like_the_template(company, client) -> None:
    """The rows of the list table built in Python (Table.rows_html) are the template's rows."""
    from kehu.core import tables

    grant(company.role_rep, "customers.account", "view", "change", "delete", scope="own")
    accounts = _accounts(company.rep1, 3)
    accounts[0].short_name = "<b>简称</b> & co"
    accounts[0].save()
    client.force_login(company.rep1)
    queries = ({}, {"sort": "-name"}, {"sort": "name", "page": "1", "utm": "<x> & y"})
    # twice in each language: the second time from the kept headers (Table.header_html)
    for language, query in [(lang, q) for lang in ("zh-hans", "en") for q in queries * 2]:
        if company.rep1.language != language:
            company.rep1.language = language
            company.rep1.save(update_fields=["language"])
        fast = client.get(LIST, query).content.decode()
        original, original_header = tables.Table.rows_html, tables.Table.header_html
        tables.Table.rows_html = lambda self, rows, bulk: ""  # type: ignore[method-assign,misc,assignment]
        tables.Table.header_html = lambda self, query: ""  # type: ignore[method-assign,misc,assignment]
        try:
            slow = client.get(LIST, query).content.decode()
        finally:
            tables.Table.rows_html = original  # type: ignore[method-assign]
            tables.Table.header_html = original_header  # type: ignore[method-assign]
        import re

        token = re.compile(r"[A-Za-z0-9]{64}")  # the CSRF token differs per response
        assert token.sub("", fast) == token.sub("", slow)
        assert "&lt;b&gt;简称&lt;/b&gt; &amp; co" in fast


def test_custom_field_definitions_are_read_once_per_request(company, client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kehu.customfields.models import CustomField

    grant(company.role_rep, "customers.account", "view", scope="own")
    CustomField.objects.create(model="customers.account", name="tax_no", label="税号", type="text")
    _accounts(company.rep1, 2)
    client.force_login(company.rep1)
    reads = []
    for url in (LIST, API):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        reads += [q for q in queries.captured_queries if 'FROM "customfields_customfield"' in q["sql"]]
    assert len(reads) == 1  # once for both: kept in the process (kehu.core.confcache)
    # A new definition shows in the next request (a write replaces the configuration token).
    CustomField.objects.create(model="customers.account", name="staff", label="人数", type="integer")
    assert "staff" in client.get(API).json()["results"][0]["custom"]


def test_definitions_memo_forgets_them_on_a_write(db) -> None:
    from kehu.core.context import request_memo_scope
    from kehu.customfields.models import CustomField
    from kehu.customfields.selectors import custom_fields_for

    with request_memo_scope():
        assert custom_fields_for("customers.account") == []
        field = CustomField.objects.create(
            model="customers.account", name="tax_no", label="税号", type="text"
        )
        assert [f.name for f in custom_fields_for("customers.account")] == ["tax_no"]
        field.is_active = False
        field.save()
        assert custom_fields_for("customers.account") == []
    # A bulk write (no signal) says so itself.
    from kehu.customfields.selectors import forget_definitions

    CustomField.objects.filter(pk=field.pk).update(is_active=True)
    forget_definitions()
    assert [f.name for f in custom_fields_for("customers.account")] == ["tax_no"]


def test_fast_list_serializer_gives_drf_output_for_contacts(company, client) -> None:
    from rest_framework import serializers
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from kehu.customers.api.serializers import ContactSerializer
    from kehu.customers.models import Contact, ContactPhone
    from kehu.customers.tests.factories import ContactFactory
    from kehu.users.models import FieldPermission

    grant(company.role_rep, "customers.contact", "view", scope="own")
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.contact", field="mobile", mode="masked"
    )
    (account,) = _accounts(company.rep1, 1)
    for i in range(3):
        contact = ContactFactory.create(owner=company.rep1, account=account, mobile=f"+861391234{i:04d}")
        ContactPhone.objects.create(contact=contact, number=f"+861391234{i:04d}", is_primary=True)
    client.force_login(company.rep1)
    rows = client.get("/api/v1/customers/contacts/").json()["results"]
    request = Request(APIRequestFactory().get("/"))
    request.user = company.rep1
    reference = list(
        Contact.objects.filter(owner=company.rep1)
        .prefetch_related("phones", "emails", "account_relations__account")
        .order_by("-id")
    )
    child = ContactSerializer(context={"request": request})
    expected = serializers.ListSerializer(child=child, instance=reference, context={"request": request}).data
    assert rows == expected
    assert rows and all("*" in r["mobile"] for r in rows) and rows[0]["relations"]


def _leads(owner, n: int) -> list:
    from kehu.sales.tests.factories import LeadFactory

    return [
        LeadFactory.create(
            owner=owner, mobile=f"+861371234{i:04d}", source="website" if i % 2 else "", status="new"
        )
        for i in range(n)
    ]


def test_fast_list_serializer_gives_drf_output_for_leads(company, client) -> None:
    """The lead API list (FastListSerializer): DRF's own serializer pass, with tags, custom fields,
    a pooled flag, masked and hidden fields."""
    from rest_framework import serializers
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from kehu.customfields.models import CustomField
    from kehu.sales.api.leads import LeadSerializer
    from kehu.sales.models import Lead
    from kehu.tags.tests.factories import TagFactory, TaggedItemFactory
    from kehu.users.models import FieldPermission

    grant(company.role_rep, "sales.lead", "view", scope="own")
    CustomField.objects.create(model="sales.lead", name="budget", label="预算", type="integer")
    FieldPermission.objects.create(role=company.role_rep, model="sales.lead", field="mobile", mode="masked")
    FieldPermission.objects.create(role=company.role_rep, model="sales.lead", field="wechat", mode="hidden")
    leads = _leads(company.rep1, 3)
    leads[0].custom = {"budget": 5}
    leads[0].save()
    TaggedItemFactory.create(tag=TagFactory.create(name="热"), obj=leads[0])

    def reference(user) -> list:
        request = Request(APIRequestFactory().get("/"))
        request.user = user
        rows = list(
            Lead.objects.filter(pk__in=[x.pk for x in leads]).select_related("pool_item").order_by("-id")
        )
        child = LeadSerializer(context={"request": request})
        return serializers.ListSerializer(child=child, instance=rows, context={"request": request}).data

    client.force_login(company.rep1)
    rows = client.get("/api/v1/sales/leads/").json()["results"]
    assert rows == reference(company.rep1)
    first = next(r for r in rows if r["id"] == leads[0].pk)
    assert "wechat" not in first and "*" in first["mobile"] and first["custom"]["budget"] == 5
    assert [t["name"] for t in first["tags"]] == ["热"] and first["in_pool"] is False
    client.force_login(company.admin)
    assert client.get("/api/v1/sales/leads/").json()["results"] == reference(company.admin)


@pytest.mark.parametrize(
    ("url", "model", "make"),
    [
        ("/sales/leads/", "sales.lead", "leads"),
        ("/sales/opportunities/", "sales.opportunity", "opps"),
        ("/customers/contacts/", "customers.contact", "contacts"),
    ],
)
def test_more_table_rows_are_written_like_the_template(company, client, url, model, make) -> None:
    """Lead, opportunity and contact lists: the rows built in Python are the template's rows."""
    import re

    from kehu.core import tables

    grant(company.role_rep, model, "view", "change", "delete", scope="own")
    if make == "leads":
        records = _leads(company.rep1, 3)
    elif make == "contacts":
        from kehu.customers.tests.factories import ContactFactory

        records = [ContactFactory.create(owner=company.rep1) for _ in range(3)]
    else:
        from kehu.sales.tests.factories import OpportunityFactory

        records = [OpportunityFactory.create(owner=company.rep1) for _ in range(3)]
    records[0].name = "<b>名</b> & co"
    records[0].save()
    client.force_login(company.rep1)
    token = re.compile(r"[A-Za-z0-9]{64}")  # the CSRF token differs per response
    for query in ({}, {"sort": "-name"}, {"sort": "name", "page": "1", "utm": "<x> & y"}):
        fast = client.get(url, query).content.decode()
        original, original_header = tables.Table.rows_html, tables.Table.header_html
        tables.Table.rows_html = lambda self, rows, bulk: ""  # type: ignore[method-assign,misc,assignment]
        tables.Table.header_html = lambda self, query: ""  # type: ignore[method-assign,misc,assignment]
        try:
            slow = client.get(url, query).content.decode()
        finally:
            tables.Table.rows_html = original  # type: ignore[method-assign]
            tables.Table.header_html = original_header  # type: ignore[method-assign]
        assert token.sub("", fast) == token.sub("", slow)
        assert "&lt;b&gt;名&lt;/b&gt; &amp; co" in fast


def test_datetime_converter_writes_like_drf() -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.utils import timezone
    from rest_framework import fields

    from kehu.core.api.fastlist import _datetime_converter

    values = [
        dt.datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=dt.UTC),
        dt.datetime(2026, 7, 1, 12, 0, tzinfo=ZoneInfo("America/New_York")),
        dt.datetime(2026, 7, 1, 12, 0),  # naive
    ]
    for zone in ("UTC", "Asia/Shanghai"):
        with timezone.override(zone):
            for field in (fields.DateTimeField(), fields.DateTimeField(format="%Y-%m-%d %H:%M")):
                convert = _datetime_converter(field)
                assert [convert(v) for v in values] == [field.to_representation(v) for v in values]


def test_detail_urls_without_reverse_are_the_models_own(company) -> None:
    """kehu.core.tables.detail_url builds the URL from one reverse() per model: the same as each
    model's get_absolute_url (whose URL it declares in `detail_url_name`)."""
    from kehu.core.tables import detail_url
    from kehu.customers.tests.factories import ContactFactory
    from kehu.sales.models import Pipeline
    from kehu.sales.tests.factories import LeadFactory, OpportunityFactory
    from kehu.sales.tests.pool_fixtures import PoolFactory

    account = _accounts(company.rep1, 1)[0]
    opportunity = OpportunityFactory.create(owner=company.rep1, account=account)
    records = [
        account,
        opportunity,
        LeadFactory.create(owner=company.rep1),
        Pipeline.objects.get(is_default=True),
        PoolFactory.create(),
        ContactFactory.create(account=account, owner=company.rep1),
    ]
    assert len({type(r) for r in records}) == 6
    for record in records:
        assert type(record).detail_url_name
        assert detail_url(record) == record.get_absolute_url()
        assert str(record.pk) in detail_url(record)
    assert detail_url(company.north) == (
        company.north.get_absolute_url() if hasattr(company.north, "get_absolute_url") else None
    )


def test_nested_rows_plain_order_is_the_models_or_none(db) -> None:
    """The plain statement of a nested list orders as the model's default manager does; a model
    ordered through a relation (the related model's ordering) is left to the ORM."""
    from django.db import connection

    from kehu.core.api.fastlist import _plain_order
    from kehu.service.models import QueueMember

    qn = connection.ops.quote_name
    assert _plain_order(AccountPhone, connection) == f" ORDER BY {qn('is_primary')} DESC, {qn('id')} ASC"
    assert _plain_order(QueueMember, connection) is None
