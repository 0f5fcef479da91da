"""The permission matrix of accounts and contacts: every view and API operation as anonymous,
no permission, own, department, department and below, and all."""

from __future__ import annotations

import pytest

from kehu.core.choices import Action
from kehu.core.testing import SCENARIOS, Endpoint, PermissionMatrix
from kehu.users.tests.factories import grant

from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

ACCOUNTS = "/customers/accounts/"
API_ACCOUNTS = "/api/v1/customers/accounts/"
CONTACTS = "/customers/contacts/"
API_CONTACTS = "/api/v1/customers/contacts/"


def _account_endpoints() -> list[Endpoint]:
    return [
        Endpoint("html list", "get", lambda o: ACCOUNTS, Action.VIEW, on="list"),
        Endpoint("html detail", "get", lambda o: f"{ACCOUNTS}{o.pk}/", Action.VIEW),
        Endpoint("html history tab", "get", lambda o: f"{ACCOUNTS}{o.pk}/?tab=history", Action.VIEW),
        Endpoint("html add form", "get", lambda o: f"{ACCOUNTS}add/", Action.ADD, on="create"),
        Endpoint(
            "html create",
            "post",
            lambda o: f"{ACCOUNTS}add/",
            Action.ADD,
            on="create",
            # Each scenario creates the same record again: confirm the collision warning.
            data=lambda o: {
                "kind": "company",
                "name": "新客户",
                "phone": "13800138000",
                "is_active": "on",
                "confirm_collisions": "on",
            },
            writes=True,
            ok=(302,),
        ),
        Endpoint("html edit form", "get", lambda o: f"{ACCOUNTS}{o.pk}/edit/", Action.CHANGE),
        Endpoint(
            "html edit (htmx)",
            "post",
            lambda o: f"{ACCOUNTS}{o.pk}/edit/",
            Action.CHANGE,
            data=lambda o: {
                "kind": "company",
                "name": "改名",
                "is_active": "on",
                "version": o.version,
                "confirm_collisions": "on",
            },
            writes=True,
            ok=(204,),
            htmx=True,
        ),
        Endpoint("html delete confirm", "get", lambda o: f"{ACCOUNTS}{o.pk}/delete/", Action.DELETE),
        Endpoint(
            "html delete",
            "post",
            lambda o: f"{ACCOUNTS}{o.pk}/delete/",
            Action.DELETE,
            writes=True,
            ok=(302,),
        ),
        Endpoint("api list", "get", lambda o: API_ACCOUNTS, Action.VIEW, on="list", api=True),
        Endpoint("api retrieve", "get", lambda o: f"{API_ACCOUNTS}{o.pk}/", Action.VIEW, api=True),
        Endpoint(
            "api create",
            "post",
            lambda o: API_ACCOUNTS,
            Action.ADD,
            on="create",
            api=True,
            data=lambda o: {"name": "API 客户", "email": "Buyer@Example.com", "confirm_collisions": True},
            writes=True,
            ok=(201,),
        ),
        Endpoint(
            "api update",
            "patch",
            lambda o: f"{API_ACCOUNTS}{o.pk}/",
            Action.CHANGE,
            api=True,
            data=lambda o: {"short_name": "改", "version": o.version},
            writes=True,
        ),
        Endpoint(
            "api replace",
            "put",
            lambda o: f"{API_ACCOUNTS}{o.pk}/",
            Action.CHANGE,
            api=True,
            data=lambda o: {"name": "整体替换", "kind": "person"},
            writes=True,
        ),
        Endpoint(
            "api delete",
            "delete",
            lambda o: f"{API_ACCOUNTS}{o.pk}/",
            Action.DELETE,
            api=True,
            writes=True,
            ok=(204,),
        ),
    ]


def test_account_permission_matrix(company, client) -> None:
    PermissionMatrix(
        model="customers.account",
        make=lambda owner: AccountFactory.create(owner=owner),
        endpoints=_account_endpoints(),
        actions=(Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE),
        grant=grant,
    ).run(company, client)


def _contact_endpoints() -> list[Endpoint]:
    return [
        Endpoint("html list", "get", lambda o: CONTACTS, Action.VIEW, on="list"),
        Endpoint("html detail", "get", lambda o: f"{CONTACTS}{o.pk}/", Action.VIEW),
        Endpoint(
            "html add form",
            "get",
            lambda o: f"{CONTACTS}add/?account={o.account_id}",
            Action.ADD,
            on="create",
        ),
        Endpoint(
            "html create",
            "post",
            lambda o: f"{CONTACTS}add/",
            Action.ADD,
            on="create",
            data=lambda o: {"account": o.account_id, "name": "王芳", "mobile": "139 0000 1111"},
            writes=True,
            ok=(302,),
        ),
        Endpoint("html edit form", "get", lambda o: f"{CONTACTS}{o.pk}/edit/", Action.CHANGE),
        Endpoint(
            "html edit",
            "post",
            lambda o: f"{CONTACTS}{o.pk}/edit/",
            Action.CHANGE,
            data=lambda o: {"account": o.account_id, "name": "改名", "version": o.version},
            writes=True,
            ok=(302,),
        ),
        Endpoint("html delete confirm", "get", lambda o: f"{CONTACTS}{o.pk}/delete/", Action.DELETE),
        Endpoint(
            "html delete (htmx)",
            "post",
            lambda o: f"{CONTACTS}{o.pk}/delete/",
            Action.DELETE,
            writes=True,
            ok=(204,),
            htmx=True,
        ),
        Endpoint("api list", "get", lambda o: API_CONTACTS, Action.VIEW, on="list", api=True),
        Endpoint("api retrieve", "get", lambda o: f"{API_CONTACTS}{o.pk}/", Action.VIEW, api=True),
        Endpoint(
            "api create",
            "post",
            lambda o: API_CONTACTS,
            Action.ADD,
            on="create",
            api=True,
            data=lambda o: {
                "account": o.account_id,
                "name": "李雷",
                "email": "Li.Lei@Example.com",
                "confirm_collisions": True,
            },
            writes=True,
            ok=(201,),
        ),
        Endpoint(
            "api update",
            "patch",
            lambda o: f"{API_CONTACTS}{o.pk}/",
            Action.CHANGE,
            api=True,
            data=lambda o: {"title": "采购经理"},
            writes=True,
        ),
        Endpoint(
            "api delete",
            "delete",
            lambda o: f"{API_CONTACTS}{o.pk}/",
            Action.DELETE,
            api=True,
            writes=True,
            ok=(204,),
        ),
    ]


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
