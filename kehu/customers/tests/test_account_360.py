"""The account 360° page (客户全景) and the contact page: header facts, tabs, contacts with roles,
related accounts, the detail-page registries other apps fill, and a bounded number of queries
however many contacts and timeline entries an account has."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.audit import registry
from kehu.audit.models import ObjectChange, TimelineEvent
from kehu.core import generic
from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant

from ..models import Account, AccountContactRelation, AccountPhone, Contact
from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def _page(client: Any, account: Account, tab: str = "overview", **params: Any) -> str:
    response = client.get(f"/customers/accounts/{account.pk}/", {"tab": tab, **params})
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_header_facts_and_overview(company: Any, client: Any) -> None:
    account = AccountFactory.create(owner=company.rep1, name="星河科技", completeness=65)
    Account.objects.filter(pk=account.pk).update(
        lifecycle_stage="active",
        lifecycle_changed_at=timezone.now() - dt.timedelta(days=3),
        last_activity_at=timezone.now() - dt.timedelta(days=45),
    )
    AccountPhone.objects.create(account=account, number="+8613812345678", is_primary=True)
    ContactFactory.create(owner=company.rep1, account=account, name="李主管", is_primary=True)
    client.force_login(company.admin)
    html = _page(client, account)
    assert 'data-fact="last_contact"' in html and "kehu-no-contact" in html  # 45 days: warning
    assert 'data-stage="active"' in html and "65%" in html
    assert "李主管" in html  # the primary contact card
    assert "+86 138 1234 5678" in html or "+8613812345678" in html
    Account.objects.filter(pk=account.pk).update(last_activity_at=timezone.now() - dt.timedelta(days=2))
    assert "kehu-no-contact" not in _page(client, account)


def test_masked_phone_rows_on_the_overview(company: Any, client: Any) -> None:
    FieldPermission = apps.get_model("users", "FieldPermission")
    grant(company.role_rep, "customers.account", Action.VIEW, scope=Scope.ALL)
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="phone", mode="masked"
    )
    FieldPermission.objects.create(
        role=company.role_rep, model="customers.account", field="email", mode="hidden"
    )
    account = AccountFactory.create(owner=company.rep2, phone="13812345678", email="boss@example.com")
    AccountPhone.objects.create(account=account, number="+8613912345678")
    client.force_login(company.rep1)
    html = _page(client, account)
    assert "13912345678" not in html and "139****5678" in html
    assert "13812345678" not in html
    assert "boss@example.com" not in html


def test_contacts_tab_lists_related_contacts_with_roles_and_pages(company: Any, client: Any) -> None:
    account = AccountFactory.create(owner=company.admin)
    elsewhere = ContactFactory.create(owner=company.admin, name="外部顾问")
    AccountContactRelation.objects.create(account=account, contact=elsewhere, role="决策人")
    with registry.paused():
        for i in range(30):
            ContactFactory.create(owner=company.admin, account=account, name=f"员工{i:02d}")
    client.force_login(company.admin)
    first = _page(client, account, "contacts")
    assert first.count('<tr data-pk="') == 25
    assert 'data-page="next"' in first
    second = _page(client, account, "contacts", page=2)
    assert second.count('<tr data-pk="') == 6
    assert "外部顾问" in second and "决策人" in second  # related from another account, with its role here
    assert "外部顾问" not in first


def test_related_tab_parent_and_children(company: Any, client: Any) -> None:
    grant(company.role_rep, "customers.account", Action.VIEW, scope=Scope.OWN)
    group = AccountFactory.create(owner=company.rep2, name="集团总部")
    account = AccountFactory.create(owner=company.rep1, name="华北分公司", parent=group)
    AccountFactory.create(owner=company.rep1, name="北京办事处", parent=account)
    AccountFactory.create(owner=company.rep2, name="天津办事处", parent=account)
    client.force_login(company.rep1)
    html = _page(client, account, "related")
    assert "北京办事处" in html and "天津办事处" not in html  # children: only visible ones
    assert "集团总部" in html and f'href="{group.get_absolute_url()}"' not in html  # parent outside scope
    client.force_login(company.admin)
    assert f'href="{group.get_absolute_url()}"' in _page(client, account, "related")


def test_contact_page_accounts_with_roles(company: Any, client: Any) -> None:
    contact = ContactFactory.create(owner=company.admin, name="王经理")
    other = AccountFactory.create(owner=company.admin, name="合作伙伴")
    AccountContactRelation.objects.create(account=other, contact=contact, role="采购")
    client.force_login(company.admin)
    html = client.get(f"/customers/contacts/{contact.pk}/", {"tab": "accounts"}).content.decode()
    assert "合作伙伴" in html and "采购" in html and str(contact.account) in html
    for tab in ("overview", "timeline", "history"):
        assert client.get(f"/customers/contacts/{contact.pk}/", {"tab": tab}).status_code == 200


def test_registered_facts_panels_and_actions(company: Any, client: Any) -> None:
    label = "customers.account"
    calls: list[str] = []

    def deals(request: Any, account: Account) -> int:
        calls.append("fact")
        return 7

    generic.register_fact(
        label, generic.Fact("open_deals", "Open deals", value=deals, url="/deals/?a=1", order=5)
    )
    generic.register_fact(label, generic.Fact("hidden", "Hidden fact", value=lambda r, o: None))
    generic.register_panel(
        label,
        generic.Panel(
            "stage_card",
            "Stage card",
            "customers/_lifecycle_badge.html",
            context=lambda r, o: {"stage": "mature", "label": "Panel says mature"},
            order=1,
        ),
    )
    generic.register_panel(
        label,
        generic.Panel(
            "related_card",
            "Related card",
            "customers/_lifecycle_badge.html",
            tab="related",
            context=lambda r, o: {"stage": "new", "label": "On related"},
        ),
    )
    generic.register_panel(
        label,
        generic.Panel("never", "NeverShown", "customers/_lifecycle_badge.html", visible=lambda r, o: False),
    )
    generic.register_action(
        label,
        generic.ObjectAction(
            "log", "Log interaction", url=lambda r, o: f"/log/?account={o.pk}", icon="phone"
        ),
    )
    generic.register_action(label, generic.ObjectAction("nope", "No button", url=lambda r, o: None))
    try:
        account = AccountFactory.create(owner=company.admin)
        client.force_login(company.admin)
        html = _page(client, account)
        assert 'data-fact="open_deals"' in html and 'href="/deals/?a=1">7</a>' in html
        assert "Hidden fact" not in html
        assert 'data-panel="stage_card"' in html and "Panel says mature" in html
        assert "On related" not in html and "NeverShown" not in html
        assert f'href="/log/?account={account.pk}"' in html and "No button" not in html
        related = client.get(
            f"/customers/accounts/{account.pk}/?tab=related",
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="object-tab",
        )
        assert "On related" in related.content.decode() and "Open deals" not in related.content.decode()
        assert calls == ["fact"]  # facts only on full pages
    finally:
        for key in ("open_deals", "hidden"):
            generic.unregister_fact(label, key)
        for key in ("stage_card", "related_card", "never"):
            generic.unregister_panel(label, key)
        for key in ("log", "nope"):
            generic.unregister_action(label, key)
    assert generic.registered_facts(label) == [] or all(
        f.key not in ("open_deals", "hidden") for f in generic.registered_facts(label)
    )


def _bulk_account(owner: Any, contacts: int, entries: int) -> Account:
    """An account with `contacts` contacts (a few of them related from another account, with a
    role) and `entries` timeline entries (half events, half field changes)."""
    with registry.paused():
        account = AccountFactory.create(owner=owner, phone="13800138000")
        AccountPhone.objects.create(account=account, number="+8613800138000", is_primary=True)
        Contact.objects.bulk_create(
            [
                Contact(
                    account=account,
                    name=f"联系人{i}",
                    owner=owner,
                    department_id=owner.department_id,
                    mobile=f"+86139{i:08d}",
                    is_primary=i == 0,
                )
                for i in range(contacts)
            ]
        )
        other = AccountFactory.create(owner=owner)
        outside = Contact.objects.create(
            account=other, name="顾问", owner=owner, department_id=owner.department_id
        )
        AccountContactRelation.objects.create(account=account, contact=outside, role="决策人")
    now = timezone.now()
    ids = list(Contact.objects.filter(account=account).values_list("pk", flat=True))
    TimelineEvent.objects.bulk_create(
        [
            TimelineEvent(
                event="interaction.logged" if i % 2 else "task.completed",
                model="customers.account",
                object_id=account.pk,
                account_id=account.pk,
                occurred_at=now - dt.timedelta(minutes=i),
                data={"title": f"第{i}次", "body": "内容"},
                actor_name="rep",
            )
            for i in range(entries // 2)
        ]
    )
    ObjectChange.objects.bulk_create(
        [
            ObjectChange(
                time=now - dt.timedelta(minutes=i, seconds=30),
                model="customers.contact",
                object_id=ids[i % len(ids)],
                object_repr=f"联系人{i % len(ids)}",
                action="update",
                changes={"title": ["", f"职务{i}"]},
                parent_model="customers.account",
                parent_id=account.pk,
            )
            for i in range(entries // 2)
        ]
    )
    return account


@pytest.mark.parametrize("tab", ["overview", "contacts", "timeline", "related", "history"])
def test_query_count_does_not_grow_with_contacts_and_entries(
    company: Any, client: Any, tab: str, django_assert_max_num_queries: Any
) -> None:
    grant(company.role_manager, "customers.account", Action.VIEW, scope=Scope.DEPARTMENT)
    grant(company.role_manager, "customers.contact", Action.VIEW, scope=Scope.DEPARTMENT)
    small = _bulk_account(company.rep1, contacts=2, entries=4)
    big = _bulk_account(company.rep1, contacts=200, entries=2000)
    client.force_login(company.manager1)
    counts = []
    for account in (small, big):
        _page(client, account, tab)  # warm caches (templates, grants)
        with CaptureQueriesContext(connection) as ctx:
            _page(client, account, tab)
            if tab == "timeline":
                response = client.get(f"/audit/timeline/customers.account/{account.pk}/")
                assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    # (the big account's first contacts page has no role to label: one query less)
    assert counts[1] <= counts[0] <= counts[1] + 1, counts
    with django_assert_max_num_queries(30):
        _page(client, big, tab)
        if tab == "timeline":
            client.get(f"/audit/timeline/customers.account/{big.pk}/")
