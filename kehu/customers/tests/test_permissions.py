"""The permission matrix of accounts and contacts: every view and API operation as anonymous,
no permission, own, department, department and below, and all."""

from __future__ import annotations

import pytest

from kehu.core.choices import Action
from kehu.core.testing import SCENARIOS, Endpoint, PermissionMatrix, crud_endpoints
from kehu.users.tests.factories import grant

from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

ACCOUNTS = "/customers/accounts/"
API_ACCOUNTS = "/api/v1/customers/accounts/"
CONTACTS = "/customers/contacts/"
API_CONTACTS = "/api/v1/customers/contacts/"


def _account_endpoints() -> list[Endpoint]:
    return crud_endpoints(
        ACCOUNTS,
        API_ACCOUNTS,
        views=[
            Endpoint("html history tab", "get", lambda o: f"{ACCOUNTS}{o.pk}/?tab=history", Action.VIEW),
        ],
        # Each scenario creates the same record again: confirm the collision warning.
        create=lambda o: {
            "kind": "company",
            "name": "新客户",
            "phone": "13800138000",
            "is_active": "on",
            "confirm_collisions": "on",
        },
        edit=lambda o: {
            "kind": "company",
            "name": "改名",
            "is_active": "on",
            "version": o.version,
            "confirm_collisions": "on",
        },
        api_create=lambda o: {"name": "API 客户", "email": "Buyer@Example.com", "confirm_collisions": True},
        api_update=lambda o: {"short_name": "改", "version": o.version},
        api_actions=[
            Endpoint(
                "api replace",
                "put",
                lambda o: f"{API_ACCOUNTS}{o.pk}/",
                Action.CHANGE,
                api=True,
                data=lambda o: {"name": "整体替换", "kind": "person"},
                writes=True,
            ),
        ],
    )


def test_account_permission_matrix(company, client) -> None:
    PermissionMatrix(
        model="customers.account",
        make=lambda owner: AccountFactory.create(owner=owner),
        endpoints=_account_endpoints(),
        actions=(Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE),
        grant=grant,
    ).run(company, client)


def _contact_endpoints() -> list[Endpoint]:
    return crud_endpoints(
        CONTACTS,
        API_CONTACTS,
        add_form_url=lambda o: f"{CONTACTS}add/?account={o.account_id}",
        create=lambda o: {"account": o.account_id, "name": "王芳", "mobile": "139 0000 1111"},
        edit=lambda o: {"account": o.account_id, "name": "改名", "version": o.version},
        edit_htmx=False,
        delete_htmx=True,
        api_create=lambda o: {
            "account": o.account_id,
            "name": "李雷",
            "email": "Li.Lei@Example.com",
            "confirm_collisions": True,
        },
        api_update=lambda o: {"title": "采购经理"},
    )


def test_contact_permission_matrix(company, client) -> None:
    PermissionMatrix(
        model="customers.contact",
        make=lambda owner: ContactFactory.create(owner=owner),
        endpoints=_contact_endpoints(),
        extra_grants={"customers.account": ["view"]},
        grant=grant,
    ).run(company, client)


def test_the_matrix_reports_a_leak_and_a_refused_write_that_changed_data(company, client) -> None:
    """The helper itself: an "object" endpoint that answers 200 for records outside the scope (here
    the list URL, whatever the record) is reported, as is a write outside scope that changed data."""

    def leaky_write(record):
        # Simulates a view that writes before checking the scope.
        type(record).objects.filter(pk=record.pk).update(name="leaked")
        return f"{ACCOUNTS}{record.pk}/"

    matrix = PermissionMatrix(
        model="customers.account",
        make=lambda owner: AccountFactory.create(owner=owner),
        endpoints=[
            Endpoint("leaky detail", "get", lambda o: ACCOUNTS, Action.VIEW),
            Endpoint("leaky write", "get", leaky_write, Action.CHANGE, writes=True),
        ],
        grant=grant,
        scenarios=tuple(s for s in SCENARIOS if s.name == "own"),
    )
    with pytest.raises(AssertionError) as exc:
        matrix.run(company, client)
    report = str(exc.value)
    assert "[own] leaky detail (GET) on rep2's record: expected a refusal (404 / login), got 200" in report
    assert "[own] leaky write (GET) on rep2's record: a refused call changed data" in report
