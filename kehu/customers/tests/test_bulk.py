"""Bulk actions on accounts and contacts: scope (posted ids and "all matching" both go through
restrict()), change owner with related records and cascades, set a field, tags, delete with its
confirmation, the background-job path, the audit rows, the list page, the dialog and the API."""

from __future__ import annotations

import pytest
from django.test import override_settings

from kehu.audit.models import ObjectChange
from kehu.core import bulk
from kehu.core.choices import Action, FieldMode, JobStatus, Scope
from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.core.models import Job
from kehu.core.owned import OwnerCascade, _owner_cascades, register_owner_cascade
from kehu.customers import bulk as customers_bulk
from kehu.customers.filtersets import AccountFilterSet
from kehu.customers.models import Account, Contact
from kehu.tags.models import Tag, TaggedItem
from kehu.users.models import FieldPermission
from kehu.users.tests.factories import grant

from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/customers/accounts/bulk/"
DIALOG = "/lists/customers.account/bulk/"


@pytest.fixture
def crm(sales):
    """The sales grants plus assign: reps their own, managers their department."""
    grant(sales.role_rep, "customers.account", Action.ASSIGN, scope=Scope.OWN)
    grant(sales.role_rep, "customers.contact", Action.ASSIGN, scope=Scope.OWN)
    grant(sales.role_manager, "customers.account", Action.ASSIGN, scope=Scope.DEPARTMENT)
    grant(sales.role_manager, "customers.contact", Action.ASSIGN, scope=Scope.DEPARTMENT)
    return sales


def run(user, key, *, ids=None, query=None, params=None, confirm=None, model=Account):
    return bulk.bulk_start(
        user=user,
        model=model,
        action_key=key,
        ids=ids,
        query=query,
        filterset_class=AccountFilterSet if model is Account else None,
        params=params or {},
        confirm_count=confirm,
    )


def bulk_rows(model=Account, action="update"):
    return ObjectChange.objects.filter(model=model._meta.label_lower, bulk=True, action=action)


def log_entries(model=Account):
    return ObjectChange.objects.filter(model=model._meta.label_lower, object_id__isnull=True)


# --- scope -----------------------------------------------------------------------------------


def test_posted_ids_outside_scope_are_skipped_and_untouched(crm) -> None:
    mine = AccountFactory.create(owner=crm.rep1)
    theirs = AccountFactory.create(owner=crm.rep2)
    outcome = run(crm.rep1, "change_owner", ids=[mine.pk, theirs.pk, 999999], params={"owner": crm.rep3.pk})
    assert outcome.result is not None
    assert (outcome.count, outcome.result.done, outcome.result.skipped) == (1, 1, 2)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.owner_id, mine.department_id) == (crm.rep3.pk, crm.rep3.department_id)
    assert theirs.owner_id == crm.rep2.pk


def test_nothing_in_scope_is_refused(crm) -> None:
    theirs = AccountFactory.create(owner=crm.rep2)
    with pytest.raises(DomainError) as exc:
        run(crm.rep1, "change_owner", ids=[theirs.pk], params={"owner": crm.rep1.pk})
    assert exc.value.code == "bulk_empty"


def test_all_matching_is_reevaluated_through_restrict(crm) -> None:
    a = AccountFactory.create(owner=crm.rep1, name="Alpha 1")
    b = AccountFactory.create(owner=crm.rep1, name="Beta")
    c = AccountFactory.create(owner=crm.rep2, name="Alpha 2")  # matches, outside rep1's scope
    outcome = run(crm.rep1, "set_field", query={"q": "Alpha"}, params={"assignment": "is_active=false"})
    assert outcome.count == 1
    assert set(Account.objects.filter(is_active=False).values_list("pk", flat=True)) == {a.pk}
    assert Account.objects.get(pk=b.pk).is_active and Account.objects.get(pk=c.pk).is_active


def test_invalid_filter_is_refused_not_everything(crm) -> None:
    AccountFactory.create(owner=crm.rep1)
    with pytest.raises(DomainError):
        run(
            crm.rep1,
            "set_field",
            query={"created_after": "not-a-date"},
            params={"assignment": "is_active=false"},
        )
    assert not Account.objects.filter(is_active=False).exists()


def test_action_without_permission_is_refused(crm) -> None:
    account = AccountFactory.create(owner=crm.rep1)
    with pytest.raises(PermissionDeniedError):
        run(crm.viewer_all, "change_owner", ids=[account.pk], params={"owner": crm.rep2.pk})
    with pytest.raises(DomainError):
        run(crm.rep1, "no_such_action", ids=[account.pk])


# --- change owner ------------------------------------------------------------------------------


def test_change_owner_with_related_records_and_cascades(crm) -> None:
    moved: list = []

    def cascade(*, parent_ids, owner, by) -> int:
        moved.append((sorted(parent_ids), owner.pk, by.pk))
        return 7

    # Only the test's cascade (other apps' cascades have their own tests).
    saved = dict(_owner_cascades.get("customers.account", {}))
    _owner_cascades["customers.account"] = {}
    register_owner_cascade("customers.account", OwnerCascade("test.things", "Things", cascade))
    try:
        account = AccountFactory.create(owner=crm.rep1)
        c1 = ContactFactory.create(owner=crm.rep1, account=account)
        c2 = ContactFactory.create(owner=crm.rep2, account=account)  # someone else's, follows too
        outcome = run(
            crm.rep1, "change_owner", ids=[account.pk], params={"owner": crm.rep3.pk, "with_related": True}
        )
    finally:
        _owner_cascades["customers.account"] = saved
    assert outcome.result is not None
    assert outcome.result.failed == [] and outcome.result.extra["contacts"] == 2
    assert outcome.result.extra["test.things"] == 7
    assert moved == [([account.pk], crm.rep3.pk, crm.rep1.pk)]
    for contact in (c1, c2):
        contact.refresh_from_db()
        assert (contact.owner_id, contact.department_id) == (crm.rep3.pk, crm.east.pk)
    account.refresh_from_db()
    assert account.version == 2
    # Audit: one bulk ObjectChange per changed row (the contacts under their account) and one
    # operation-log entry for the run.
    row = bulk_rows(Account).get(object_id=account.pk)
    assert row.changes["owner"][1]["id"] == crm.rep3.pk
    assert row.changes["department"][1]["id"] == crm.east.pk
    contact_rows = bulk_rows(Contact)
    assert {r.object_id for r in contact_rows} == {c1.pk, c2.pk}
    assert {r.parent_id for r in contact_rows} == {account.pk}
    entry = log_entries(Account).get()
    assert entry.changes["bulk_action"] == "change_owner"
    assert entry.changes["done"] == 1 and entry.changes["selection"]["ids"] == 1
    assert entry.user_id == crm.rep1.pk


def test_change_owner_without_related_leaves_contacts(crm) -> None:
    account = AccountFactory.create(owner=crm.rep1)
    contact = ContactFactory.create(owner=crm.rep1, account=account)
    run(crm.rep1, "change_owner", ids=[account.pk], params={"owner": crm.rep2.pk})
    contact.refresh_from_db()
    assert contact.owner_id == crm.rep1.pk


def test_change_owner_to_inactive_user_is_a_parameter_error(crm) -> None:
    account = AccountFactory.create(owner=crm.rep1)
    crm.rep2.is_active = False
    crm.rep2.save()
    with pytest.raises(DomainError) as exc:
        run(crm.rep1, "change_owner", ids=[account.pk], params={"owner": crm.rep2.pk})
    assert "params.owner" in exc.value.fields


# --- set a field -------------------------------------------------------------------------------


def test_set_field_lifecycle_uses_single_edit_rules(crm) -> None:
    a = AccountFactory.create(owner=crm.rep1)
    with pytest.raises(DomainError):
        run(crm.rep1, "set_field", ids=[a.pk], params={"assignment": "lifecycle_stage=bogus"})
    outcome = run(crm.rep1, "set_field", ids=[a.pk], params={"assignment": "lifecycle_stage=active"})
    assert outcome.result is not None and outcome.result.done == 1
    a.refresh_from_db()
    assert a.lifecycle_stage == "active" and a.lifecycle_changed_at is not None
    assert bulk_rows(Account).get(object_id=a.pk).changes == {"lifecycle_stage": ["potential", "active"]}


def test_set_field_refuses_fields_not_allowed_or_locked(crm) -> None:
    a = AccountFactory.create(owner=crm.rep1, name="keep")
    with pytest.raises(DomainError):
        customers_bulk.accounts_set_field(ids=[a.pk], field="name", value="x", by=crm.rep1)
    FieldPermission.objects.create(
        role=crm.role_rep, model="customers.account", field="level", mode=FieldMode.READ_ONLY
    )
    rep1 = type(crm.rep1).objects.get(pk=crm.rep1.pk)
    with pytest.raises(PermissionDeniedError):
        customers_bulk.accounts_set_field(ids=[a.pk], field="level", value="", by=rep1)


def _found(client, q: str, label: str) -> list[str]:
    body = client.get("/api/v1/search/", {"q": q}).json()
    return [h["title"] for g in body["groups"] if g["type"] == label for h in g["hits"]]


def test_set_field_of_an_indexed_field_reindexes_the_search(crm, client, monkeypatch) -> None:
    """Bulk UPDATEs fire no signals: changing a name or a phone in bulk re-indexes the records."""
    monkeypatch.setitem(customers_bulk.ACCOUNT_BULK_FIELDS, "name", "Name")
    monkeypatch.setitem(customers_bulk.CONTACT_BULK_FIELDS, "mobile", "Mobile")
    a = AccountFactory.create(owner=crm.rep1, name="旧名称公司")
    c = ContactFactory.create(owner=crm.rep1, name="王五")
    client.force_login(crm.rep1)
    assert _found(client, "旧名称", "customers.account") == ["旧名称公司"]
    assert _found(client, "8765", "customers.contact") == []

    customers_bulk.accounts_set_field(ids=[a.pk], field="name", value="Zephyrine 贸易", by=crm.rep1)
    customers_bulk.contacts_set_field(ids=[c.pk], field="mobile", value="139 0000 8765", by=crm.rep1)

    assert _found(client, "zephyrine", "customers.account") == ["Zephyrine 贸易"]
    assert _found(client, "旧名称", "customers.account") == []
    assert _found(client, "8765", "customers.contact") == ["王五"]
    c.refresh_from_db()
    assert c.mobile == "+8613900008765"


def test_set_field_of_a_text_field_validates_like_a_single_edit(crm, monkeypatch) -> None:
    monkeypatch.setitem(customers_bulk.CONTACT_BULK_FIELDS, "mobile", "Mobile")
    monkeypatch.setitem(customers_bulk.ACCOUNT_BULK_FIELDS, "name", "Name")
    c = ContactFactory.create(owner=crm.rep1)
    a = AccountFactory.create(owner=crm.rep1)
    with pytest.raises(DomainError) as exc:
        customers_bulk.contacts_set_field(ids=[c.pk], field="mobile", value="12", by=crm.rep1)
    assert list(exc.value.fields) == ["value"]
    with pytest.raises(DomainError) as exc:
        customers_bulk.accounts_set_field(ids=[a.pk], field="name", value="  ", by=crm.rep1)
    assert list(exc.value.fields) == ["value"]


def test_set_field_of_a_field_outside_the_search_leaves_the_index_alone(crm) -> None:
    from kehu.search.models import SearchEntry
    from kehu.search.services import search_index_flush

    a = AccountFactory.create(owner=crm.rep1, name="索引客户")
    search_index_flush()  # the save's signal queued it for the commit
    entry = SearchEntry.objects.get(model="customers.account", object_id=a.pk)
    run(crm.rep1, "set_field", ids=[a.pk], params={"assignment": "lifecycle_stage=active"})
    assert SearchEntry.objects.get(pk=entry.pk).updated_at == entry.updated_at


# --- tags --------------------------------------------------------------------------------------


def test_add_and_remove_tags(crm) -> None:
    a = AccountFactory.create(owner=crm.rep1)
    b = AccountFactory.create(owner=crm.rep2)
    tag = Tag.objects.create(name="重点")
    outcome = run(crm.rep1, "tags_add", ids=[a.pk, b.pk], params={"tags": [tag.pk]})
    assert outcome.result is not None and (outcome.result.done, outcome.result.skipped) == (1, 1)
    assert set(TaggedItem.objects.values_list("object_id", flat=True)) == {a.pk}
    run(crm.rep1, "tags_remove", ids=[a.pk], params={"tags": [tag.pk]})
    assert not TaggedItem.objects.exists()


# --- delete ------------------------------------------------------------------------------------


def test_delete_needs_the_count_and_reports_accounts_with_contacts(crm) -> None:
    empty = AccountFactory.create(owner=crm.rep1)
    busy = AccountFactory.create(owner=crm.rep1, name="有联系人")
    ContactFactory.create(owner=crm.rep1, account=busy)
    with pytest.raises(DomainError) as exc:
        run(crm.rep1, "delete", ids=[empty.pk, busy.pk])
    assert exc.value.code == "bulk_confirm"
    with pytest.raises(DomainError):
        run(crm.rep1, "delete", ids=[empty.pk, busy.pk], confirm=3)
    assert Account.objects.count() == 2
    outcome = run(crm.rep1, "delete", ids=[empty.pk, busy.pk], confirm=2)
    assert outcome.result is not None
    assert (outcome.result.done, outcome.result.failed_count) == (1, 1)
    assert outcome.result.failed[0]["id"] == busy.pk
    assert "contacts" in outcome.result.failed[0]["reason"]
    assert list(Account.objects.values_list("pk", flat=True)) == [busy.pk]
    assert ObjectChange.objects.filter(
        model="customers.account", action="delete", object_id=empty.pk
    ).exists()
    assert log_entries(Account).get().changes["failed"] == 1


def test_delete_contacts(crm) -> None:
    c = ContactFactory.create(owner=crm.rep1)
    outcome = run(crm.rep1, "delete", ids=[c.pk], confirm=1, model=Contact)
    assert outcome.result is not None and outcome.result.done == 1
    assert not Contact.objects.filter(pk=c.pk).exists()


# --- background job ----------------------------------------------------------------------------


@override_settings(KEHU_BULK_INLINE_MAX=2, KEHU_BULK_BATCH_SIZE=2)
def test_big_selection_runs_as_a_job_in_batches(crm, django_capture_on_commit_callbacks) -> None:
    accounts = [AccountFactory.create(owner=crm.rep1, name=f"Job {i}") for i in range(5)]
    theirs = AccountFactory.create(owner=crm.rep2, name="Job theirs")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = run(crm.rep1, "set_field", query={"q": "Job"}, params={"assignment": "is_active=false"})
    assert outcome.job is not None and outcome.count == 5
    job = Job.objects.get(pk=outcome.job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["done"] == 5 and job.progress_done == 5
    assert set(Account.objects.filter(is_active=False).values_list("pk", flat=True)) == {
        a.pk for a in accounts
    }
    assert Account.objects.get(pk=theirs.pk).is_active
    assert bulk_rows(Account).count() == 5
    entry = log_entries(Account).get()
    assert entry.changes["job"] == job.pk and entry.changes["selection"]["filter"] == {"q": "Job"}


@override_settings(KEHU_BULK_INLINE_MAX=1, KEHU_BULK_BATCH_SIZE=1)
def test_a_failing_row_in_a_job_is_reported_not_fatal(crm, django_capture_on_commit_callbacks) -> None:
    ok = AccountFactory.create(owner=crm.rep1)
    busy = AccountFactory.create(owner=crm.rep1)
    ContactFactory.create(owner=crm.rep1, account=busy)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = run(crm.rep1, "delete", ids=[ok.pk, busy.pk], confirm=2)
    job = Job.objects.get(pk=outcome.job.pk)
    assert job.status == JobStatus.SUCCEEDED
    assert (job.result["done"], job.result["failed"]) == (1, 1)
    assert not Account.objects.filter(pk=ok.pk).exists()


# --- list page and dialog ----------------------------------------------------------------------


def test_list_shows_checkboxes_only_with_actions(crm, client) -> None:
    AccountFactory.create(owner=crm.rep1)
    client.force_login(crm.rep1)
    html = client.get("/customers/accounts/").content.decode()
    assert "kehu-row-check" in html and 'data-bulk-action="change_owner"' in html
    assert 'data-bulk-action="delete"' in html
    client.force_login(crm.viewer_all)  # view and export only: change/delete yes, assign no
    html = client.get("/customers/accounts/").content.decode()
    assert 'data-bulk-action="change_owner"' not in html


def test_dialog_counts_and_runs(crm, client) -> None:
    mine = AccountFactory.create(owner=crm.rep1)
    theirs = AccountFactory.create(owner=crm.rep2)
    client.force_login(crm.rep1)
    response = client.get(
        DIALOG, {"action": "delete", "ids": f"{mine.pk},{theirs.pk}"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-bulk-count="1"' in html and 'name="confirm"' in html
    response = client.post(
        DIALOG, {"action": "delete", "ids": f"{mine.pk},{theirs.pk}", "confirm": "2"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    assert Account.objects.filter(pk=mine.pk).exists()
    response = client.post(
        DIALOG, {"action": "delete", "ids": f"{mine.pk},{theirs.pk}", "confirm": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204
    assert "kehu:toast" in response["HX-Trigger"]
    assert not Account.objects.filter(pk=mine.pk).exists() and Account.objects.filter(pk=theirs.pk).exists()


def test_dialog_all_matching_and_unknown_action(crm, client) -> None:
    AccountFactory.create(owner=crm.rep1, name="Zed")
    client.force_login(crm.rep1)
    response = client.get(
        DIALOG, {"action": "set_field", "all": "1", "query": "q=Zed"}, HTTP_HX_REQUEST="true"
    )
    assert 'data-bulk-count="1"' in response.content.decode()
    assert client.get(DIALOG, {"action": "nope"}).status_code == 404
    assert client.get("/lists/nope.table/bulk/", {"action": "delete"}).status_code == 404
    client.force_login(crm.nobody)
    assert client.get(DIALOG, {"action": "delete"}).status_code == 404


# --- API ---------------------------------------------------------------------------------------


def test_api_inline_and_errors(crm, client) -> None:
    mine = AccountFactory.create(owner=crm.rep1)
    theirs = AccountFactory.create(owner=crm.rep2)
    client.force_login(crm.rep1)
    body = {"action": "change_owner", "ids": [mine.pk, theirs.pk], "params": {"owner": crm.rep3.pk}}
    response = client.post(API, body, content_type="application/json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["count"], data["done"], data["skipped"], data["job"]) == (1, 1, 1, None)
    assert Account.objects.get(pk=theirs.pk).owner_id == crm.rep2.pk
    for bad in (
        {"action": "change_owner"},
        {"action": "change_owner", "ids": [1], "filter": {}},
        {"action": "change_owner", "ids": ["x"]},
        {"action": "nope", "ids": [mine.pk]},
        {"action": "change_owner", "ids": [mine.pk], "params": {"owner": "abc"}},
        {"action": "delete", "ids": [mine.pk]},
    ):
        response = client.post(API, bad, content_type="application/json")
        assert response.status_code == 400, (bad, response.content)
        assert response.json()["code"]


@override_settings(KEHU_BULK_INLINE_MAX=1)
def test_api_queues_big_selections(crm, client, django_capture_on_commit_callbacks) -> None:
    for i in range(3):
        AccountFactory.create(owner=crm.rep1, name=f"Q{i}")
    client.force_login(crm.rep1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            API,
            {"action": "set_field", "filter": {"q": "Q"}, "params": {"assignment": "is_active=false"}},
            content_type="application/json",
        )
    assert response.status_code == 202, response.json()
    assert response.json()["job"]["kind"] == "bulk"
    assert Account.objects.filter(is_active=False).count() == 3


@pytest.mark.parametrize(
    ("user", "status", "changed"),
    [
        ("anonymous", (401, 403), False),
        ("nobody", (403,), False),
        ("rep1", (200,), True),  # own
        ("rep2", (400,), False),  # same department, but own scope: nothing in scope
        ("manager1", (200,), True),  # department
        ("rep3", (400,), False),  # another department
        ("viewer_all", (403,), False),  # all, but no assign
    ],
)
def test_api_permission_matrix(crm, client, user, status, changed) -> None:
    account = AccountFactory.create(owner=crm.rep1)
    if user != "anonymous":
        client.force_login(getattr(crm, user))
    response = client.post(
        API,
        {"action": "change_owner", "ids": [account.pk], "params": {"owner": crm.director.pk}},
        content_type="application/json",
    )
    assert response.status_code in status
    account.refresh_from_db()
    assert (account.owner_id == crm.director.pk) is changed


def test_api_contacts_bulk(crm, client) -> None:
    mine = ContactFactory.create(owner=crm.rep1)
    theirs = ContactFactory.create(owner=crm.rep2)
    client.force_login(crm.rep1)
    response = client.post(
        "/api/v1/customers/contacts/bulk/",
        {"action": "set_field", "ids": [mine.pk, theirs.pk], "params": {"assignment": "do_not_call=true"}},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["done"], response.json()["skipped"]) == (1, 1)
    assert Contact.objects.get(pk=mine.pk).do_not_call
    assert not Contact.objects.get(pk=theirs.pk).do_not_call
    row = bulk_rows(Contact).get()
    assert (row.object_id, row.parent_id, row.changes) == (
        mine.pk,
        mine.account_id,
        {"do_not_call": [False, True]},
    )
