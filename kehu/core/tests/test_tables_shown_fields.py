"""Lists that load only what their shown columns read (`Table.load_only_shown`): with every column
shown, a page of four records makes as many queries as a page of one (no column reads a field the
query left out), and the query leaves out what no shown column reads."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver
from django.utils import timezone

from kehu.core.services import user_preference_set
from kehu.core.tables import Column, Table, get_table
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.customfields.tests.factories import CustomFieldFactory
from kehu.sales.tests.factories import LeadFactory, OpportunityFactory
from kehu.service.tests.factories import QueueFactory, TicketFactory

pytestmark = pytest.mark.django_db

_ids = itertools.count(1)


def _account(user: Any) -> Any:
    return AccountFactory.create(
        owner=user,
        short_name="简称",
        kind="company",
        phone="13800138000",
        email="a@example.cn",
        address="北京市朝阳区",
        province="110000",
        city="110100",
        wechat="wx1",
        external_id=f"EXT-{next(_ids)}",
        level="vip",
        last_activity_at=timezone.now(),
        custom={"shown_custom": "自定义值"},
    )


def _contact(user: Any) -> Any:
    return ContactFactory.create(
        owner=user,
        account=AccountFactory.create(owner=user),
        title="经理",
        mobile="13900139000",
        phone="01088886666",
        email="c@example.cn",
        wechat="wx2",
        birthday=dt.date(1990, 1, 2),
        custom={"shown_custom": "自定义值"},
    )


def _lead(user: Any) -> Any:
    return LeadFactory.create(
        owner=user,
        title="采购",
        mobile="13700137000",
        email="l@example.cn",
        wechat="wx3",
        province="310000",
        external_id=f"L-{next(_ids)}",
        last_activity_at=timezone.now(),
        custom={"shown_custom": "自定义值"},
    )


def _opportunity(user: Any) -> Any:
    return OpportunityFactory.create(
        owner=user,
        amount=Decimal("1234.50"),
        currency="CNY",
        next_step="报价",
        external_id=f"O-{next(_ids)}",
        expected_close_date=dt.date.today(),
        custom={"shown_custom": "自定义值"},
    )


def _ticket(user: Any) -> Any:
    now = timezone.now()
    return TicketFactory.create(
        assignee=user,
        account=AccountFactory.create(owner=user),
        queue=QueueFactory.create(),
        requester_name="客户甲",
        requester_email="t@example.cn",
        sla_next_check=now + dt.timedelta(hours=3),
        resolution_due=now + dt.timedelta(hours=3),
        custom={"shown_custom": "自定义值"},
    )


CASES: dict[str, tuple[str, str, Callable[[Any], Any]]] = {
    "accounts": ("customers.account", "/customers/accounts/", _account),
    "contacts": ("customers.contact", "/customers/contacts/", _contact),
    "leads": ("sales.lead", "/sales/leads/", _lead),
    "opportunities": ("sales.opportunity", "/sales/opportunities/", _opportunity),
    "tickets": ("service.ticket", "/service/tickets/", _ticket),
}


def _all_columns(user: Any, key: str) -> list[str]:
    get_resolver().url_patterns  # noqa: B018 -- the views import (and so register) their tables
    table_class = get_table(key)
    assert table_class is not None and table_class.load_only_shown
    names = [c.name for c in table_class.all_columns()]
    user_preference_set(user=user, key=f"table:{key}", value={"columns": names})
    return names


def _page(client: Any, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx), response.content.decode()


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_column_shown_and_no_query_per_row(name: str, company: Any, client: Any) -> None:
    key, url, make = CASES[name]
    CustomFieldFactory.create(model=key, name="shown_custom", show_in_list=True)
    user = company.admin
    columns = _all_columns(user, key)
    client.force_login(user)
    first = make(user)
    client.get(url)  # warm: configuration read once per process
    one, body = _page(client, url)
    assert re.findall(r'<tr data-pk="(\d+)"', body) == [str(first.pk)]
    assert f'data-columns="{",".join(columns)}"' in body  # every column is shown
    assert "自定义值" in body
    for _ in range(3):
        make(user)
    client.get(url)  # warm again: new queues, statuses and the like replace the configuration
    four, body = _page(client, url)
    assert len(re.findall(r'<tr data-pk="(\d+)"', body)) == 4
    assert four == one


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_column_shown_alone_and_no_query_per_row(name: str, company: Any, client: Any) -> None:
    """Relations are joined only for the shown columns that read them (`Table.joined`): each
    column shown on its own still costs no query per row (a column reading a relation it does not
    declare would)."""
    key, url, make = CASES[name]
    CustomFieldFactory.create(model=key, name="shown_custom", show_in_list=True)
    user = company.admin
    columns = _all_columns(user, key)
    client.force_login(user)
    make(user)
    client.get(url)  # warm: configuration read once per process
    counts = {}
    for column in columns:
        user_preference_set(user=user, key=f"table:{key}", value={"columns": [column]})
        client.get(url)  # warm: what a column reads once per process (its picklist's items)
        counts[column] = _page(client, url)[0]
    for _ in range(3):
        make(user)
    client.get(url)
    for column in columns:
        user_preference_set(user=user, key=f"table:{key}", value={"columns": [column]})
        client.get(url)
        four, body = _page(client, url)
        assert len(re.findall(r'<tr data-pk="(\d+)"', body)) == 4
        assert (column, four) == (column, counts[column])


def test_a_hidden_relation_column_costs_no_join(company: Any, client: Any) -> None:
    user = company.admin
    _account(user)
    client.force_login(user)
    for columns, joined in ((["name", "owner"], False), (["name", "department"], True)):
        user_preference_set(user=user, key="table:customers.account", value={"columns": columns})
        client.get("/customers/accounts/")
        with CaptureQueriesContext(connection) as ctx:
            client.get("/customers/accounts/")
        (listing,) = [q["sql"] for q in ctx.captured_queries if 'FROM "customers_account"' in q["sql"]]
        assert ('JOIN "users_department"' in listing) is joined
        assert ('JOIN "users_user"' in listing) is not joined


def test_the_query_reads_the_shown_columns_only(company: Any, client: Any) -> None:
    user = company.admin
    ticket = _ticket(user)
    client.force_login(user)
    user_preference_set(user=user, key="table:service.ticket", value={"columns": ["number", "subject"]})
    client.get("/service/tickets/")
    with CaptureQueriesContext(connection) as ctx:
        body = client.get("/service/tickets/").content.decode()
    assert ticket.subject in body
    (listing,) = [q["sql"] for q in ctx.captured_queries if 'FROM "service_ticket"' in q["sql"]]
    assert '"service_ticket"."subject"' in listing
    assert '"service_ticket"."requester_email"' not in listing
    assert '"service_ticket"."description"' not in listing
    user_preference_set(
        user=user, key="table:service.ticket", value={"columns": ["number", "subject", "requester_email"]}
    )
    with CaptureQueriesContext(connection) as ctx:
        body = client.get("/service/tickets/").content.decode()
    assert "t@example.cn" in body
    (listing,) = [q["sql"] for q in ctx.captured_queries if 'FROM "service_ticket"' in q["sql"]]
    assert '"service_ticket"."requester_email"' in listing


class _Computed(Column):
    def value(self, record: Any) -> Any:  # reads who knows what of the record
        return record.name.upper()


def test_a_column_that_does_not_say_what_it_reads_loads_the_whole_record(company: Any) -> None:
    from kehu.customers.models import Account

    class Plain(Table):
        model = Account
        key = "test.shown-fields-plain"
        load_only_shown = True
        columns = [Column("name", "Name"), Column("phone", "Phone")]

    class Unknown(Plain):
        key = "test.shown-fields-unknown"
        columns = [Column("name", "Name"), _Computed("shout", "Shout")]

    class Declared(Plain):
        key = "test.shown-fields-declared"
        columns = [Column("name", "Name"), _Computed("shout", "Shout", reads=("name",))]

    assert Plain(user=company.admin).shown_fields() == ["id", "name", "phone"]
    assert Unknown(user=company.admin).shown_fields() is None
    assert Declared(user=company.admin).shown_fields() == ["id", "name"]
    AccountFactory.create(owner=company.admin, name="acme", phone="13800138000")
    unknown = Unknown(user=company.admin)
    (record,) = unknown.prepare(Account.objects.all())
    assert not record.get_deferred_fields()
    plain = Plain(user=company.admin)
    (record,) = plain.prepare(Account.objects.all())
    assert "email" in record.get_deferred_fields() and "name" not in record.get_deferred_fields()
