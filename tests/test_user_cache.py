"""Per-request reads kept across requests (kehu.core.confcache.user_cached and the sidebar cache):
the unread notification count, list preferences, saved views, pool membership and the sidebar are
read once, and every change is seen by the next request."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.core import confcache
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db
ACCOUNTS = "/customers/accounts/"


def _badge(client: Any) -> int:
    response = client.get(ACCOUNTS)
    assert response.status_code == 200
    found = re.search(r'id="kehu-bell-badge" data-unread="(\d+)"', response.content.decode())
    assert found is not None
    return int(found.group(1))


def _sql(queries: Any, table: str) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]


@pytest.fixture
def rep(company: Any, client: Any) -> Any:
    grant(company.role_rep, "customers.account", "view", "add", scope="own")
    client.force_login(company.rep1)
    return company.rep1


def test_the_unread_count_is_kept_until_a_notification_changes(company, client, rep) -> None:
    from kehu.notifications import services

    assert _badge(client) == 0
    with CaptureQueriesContext(connection) as queries:
        assert _badge(client) == 0
    assert not _sql(queries, "notifications_notification")  # kept

    services.notify(recipients=[rep, company.rep2], title="Account assigned", kind="account.assigned")
    assert _badge(client) == 2 - 1  # rep1's one
    services.notify(recipients=[rep], title="Task due", kind="account.assigned")
    assert _badge(client) == 2
    ids = list(rep.notifications.values_list("pk", flat=True)[:1])
    services.notification_mark_read(user=rep, ids=ids)
    assert _badge(client) == 1
    services.notification_mark_all_read(user=rep)
    assert _badge(client) == 0
    # another user's notification does not touch rep1's count, and theirs is right too
    client.force_login(company.rep2)
    grant(company.role_rep, "customers.account", "view", scope="own")
    assert _badge(client) == 1


def test_a_notification_written_directly_is_seen_too(company, client, rep) -> None:
    from kehu.notifications.models import Notification

    assert _badge(client) == 0
    n = Notification.objects.create(recipient=rep, title="直接写入", kind="x")  # post_save
    assert _badge(client) == 1
    n.delete()  # post_delete
    assert _badge(client) == 0


def test_list_preferences_and_saved_views_are_kept_until_they_change(company, client, rep) -> None:
    from kehu.core.savedviews import savedview_create
    from kehu.core.services import user_preference_set

    client.get(ACCOUNTS)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(ACCOUNTS).status_code == 200
    assert not _sql(queries, "core_userpreference")
    assert not _sql(queries, "core_savedview")

    user_preference_set(user=rep, key="table:customers.account", value={"per_page": 50})
    assert 'data-per-page="50"' in client.get(ACCOUNTS).content.decode()
    # a view another user shares shows in rep1's menu at the next request
    grant(company.role_manager, "customers.account", "view", scope="all")
    grant(company.role_manager, "core.savedview", "add", scope="all")
    savedview_create(by=company.manager1, table="customers.account", name="全部重点客户", shared=True)
    assert "全部重点客户" in client.get(ACCOUNTS).content.decode()
    own = savedview_create(by=rep, table="customers.account", name="我的客户视图")
    assert "我的客户视图" in client.get(ACCOUNTS).content.decode()
    own.delete()
    assert "我的客户视图" not in client.get(ACCOUNTS).content.decode()


def test_pool_membership_is_kept_until_a_pool_or_its_members_change(company, client) -> None:
    from kehu.sales.services.pools import pool_put
    from kehu.sales.tests.pool_fixtures import PoolFactory, make_lead

    grant(company.role_rep, "sales.lead", "view", scope="own")
    pool = PoolFactory.create(name="华北线索池")
    lead = make_lead(name="公海里的线索")
    pool_put(pool=pool, records=[lead], by=company.admin)
    client.force_login(company.rep1)
    api = "/api/v1/sales/leads/"

    def names() -> set[str]:
        response = client.get(api)
        assert response.status_code == 200
        return {row["name"] for row in response.json()["results"]}

    assert names() == set()
    pool.member_users.add(company.rep1)  # m2m_changed replaces the configuration token
    assert names() == {"公海里的线索"}
    with CaptureQueriesContext(connection) as queries:
        assert names() == {"公海里的线索"}
    assert not [q for q in _sql(queries, "sales_pool") if "member_users" in q]  # kept
    pool.is_active = False
    pool.save()
    assert names() == set()
    pool.is_active = True
    pool.save()
    pool.member_users.remove(company.rep1)
    pool.member_departments.add(company.north)
    assert names() == {"公海里的线索"}


def test_the_sidebar_marks_the_current_page_and_follows_grants(company, client, rep) -> None:
    page = client.get(ACCOUNTS).content.decode()
    assert f'<a class="nav-link active" href="{ACCOUNTS}"' in page
    assert page.count("nav-link active") == 1
    assert 'href="/sales/leads/"' not in page
    grant(company.role_rep, "sales.lead", "view", scope="own")
    page = client.get(ACCOUNTS).content.decode()
    assert 'href="/sales/leads/"' in page
    # another page: the same cached menu, another entry marked
    page = client.get("/sales/leads/").content.decode()
    assert '<a class="nav-link active" href="/sales/leads/"' in page
    assert f'<a class="nav-link" href="{ACCOUNTS}"' in page


def test_the_user_token_of_another_process_is_seen(company, client, rep) -> None:
    """A bump made elsewhere (another worker) changes the token read with the roles."""
    from kehu.core.models import Sequence

    assert _badge(client) == 0
    from kehu.notifications.models import Notification

    Notification.objects.bulk_create([Notification(recipient=rep, title="批量", kind="x")])  # no signal
    assert _badge(client) == 0  # kept: nothing told the cache
    Sequence.objects.update_or_create(key=confcache.USER_KEY.format(rep.pk), defaults={"last_value": 12345})
    assert _badge(client) == 1
