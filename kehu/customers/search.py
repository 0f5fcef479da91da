"""What the global search indexes for accounts and contacts (``kehu.search`` registry).

Names (name, short name) rank above everything else; phone numbers, e-mail addresses, the tax
number (unified social credit code) and the WeChat ID are found too. Typed phones and e-mails
(``AccountPhone``, ``ContactEmail``, ...) are part of the record's document: changing one
re-indexes the record.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from kehu.search.registry import register_indexed
from kehu.search.tokens import Document

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
