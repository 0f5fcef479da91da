"""Reads of the core app: background jobs as a user may see them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from . import permissions
from .choices import Action, JobStatus
from .models import Job


def job_sees_others(user: Any) -> bool:
    """Whether `user` may see other people's jobs (administrators, or a role granting core.job view)."""
    return permissions.can(user, Job, Action.VIEW)


def job_list(*, user: Any, everyone: bool = False, status: str = "", kind: str = "") -> QuerySet[Job]:
    """The user's own jobs, newest first; with `everyone`, every job the user may see."""
    qs = Job.objects.restrict(user, Action.VIEW).select_related("owner")
    if not (everyone and job_sees_others(user)):
        qs = qs.filter(owner=user.pk)
    if status in JobStatus.values:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at", "-id")


def job_kinds(*, user: Any, everyone: bool = False) -> list[str]:
    qs = job_list(user=user, everyone=everyone)
    return sorted(set(qs.order_by().values_list("kind", flat=True).distinct()))


def job_can_cancel(*, user: Any, job: Job) -> bool:
    if job.is_finished:
        return False
    if job.owner_id is not None and job.owner_id == getattr(user, "pk", None):
        return True
    return Job.objects.restrict(user, Action.CHANGE).filter(pk=job.pk).exists()
