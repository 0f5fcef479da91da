"""Match keys follow the records: create, update, delete, child rows, bulk writes, rebuild."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from kehu.customers.models import Account, AccountEmail, AccountPhone, Contact, ContactPhone
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.dedup import services
from kehu.dedup.models import MatchKey
from kehu.dedup.selectors import record_keys

from .conftest import make_lead

pytestmark = pytest.mark.django_db

USCC = "91350100M000100Y43"


def test_account_keys_from_fields_and_rows(company: Any) -> None:
    account = AccountFactory.create(
        owner=company.rep1, name="华为技术有限公司", tax_number=USCC, email="Info@Huawei.com"
    )
    AccountPhone.objects.create(account=account, number="+8613812345678", is_primary=True)
    AccountEmail.objects.create(account=account, email="sales@huawei.com")
    assert record_keys(account) == {
        ("company", "华为技术"),
        ("tax_number", USCC),
        ("email", "info@huawei.com"),
        ("email", "sales@huawei.com"),
        ("phone", "+8613812345678"),
    }


def test_person_accounts_have_no_company_key(company: Any) -> None:
    account = AccountFactory.create(owner=company.rep1, name="张三", kind="person")
    assert record_keys(account) == set()


def test_update_replaces_keys_and_delete_removes_them(company: Any) -> None:
    contact = ContactFactory.create(owner=company.rep1, mobile="13812345678")
    phone = ContactPhone.objects.create(contact=contact, number="+8613900001111", kind="mobile")
    assert record_keys(contact) == {("phone", "+8613812345678"), ("phone", "+8613900001111")}
    contact.mobile = "+8613700002222"
    contact.save(update_fields=["mobile"])
    phone.number = "+8613600003333"
    phone.save()
    assert record_keys(contact) == {("phone", "+8613700002222"), ("phone", "+8613600003333")}
    phone.delete()
    assert record_keys(contact) == {("phone", "+8613700002222")}
    pk = contact.pk
    contact.account_relations.all().delete()
    contact.delete()
    services.dedup_flush()
    assert not MatchKey.objects.filter(object_id=pk, content_type__model="contact").exists()


def test_saves_of_other_fields_do_not_rekey(company: Any, django_assert_num_queries: Any) -> None:
    account = AccountFactory.create(owner=company.rep1, name="小米科技有限责任公司")
    services.dedup_flush()
    account.notes = "x"
    account.save(update_fields=["notes"])
    with django_assert_num_queries(0):
        assert services.dedup_flush() == 0


def test_converted_leads_lose_their_keys(company: Any) -> None:
    lead = make_lead(company.rep1, company="字节跳动科技有限公司", phone="+8613812345678")
    assert record_keys(lead) == {("company", "字节跳动科技"), ("phone", "+8613812345678")}
    lead.status = "converted"
    lead.save(update_fields=["status"])
    assert record_keys(lead) == set()


def test_keys_are_written_when_the_transaction_commits(
    company: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        account = AccountFactory.create(owner=company.rep1, name="美的集团股份有限公司")
    assert set(
        MatchKey.objects.filter(object_id=account.pk, content_type__model="account").values_list(
            "kind", "value"
        )
    ) == {("company", "美的")}


def test_bulk_writes_reindex_explicitly(company: Any) -> None:
    a = AccountFactory.create(owner=company.rep1, name="甲公司有限公司")
    b = AccountFactory.create(owner=company.rep1, name="乙科技有限公司")
    services.dedup_flush()
    Account.objects.filter(pk__in=[a.pk, b.pk]).update(tax_number=USCC)  # no signals
    assert ("tax_number", USCC) not in record_keys(a)
    services.dedup_reindex(model="customers.account", ids=[a.pk, b.pk])
    assert ("tax_number", USCC) in record_keys(a)
    assert ("tax_number", USCC) in record_keys(b)
    created = Account.objects.bulk_create(
        [Account(name="丙丁有限公司", owner=company.rep1, created_by=company.rep1)]
    )
    services.dedup_reindex(model=Account, ids=[created[0].pk])
    assert record_keys(created[0]) == {("company", "丙丁")}


def test_rebuild_repairs_missing_and_stale_keys(company: Any) -> None:
    account = AccountFactory.create(owner=company.rep1, name="万科企业股份有限公司")
    contact = ContactFactory.create(owner=company.rep1, email="a@example.com", account=account)
    services.dedup_flush()
    MatchKey.objects.all().delete()
    MatchKey.objects.create(
        content_type_id=contact_ct(), object_id=999999, kind="email", value="ghost@example.com"
    )
    call_command("dedup_rebuild_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert record_keys(account) == {("company", "万科企业")}
    assert record_keys(contact) == {("email", "a@example.com")}
    assert not MatchKey.objects.filter(object_id=999999).exists()


def contact_ct() -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Contact).pk


def test_rebuild_job(company: Any) -> None:
    from kehu.core.models import Job

    AccountFactory.create(owner=company.rep1, name="格力电器股份有限公司")
    MatchKey.objects.all().delete()
    job = services.dedup_rebuild_start(by=company.admin)
    services.dedup_rebuild_job(job_id=job.pk)
    job = Job.objects.get(pk=job.pk)
    assert job.status == "succeeded", job.error
    assert MatchKey.objects.filter(kind="company", value="格力电器").exists()


def test_keys_flushed_in_a_rolled_back_savepoint_are_written_again(company: Any) -> None:
    """A check flushes the queue inside the write's transaction; when that write is refused (its
    savepoint rolled back), the keys of records saved earlier must not be lost."""
    lead = make_lead(company.rep1, mobile="+8613812345678")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.dedup_flush()  # writes the lead's keys inside the savepoint
        raise RuntimeError
    assert record_keys(lead) == {("phone", "+8613812345678")}
