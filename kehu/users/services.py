"""Writes of the users app: departments, roles, permissions, users, API tokens."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from kehu.core.errors import DomainError

from .models import Department

PATH_STEP = 4  # "0001." per level: 9999 children per department


def _child_path(parent: Department | None) -> str:
    siblings = Department.objects.filter(parent=parent)
    prefix = parent.path if parent else ""
    last = siblings.aggregate(m=Max("path"))["m"]
    number = int(last[len(prefix) : len(prefix) + PATH_STEP]) + 1 if last else 1
    return f"{prefix}{number:0{PATH_STEP}d}."


@transaction.atomic
def department_create(
    *, name: str, parent: Department | None = None, by: Any, manager: Any = None
) -> Department:
    if parent is not None:
        parent = Department.objects.select_for_update().get(pk=parent.pk)
    path = _child_path(parent)
    return Department.objects.create(
        name=name, parent=parent, path=path, depth=0 if parent is None else parent.depth + 1, manager=manager
    )


@transaction.atomic
def department_move(*, department: Department, parent: Department | None, by: Any) -> Department:
    """Move a department (and its subtree) under another parent; paths are rewritten in one pass."""
    department = Department.objects.select_for_update().get(pk=department.pk)
    if parent is not None and parent.path.startswith(department.path):
        raise DomainError(
            _("A department cannot be moved under itself or one of its sub-departments."),
            code="department_cycle",
            fields={"parent": [_("Choose a department outside this one's subtree.")]},
        )
    old_path = department.path
    new_path = _child_path(parent)
    depth_delta = (0 if parent is None else parent.depth + 1) - department.depth
    subtree = list(Department.objects.filter(path__startswith=old_path))
    for node in subtree:
        node.path = new_path + node.path[len(old_path) :]
        node.depth += depth_delta
        if node.pk == department.pk:
            node.parent = parent
    # Two steps keep the unique path constraint satisfied while paths are rewritten.
    for node in subtree:
        Department.objects.filter(pk=node.pk).update(path=f"~{node.pk}~")
    for node in subtree:
        Department.objects.filter(pk=node.pk).update(path=node.path, depth=node.depth, parent=node.parent)
    department.refresh_from_db()
    return department
