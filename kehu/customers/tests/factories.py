"""Factories for accounts and contacts.

They do not call the services (those check the acting user's permissions, which a test sets up
separately); they apply the same data rules: phones and e-mails normalised by the shared
normalisers, the department taken from the owner, `created_by` the owner. Saves are single-row,
so the audit recorder sees them like any other write.
"""

from __future__ import annotations

from typing import Any

import factory

from kehu.users.tests.factories import UserFactory

from ..models import Account, AccountAddress, AccountContactRelation, Contact
from ..services import _normalised


def _create(model_class: type[Any], values: dict[str, Any]) -> Any:
    owner = values.pop("owner")
    values = _normalised(values)
    values.setdefault("created_by", owner)
    obj = model_class(**values, owner=owner, department_id=getattr(owner, "department_id", None))
    obj.save()
    return obj


class AccountFactory(factory.django.DjangoModelFactory[Account]):
    class Meta:
        model = Account

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"客户{n}有限公司")

    @classmethod
    def _create(cls, model_class: type[Account], *args: Any, **kwargs: Any) -> Account:
        return _create(model_class, kwargs)  # type: ignore[no-any-return,unused-ignore]


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
    account = factory.LazyAttribute(lambda o: AccountFactory.create(owner=o.owner))

    @classmethod
    def _create(cls, model_class: type[Contact], *args: Any, **kwargs: Any) -> Contact:
        contact = _create(model_class, kwargs)
        # The direct account's relation, as the services keep it.
        AccountContactRelation.objects.create(account_id=contact.account_id, contact=contact, is_direct=True)
        return contact  # type: ignore[no-any-return,unused-ignore]


class AddressFactory(factory.django.DjangoModelFactory[AccountAddress]):
    class Meta:
        model = AccountAddress

    account = factory.SubFactory(AccountFactory)
    country = "CN"
    province = "440000"
    city = "440300"
    district = "440305"
    street = factory.Sequence(lambda n: f"科技园路{n}号")
    is_primary = False


class RelationFactory(factory.django.DjangoModelFactory[AccountContactRelation]):
    """A contact's relation to another account (not its direct one)."""

    class Meta:
        model = AccountContactRelation

    contact = factory.SubFactory(ContactFactory)
    account = factory.LazyAttribute(lambda o: AccountFactory.create(owner=o.contact.owner))
    role = "purchaser"
