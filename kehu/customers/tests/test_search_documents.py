"""The bulk document builders (rebuilds) give exactly the documents of the per-record functions."""

from __future__ import annotations

import pytest

from kehu.customers.models import Account, AccountEmail, AccountPhone, Contact, ContactEmail, ContactPhone
from kehu.customers.search import account_document, account_documents, contact_document, contact_documents
from kehu.search.tokens import pinyin_tokens

from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_bulk_documents_equal_the_per_record_documents(sales) -> None:
    rep = sales.rep1
    a1 = AccountFactory.create(
        owner=rep, name="重庆长江银行有限公司", short_name="长江", email="info@cj-bank.cn", wechat="cj_bank"
    )
    a2 = AccountFactory.create(owner=rep, name="单田芳", kind="person", phone="13812345678")
    AccountPhone.objects.create(account=a1, number="+862388886666")
    AccountEmail.objects.create(account=a1, email="sales@cj-bank.cn")
    c1 = ContactFactory.create(owner=rep, account=a1, name="曾国藩", mobile="13900001111", email="z.gf@x.cn")
    c2 = ContactFactory.create(owner=rep, name="Li Lei", phone="+861065529988")
    ContactPhone.objects.create(contact=c1, number="+8613700002222")
    ContactEmail.objects.create(contact=c1, email="zeng@y.cn")
    accounts = Account.objects.prefetch_related("phones", "emails")
    contacts = Contact.objects.prefetch_related("phones", "emails")

    for ids in ([a1.pk, a2.pk], [a2.pk], [a1.pk, a2.pk + 10_000]):  # dense, single, sparse with a gap
        bulk = account_documents(ids, "default")
        assert set(bulk) == set(ids) & {a1.pk, a2.pk}
        for pk, doc in bulk.items():
            assert doc.columns() == account_document(accounts.get(pk=pk)).columns()
    bulk_c = contact_documents([c1.pk, c2.pk], "default")
    for pk in (c1.pk, c2.pk):
        assert bulk_c[pk].columns() == contact_document(contacts.get(pk=pk)).columns()
    assert account_documents([], "default") == {}
    # Pinyin by pypinyin's own words: 重庆 and 长江 keep their phrase readings.
    assert pinyin_tokens("重庆长江银行")[0][0] == "chongqingchangjiangyinhang"
