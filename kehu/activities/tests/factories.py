"""Factories for interactions and tasks (plain saves, department from the owner, like the
customers factories; the services are tested separately)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone

from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import UserFactory

from ..models import Interaction, Task


def _create(model_class: type[Any], values: dict[str, Any]) -> Any:
    owner = values.pop("owner")
    values.setdefault("created_by", owner)
    obj = model_class(**values, owner=owner, department_id=getattr(owner, "department_id", None))
    obj.save()
    return obj


class InteractionFactory(factory.django.DjangoModelFactory[Interaction]):
    class Meta:
        model = Interaction

    owner = factory.SubFactory(UserFactory)
    subject = factory.Sequence(lambda n: f"电话回访 {n}")
    kind = "call"
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    account = factory.LazyAttribute(lambda o: AccountFactory.create(owner=o.owner))

    @classmethod
    def _create(cls, model_class: type[Interaction], *args: Any, **kwargs: Any) -> Interaction:
        return _create(model_class, kwargs)  # type: ignore[no-any-return,unused-ignore]


class TaskFactory(factory.django.DjangoModelFactory[Task]):
    class Meta:
        model = Task

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"跟进报价 {n}")
    due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))

    @classmethod
    def _create(cls, model_class: type[Task], *args: Any, **kwargs: Any) -> Task:
        return _create(model_class, kwargs)  # type: ignore[no-any-return,unused-ignore]
