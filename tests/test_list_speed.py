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
