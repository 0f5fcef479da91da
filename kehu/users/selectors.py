from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.db.models import QuerySet

from kehu.core.choices import Action

from .models import Department, Role, User


def user_requires_mfa(*, user: Any) -> bool:
    return user.roles.filter(require_mfa=True).exists()


def user_has_mfa(*, user: Any) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def user_must_enrol_mfa(*, user: Any) -> bool:
    return user_requires_mfa(user=user) and not user_has_mfa(user=user)


def user_list(*, user: Any) -> QuerySet[User]:
    return User.objects.restrict(user, Action.VIEW).select_related("department").prefetch_related("roles")


def department_list(*, user: Any) -> QuerySet[Department]:
    return Department.objects.restrict(user, Action.VIEW).select_related("parent", "manager")


def role_list(*, user: Any) -> QuerySet[Role]:
    return Role.objects.restrict(user, Action.VIEW).prefetch_related("permissions")
