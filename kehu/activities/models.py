"""Follow-up activities (跟进): interactions logged with customers, tasks (待办) and their reminders.

Data scope: both `Interaction` and `Task` are owned records. A task's owner is its assignee
(执行人): "my tasks" are the tasks I own, and a manager sees the tasks of the people in their
department through the usual department scopes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import OwnedModel
from kehu.customfields.models import CustomFieldsModel

from .choices import (
    OPEN_TASK_STATUSES,
    Direction,
    InteractionKind,
    InteractionOutcome,
    Recurrence,
    ReminderStatus,
    TaskPriority,
    TaskStatus,
)


def account_field(related_name: str, *, required: bool) -> models.ForeignKey[Any, Any]:
    """The account (客户) an activity concerns; deleting the account deletes its activities."""
    return models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=not required,
        blank=not required,
        on_delete=models.CASCADE,
        related_name=related_name,
    )


def lead_field(related_name: str) -> models.ForeignKey[Any, Any]:
    """The lead (线索) an activity concerns, before it has an account; deleting the lead deletes
    its activities. On conversion they move to the new account and contact (`lead_converted`)."""
    return models.ForeignKey(
        "sales.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name=related_name,
    )


def opportunity_field(related_name: str) -> models.ForeignKey[Any, Any]:
    """The opportunity (商机) an activity concerns; deleting the opportunity keeps the activity."""
    return models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name=related_name,
    )


def contact_field(related_name: str) -> models.ForeignKey[Any, Any]:
    """The contact (联系人) an activity concerns; deleting the contact keeps the activity."""
    return models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name=related_name,
    )


class CustomerActivity(OwnedModel):
    """What interactions and tasks share: an owner, the account and contact they concern (built by
    `account_field` / `contact_field`, whose reverse names differ per model) and a detail page.
    The contact must belong to the account (`contact_belongs_to_account`, checked by the services)."""

    detail_url_name: str = ""

    class Meta:
        abstract = True

    def get_absolute_url(self) -> str:
        return reverse(self.detail_url_name, args=[self.pk])


def contact_belongs_to_account(account: Any, contact: Any) -> bool:
    """The contact works at the account: it is the contact's own account or one of its related
    accounts (the account-contact relations of the customers module)."""
    if contact.account_id == account.pk:
        return True
    return bool(account.related_contacts.filter(pk=contact.pk).exists())


class Interaction(CustomerActivity, CustomFieldsModel):
    """Something that happened with a customer: a call, meeting, visit, e-mail, WeChat chat or a
    note (跟进记录). Logging one moves the account's and contacts' "last contact" forward."""

    detail_url_name = "activities:interaction_detail"

    kind = models.CharField(
        _("type"), max_length=16, choices=InteractionKind.choices, default=InteractionKind.CALL
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    occurred_at = models.DateTimeField(_("when"), db_index=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=32, choices=InteractionOutcome.choices, blank=True)
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices, blank=True)
    location = models.CharField(_("location"), max_length=300, blank=True)
    # Set unless the interaction is on a lead (a lead has no account until it is converted): a
    # contact-only log takes the contact's account, an opportunity's log the opportunity's account.
    account = account_field("interactions", required=False)
    contact = contact_field("interactions")
    lead = lead_field("interactions")
    opportunity = opportunity_field("interactions")
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("colleagues"),
        blank=True,
        related_name="interactions_participated",
    )
    participant_contacts = models.ManyToManyField(
        "customers.Contact",
        verbose_name=_("other contacts"),
        blank=True,
        related_name="interactions_participated",
    )
    next_follow_up_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)
    task = models.ForeignKey(
        "Task",
        verbose_name=_("follow-up task"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-occurred_at"], name="activities_inter_account_at"),
            models.Index(fields=["owner", "-occurred_at"], name="activities_inter_owner_at"),
            models.Index(fields=["department", "-occurred_at"], name="activities_inter_dept_at"),
        ]

    def __str__(self) -> str:
        return self.subject


class Task(CustomerActivity):
    """Something someone has to do (待办任务), by a due time. The owner is the assignee."""

    detail_url_name = "activities:task_detail"

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True, db_index=True)
    all_day = models.BooleanField(_("all day"), default=False)
    priority = models.CharField(
        _("priority"), max_length=8, choices=TaskPriority.choices, default=TaskPriority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN, db_index=True
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    account = account_field("tasks", required=False)
    contact = contact_field("tasks")
    lead = lead_field("tasks")
    opportunity = opportunity_field("tasks")
    interaction = models.ForeignKey(
        Interaction,
        verbose_name=_("from interaction"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_up_tasks",
    )
    recurrence = models.CharField(
        _("repeat"), max_length=8, choices=Recurrence.choices, default=Recurrence.NONE
    )
    recurrence_interval = models.PositiveSmallIntegerField(
        _("every"), default=1, help_text=_("Repeat every N days, weeks or months.")
    )
    recurrence_until = models.DateField(_("repeat until"), null=True, blank=True)
    series = models.ForeignKey(
        "self",
        verbose_name=_("series"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="occurrences",
    )
    remind_before_minutes = models.PositiveIntegerField(
        _("remind before (minutes)"),
        null=True,
        blank=True,
        help_text=_("Empty: no reminder. 0: at the due time."),
    )

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "status", "due_at"], name="activities_task_owner_due"),
            models.Index(fields=["department", "status", "due_at"], name="activities_task_dept_due"),
            models.Index(fields=["account", "status"], name="activities_task_account"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(recurrence_interval__gte=1), name="activities_task_interval_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TASK_STATUSES

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        from django.utils import timezone

        return bool(self.is_open and self.due_at is not None and self.due_at < (now or timezone.now()))


class Reminder(models.Model):
    """One reminder of a task for one person at one moment; sent once (see `reminders.py`)."""

    task = models.ForeignKey(Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="reminders")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="+"
    )
    remind_at = models.DateTimeField(_("remind at"), db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    notification_id = models.BigIntegerField(_("notification"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["remind_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "recipient", "remind_at"], name="activities_reminder_unique"
            ),
        ]
        indexes = [models.Index(fields=["status", "remind_at"], name="activities_reminder_due")]

    def __str__(self) -> str:
        return f"{self.task_id} @ {self.remind_at:%Y-%m-%d %H:%M}"


class CalendarFeed(models.Model):
    """A private iCalendar subscription URL of one user; only the SHA-256 of the token is stored."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="calendar_feed",
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(pgettext_lazy("revoked at", "revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.user_id)
