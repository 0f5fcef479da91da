"""What the global search indexes for accounts and contacts (``kehu.search`` registry).

Names (name, short name) rank above everything else; phone numbers, e-mail addresses, the tax
number (unified social credit code) and the WeChat ID are found too. Typed phones and e-mails
(``AccountPhone``, ``ContactEmail``, ...) are part of the record's document: changing one
re-indexes the record.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from kehu.search.registry import register_indexed
from kehu.search.selectors import search_filter
from kehu.search.tokens import Document, phone_query_digits

from .choices import AccountKind
from .models import Account, Contact

# The fields each document reads (besides the typed phone and e-mail rows, whose signals re-index
# their record): bulk writers, which fire no signals, re-index when they change one of these.
INDEXED_FIELDS: dict[str, frozenset[str]] = {
    "customers.account": frozenset({"name", "short_name", "kind", "phone", "email", "tax_number", "wechat"}),
    "customers.contact": frozenset({"name", "mobile", "phone", "email", "wechat"}),
}


def account_document(account: Account) -> Document:
    doc = Document(title=account.name)
    person = account.kind == AccountKind.PERSON
    doc.add_name(account.name, person=person)
    doc.add_name(account.short_name, person=person)
    doc.add_phone(account.phone)
    for phone in account.phones.all():
        doc.add_phone(phone.number)
    doc.add_email(account.email)
    for email in account.emails.all():
        doc.add_email(email.email)
    doc.add_identifier(account.tax_number)
    doc.add_identifier(account.wechat)
    return doc


def contact_document(contact: Contact) -> Document:
    doc = Document(title=contact.name)
    doc.add_name(contact.name, person=True)
    doc.add_phone(contact.mobile)
    doc.add_phone(contact.phone)
    for phone in contact.phones.all():
        doc.add_phone(phone.number)
    doc.add_email(contact.email)
    for email in contact.emails.all():
        doc.add_email(email.email)
    doc.add_identifier(contact.wechat)
    return doc


def _accounts(qs: QuerySet[Any]) -> QuerySet[Any]:
    return qs.prefetch_related("phones", "emails")


def _contacts(qs: QuerySet[Any]) -> QuerySet[Any]:
    return qs.prefetch_related("phones", "emails")


def register() -> None:
    register_indexed(
        Account,
        document=account_document,
        queryset=_accounts,
        related={"customers.accountphone": "account_id", "customers.accountemail": "account_id"},
    )
    register_indexed(
        Contact,
        document=contact_document,
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
