"""The account 360° page (客户全景) for an account with 200 contacts and 2,000 timeline entries:
the overview (key facts, cards, recent activity), the contacts tab and the timeline's first page,
beside the plain account detail page of an ordinary account measured in the same run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from bench.harness import Comparison, Context, Target, benchmark, measure

NAME = "bench 360° account"
CONTACTS = 200
ENTRIES = 2000


def _client(user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def _get(client: Any, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}; the benchmark needs 200")
    return response


def big_account(owner: Any) -> Any:
    """The rep's 360° account (made once per dataset): 200 contacts, 1,000 timeline events and 1,000
    field changes of its contacts."""
    from django.utils import timezone

    from kehu.audit import registry
    from kehu.audit.models import ObjectChange, TimelineEvent
    from kehu.customers.models import Account, Contact
    from kehu.search.services import search_reindex

    account = Account.objects.filter(owner=owner, name=NAME).first()
    if account is not None:
        return account
    with registry.paused():
        account = Account.objects.create(
            name=NAME,
            owner=owner,
            department_id=owner.department_id,
            created_by=owner,
            phone="+8613800138000",
        )
        Contact.objects.bulk_create(
            Contact(
                account=account,
                name=f"联系人{i:03d}",
                owner=owner,
                department_id=owner.department_id,
                created_by=owner,
                mobile=f"+86139{i:08d}",
                is_primary=i == 0,
            )
            for i in range(CONTACTS)
        )
    ids = list(Contact.objects.filter(account=account).values_list("pk", flat=True))
    # Bulk writes fire no signals: index the records like any writer without them (the search
    # suite samples the rep's own contacts, these included).
    search_reindex(model="customers.contact", ids=ids)
    search_reindex(model="customers.account", ids=[account.pk])
    now = timezone.now()
    TimelineEvent.objects.bulk_create(
        TimelineEvent(
            event="interaction.logged" if i % 2 else "task.completed",
            model="customers.account",
            object_id=account.pk,
            account_id=account.pk,
            occurred_at=now - dt.timedelta(hours=i),
            data={"title": f"第{i}次跟进", "body": "客户确认了下一步计划。"},
            actor_name=str(owner),
        )
        for i in range(ENTRIES // 2)
    )
    ObjectChange.objects.bulk_create(
        ObjectChange(
            time=now - dt.timedelta(hours=i, minutes=30),
            model="customers.contact",
            object_id=ids[i % len(ids)],
            object_repr=f"联系人{i % len(ids):03d}",
            action="update",
            changes={"title": ["", f"职务{i}"]},
            parent_model="customers.account",
            parent_id=account.pk,
            user_name=str(owner),
        )
        for i in range(ENTRIES // 2)
    )
    return account


def _getter(client: Any, url: str) -> Any:
    return lambda i: _get(client, url)


def _count_queries(client: Any, url: str) -> int:
    from django.db import connection

    seen: list[str] = []

    def count(execute: Any, sql: str, *args: Any) -> Any:
        seen.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(count):
        _get(client, url)
    return len(seen)


@benchmark(
    "accounts.360",
    "account 360° page (200 contacts, 2,000 timeline entries) vs an ordinary account's detail page",
    requires=("customers.Account", "audit.TimelineEvent", "url:customers:account_list"),
)
def account_360(ctx: Context) -> Iterable[Comparison]:
    from django.urls import reverse

    from kehu.customers.models import Account

    rep = ctx.users["rep"]
    account = big_account(rep)
    plain = Account.objects.filter(owner=rep).exclude(pk=account.pk).order_by("pk").first() or account
    client = _client(rep)
    page = reverse("customers:account_detail", args=[account.pk])
    timeline = reverse("audit:record_timeline", args=["customers.account", account.pk])
    target = Target("360° page p95 < 100 ms", lambda c: c.subject.p95 * 1000 < 100)
    reference = measure(
        "ordinary account, overview",
        lambda i: _get(client, reverse("customers:account_detail", args=[plain.pk])),
        repeat=ctx.repeat,
        warmup=ctx.warmup,
    )
    for label, url in (
        ("overview", page),
        ("contacts tab", f"{page}?tab=contacts"),
        ("timeline, first page", timeline),
    ):
        queries = _count_queries(client, url)
        stats = measure(f"360° {label}", _getter(client, url), repeat=ctx.repeat, warmup=ctx.warmup)
        yield Comparison(
            f"account 360°: {label} ({queries} queries)",
            stats,
            [reference],
            note="Django test client: full middleware, session and user lookup on every request",
            targets=[target],
        )
