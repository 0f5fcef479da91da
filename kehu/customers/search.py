"""What the global search indexes for accounts and contacts (``kehu.search`` registry).

Names (name, short name) rank above everything else; phone numbers, e-mail addresses, the tax
number (unified social credit code) and the WeChat ID are found too. Typed phones and e-mails
(``AccountPhone``, ``ContactEmail``, ...) are part of the record's document: changing one
re-indexes the record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from kehu.search.registry import register_indexed
from kehu.search.selectors import search_filter
from kehu.search.tokens import Document, phone_query_digits

from .choices import AccountKind
from .models import Account, AccountEmail, AccountPhone, Contact, ContactEmail, ContactPhone

# The fields each document reads (besides the typed phone and e-mail rows, whose signals re-index
# their record): bulk writers, which fire no signals, re-index when they change one of these.
INDEXED_FIELDS: dict[str, frozenset[str]] = {
    "customers.account": frozenset({"name", "short_name", "kind", "phone", "email", "tax_number", "wechat"}),
    "customers.contact": frozenset({"name", "mobile", "phone", "email", "wechat"}),
}


def _account_doc(
    name: str,
    short_name: str,
    kind: str,
    phone: str,
    email: str,
    tax_number: str,
    wechat: str,
    phones: Iterable[str],
    emails: Iterable[str],
) -> Document:
    doc = Document(title=name)
    person = kind == AccountKind.PERSON
    doc.add_name(name, person=person)
    doc.add_name(short_name, person=person)
    doc.add_phone(phone)
    for number in phones:
        doc.add_phone(number)
    doc.add_email(email)
    for address in emails:
        doc.add_email(address)
    doc.add_identifier(tax_number)
    doc.add_identifier(wechat)
    return doc


def _contact_doc(
    name: str, mobile: str, phone: str, email: str, wechat: str, phones: Iterable[str], emails: Iterable[str]
) -> Document:
    doc = Document(title=name)
    doc.add_name(name, person=True)
    doc.add_phone(mobile)
    doc.add_phone(phone)
    for number in phones:
        doc.add_phone(number)
    doc.add_email(email)
    for address in emails:
        doc.add_email(address)
    doc.add_identifier(wechat)
    return doc


def account_document(account: Account) -> Document:
    return _account_doc(
        account.name,
        account.short_name,
        account.kind,
        account.phone,
        account.email,
        account.tax_number,
        account.wechat,
        [p.number for p in account.phones.all()],
        [e.email for e in account.emails.all()],
    )


def contact_document(contact: Contact) -> Document:
    return _contact_doc(
        contact.name,
        contact.mobile,
        contact.phone,
        contact.email,
        contact.wechat,
        [p.number for p in contact.phones.all()],
        [e.email for e in contact.emails.all()],
    )


def _ids(qs: QuerySet[Any], field: str, ids: list[int]) -> QuerySet[Any]:
    """`qs` of the rows whose `field` is in `ids`: a range when the ids are dense (a rebuild's batch:
    no 2,000 parameters to bind three times), else ``IN``."""
    low, high = min(ids), max(ids)
    if high - low < 2 * len(ids):
        return qs.filter(**{f"{field}__gte": low, f"{field}__lte": high})
    return qs.filter(**{f"{field}__in": ids})


def _grouped(rows: Iterable[tuple[int, str]]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for key, value in rows:
        out[key].append(value)
    return out


# The bulk builders (rebuilds, bulk re-indexing): plain column values in three queries per batch,
# no model instances and no prefetch machinery, the same documents as the functions above.


def account_documents(ids: list[int], using: str) -> dict[int, Document]:
    if not ids:
        return {}
    wanted = set(ids)
    rows = _ids(Account.objects.using(using), "pk", ids)
    cols = ("pk", "name", "short_name", "kind", "phone", "email", "tax_number", "wechat")
    phones = _grouped(
        _ids(AccountPhone.objects.using(using), "account_id", ids)
        .order_by("pk")
        .values_list("account_id", "number")
    )
    emails = _grouped(
        _ids(AccountEmail.objects.using(using), "account_id", ids)
        .order_by("pk")
        .values_list("account_id", "email")
    )
    return {
        pk: _account_doc(name, short, kind, phone, email, tax, wechat, phones.get(pk, ()), emails.get(pk, ()))
        for pk, name, short, kind, phone, email, tax, wechat in rows.values_list(*cols)
        if pk in wanted
    }


def contact_documents(ids: list[int], using: str) -> dict[int, Document]:
    if not ids:
        return {}
    wanted = set(ids)
    rows = _ids(Contact.objects.using(using), "pk", ids)
    cols = ("pk", "name", "mobile", "phone", "email", "wechat")
    phones = _grouped(
        _ids(ContactPhone.objects.using(using), "contact_id", ids)
        .order_by("pk")
        .values_list("contact_id", "number")
    )
    emails = _grouped(
        _ids(ContactEmail.objects.using(using), "contact_id", ids)
        .order_by("pk")
        .values_list("contact_id", "email")
    )
    return {
        pk: _contact_doc(name, mobile, phone, email, wechat, phones.get(pk, ()), emails.get(pk, ()))
        for pk, name, mobile, phone, email, wechat in rows.values_list(*cols)
        if pk in wanted
    }


def _accounts(qs: QuerySet[Any]) -> QuerySet[Any]:
    return qs.prefetch_related("phones", "emails")


def _contacts(qs: QuerySet[Any]) -> QuerySet[Any]:
    return qs.prefetch_related("phones", "emails")


def register() -> None:
    register_indexed(
        Account,
        document=account_document,
        documents=account_documents,
        queryset=_accounts,
        related={"customers.accountphone": "account_id", "customers.accountemail": "account_id"},
    )
    register_indexed(
        Contact,
        document=contact_document,
        documents=contact_documents,
        queryset=_contacts,
        related={"customers.contactphone": "contact_id", "customers.contactemail": "contact_id"},
    )


# --- the lists' quick search (`q` of AccountFilterSet / ContactFilterSet) ---------------------------


def account_quick_search(queryset: QuerySet[Account], q: str) -> QuerySet[Account]:
    """Accounts of `queryset` matching `q` through the index: name, short name, pinyin (full and
    initials), phone digits in any format, e-mail, tax number, WeChat ID. Falls back to the plain
    column search when the index cannot answer (never built, nothing to look for in `q`)."""
    found = search_filter(queryset, q)
    if found is not None:
        return found
    cond = Q(name__icontains=q) | Q(short_name__icontains=q) | Q(email__icontains=q)
    digits = phone_query_digits(q)
    if digits:
        cond |= Q(phone__contains=digits)
    return queryset.filter(cond)


def contact_quick_search(queryset: QuerySet[Contact], q: str) -> QuerySet[Contact]:
    """Contacts of `queryset` matching `q` through the index (name, pinyin, phone digits, e-mail,
    WeChat ID), and contacts of the accounts matching it (the company's name). Falls back to the
    plain column search when the index cannot answer."""
    found = search_filter(queryset, q, via={"customers.account": "account_id"})
    if found is not None:
        return found
    cond = Q(name__icontains=q) | Q(email__icontains=q) | Q(title__icontains=q) | Q(wechat__iexact=q)
    cond |= Q(account__name__icontains=q)
    digits = phone_query_digits(q)
    if digits:
        cond |= Q(phone__contains=digits) | Q(mobile__contains=digits)
    return queryset.filter(cond)
