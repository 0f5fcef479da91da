from __future__ import annotations

from typing import Any

import factory

from kehu.users import services
from kehu.users.models import Department, Role, RolePermission, User


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"部门{n}")

    @classmethod
    def _create(cls, model_class: type[Department], *args: Any, **kwargs: Any) -> Department:
        return services.department_create(name=kwargs["name"], parent=kwargs.get("parent"), by=None)


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    name = factory.Sequence(lambda n: f"Role {n}")
    code = factory.Sequence(lambda n: f"role-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("demo1234")

    @factory.post_generation
    def roles(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.roles.set(extracted)


def grant(role: Role, model: str, *actions: str, scope: str = "all") -> None:
    for action in actions:
        RolePermission.objects.update_or_create(
            role=role, model=model, action=action, defaults={"scope": scope}
        )
