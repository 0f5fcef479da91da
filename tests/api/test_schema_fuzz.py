"""Schemathesis over the whole OpenAPI schema: every operation of every app, as an administrator with a
personal API token, against seeded data. Checks: no server error, and the response conforms to the
schema (documented status code, content type and body).

Bounded so it stays well inside `make test`'s budget as the API grows: a few derandomized examples
per operation (positive and negative data), no deadline, no example database. The schema is
loaded lazily inside the test (it depends on the database); each operation runs as a subtest.

Endpoint-specific fixes belong to the app that owns the endpoint: this file stays generic.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from config.wsgi import application

pytestmark = [pytest.mark.schema, pytest.mark.django_db]

MAX_EXAMPLES = 6

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            "mode": "all",
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": False},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)


CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
]

# Optional seed data from the apps' own factories: (factory path, how many). A factory that does
# not exist (yet) is left out; the fuzzing itself always runs.
SEED_FACTORIES = [
    ("kehu.customfields.tests.factories.CustomFieldFactory", 1),
    ("kehu.customfields.tests.factories.FieldRuleFactory", 1),
    ("kehu.customers.tests.factories.AccountFactory", 3),
    ("kehu.customers.tests.factories.ContactFactory", 3),
    ("kehu.customers.tests.factories.AddressFactory", 2),
    ("kehu.customers.tests.factories.RelationFactory", 2),
    ("kehu.activities.tests.factories.InteractionFactory", 2),
    ("kehu.activities.tests.factories.TaskFactory", 2),
    ("kehu.notifications.tests.factories.NotificationFactory", 2),
    ("kehu.tags.tests.factories.TagGroupFactory", 1),
    ("kehu.tags.tests.factories.TagFactory", 2),
    ("kehu.tags.tests.factories.StaticGroupFactory", 1),
    ("kehu.sales.tests.factories.OpportunityFactory", 2),
    ("kehu.sales.tests.opportunity_line_fixtures.OpportunityLineFactory", 2),
    ("kehu.sales.tests.factories.LeadFactory", 2),
    ("kehu.sales.tests.pool_fixtures.PoolFactory", 1),
    ("kehu.catalog.tests.factories.PriceListItemFactory", 2),
    ("kehu.catalog.tests.factories.ExchangeRateFactory", 2),
    ("kehu.commerce.tests.factories.QuoteFactory", 2),
    ("kehu.commerce.tests.factories.QuoteLineFactory", 2),
    ("kehu.commerce.tests.factories.ApprovalRuleFactory", 1),
    ("kehu.commerce.tests.factories.ContractFactory", 2),
    ("kehu.commerce.tests.factories.OrderFactory", 2),
    ("kehu.commerce.tests.factories.OrderLineFactory", 2),
    ("kehu.commerce.tests.factories.InstalmentFactory", 2),
    ("kehu.commerce.tests.factories.PaymentFactory", 2),
    ("kehu.commerce.tests.factories.InvoiceFactory", 2),
]


def _seed(owner: Any) -> None:
    from kehu.core.services import job_create

    job_create(kind="export", owner=owner, title="Seeded job")
    for path, count in SEED_FACTORIES:
        module_name, _, name = path.rpartition(".")
        try:
            factory = getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError):
            continue
        for _ in range(count):
            try:
                factory(**_owner_kwargs(factory, owner))
            except TypeError:
                factory()


def _owner_kwargs(factory: Any, owner: Any) -> dict[str, Any]:
    model = factory._meta.model
    names = {f.name for f in model._meta.get_fields()}
    if "owner" in names:
        return {"owner": owner}
    if "user" in names:
        return {"user": owner}
    if "recipient" in names:
        return {"recipient": owner}
    return {}


@pytest.fixture
def token(company: Any) -> str:
    from kehu.users.services import api_token_create

    _seed(company.admin)
    _token, key = api_token_create(user=company.admin, name="schemathesis")
    return key


@pytest.fixture
def api_schema(token: str) -> Iterator[schemathesis.BaseSchema]:
    """Loaded inside the test, after seeding: the schema depends on the database (custom fields add
    API fields), and schema generation may query it.

    Requests go straight to the WSGI application, so Django's request signals would close the
    database connection after each one (and with it the test's transaction on PostgreSQL). Django's
    own test client disconnects that handler too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        loaded = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)
        assert loaded.raw_schema["paths"], "the API schema has no operations"
        yield loaded
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# One pytest test whose subtests are the operations (a failing operation is named in the report).
schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_operation(case: schemathesis.Case, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
