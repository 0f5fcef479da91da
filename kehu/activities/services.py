"""Writes of interactions (跟进记录) and tasks (任务). Forms, the API and other apps come through here.

Every function is keyword-only, typed and atomic and applies the owned-record rules of
`kehu.core.owned` (scope, optimistic lock, owner/assign, department from the owner, the re-check
after the write). A task's owner is its assignee.

Side effects kept here, in the same transaction:

* logging an interaction writes the timeline event ``interaction.logged`` on the account (and
  contact) and moves their "last contact" forward (`customers.services.account_record_activity`,
  never backward); a "next follow-up" time creates a follow-up task for the interaction's owner
  (moved or cancelled when the time changes or is cleared), reminded by its owner's default reminder;
* a task created without a "remind before" gets its assignee's default reminder
  (`kehu.activities.preferences`);
* tasks write ``task.created`` / ``task.completed`` on the account's timeline, completing a
  recurring task creates its next occurrence, and every task write re-plans its reminders through
  `reminders_sync_for_task` (the reminder module, `kehu.activities.reminders`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import importlib
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.audit.choices import ChangeAction
from kehu.audit.services import object_changes_record_bulk, timeline_record
from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.errors import ConflictError, DomainError
from kehu.core.permissions import readonly_fields
from kehu.customers.models import Account, Contact
from kehu.customers.services import account_record_activity
from kehu.customfields.services import custom_values_clean
from kehu.sales.models import Lead, Opportunity
from kehu.sales.services.leads import lead_record_activity
from kehu.sales.services.opportunities import opportunity_record_activity

from .choices import OPEN_TASK_STATUSES, Recurrence, TaskStatus
from .models import CustomerActivity, Interaction, Task, contact_belongs_to_account
from .preferences import default_remind_before


class ActivitiesError(DomainError):
    code = "activities_invalid"


class TaskStateError(ConflictError):
    code = "task_state"


class InteractionData(TypedDict, total=False):
    kind: str
    subject: str
    body: str
    occurred_at: dt.datetime
    duration_minutes: int | None
    outcome: str
    direction: str
    location: str
    next_follow_up_at: dt.datetime | None
    account: Account | None
    contact: Contact | None
    lead: Lead | None
    opportunity: Opportunity | None
    participants: Iterable[Any]  # users
    participant_contacts: Iterable[Contact]
    owner: Any  # User
    custom: dict[str, Any]


class TaskData(TypedDict, total=False):
    title: str
    description: str
    due_at: dt.datetime | None
    all_day: bool
    priority: str
    status: str
    account: Account | None
    contact: Contact | None
    lead: Lead | None
    opportunity: Opportunity | None
    recurrence: str
    recurrence_interval: int
    recurrence_until: dt.date | None
    remind_before_minutes: int | None
    owner: Any  # User: the assignee


_REFS = frozenset(
    {"owner", "custom", "account", "contact", "lead", "opportunity", "participants", "participant_contacts"}
)
INTERACTION_FIELDS = frozenset(InteractionData.__annotations__) - _REFS
TASK_FIELDS = frozenset(TaskData.__annotations__) - _REFS - {"status"}
_CLEAN_EXCLUDE = (
    "owner",
    "department",
    "created_by",
    "account",
    "contact",
    "lead",
    "opportunity",
    "custom",
    "task",
    "series",
)
_TEXT_KEEP = ("body", "description")


def _check_keys(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(data) - allowed - _REFS - {"status"}
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")


def _trimmed(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.strip() if isinstance(v, str) and k not in _TEXT_KEEP else v) for k, v in data.items()}


def _visible_account(by: Any, account: Account | None) -> Account | None:
    if account is None:
        return None
    if not Account.objects.restrict(by, Action.VIEW).filter(pk=account.pk).exists():
        raise ActivitiesError(
            _("Choose an account you can see."), fields={"account": [_("Choose an account you can see.")]}
        )
    return account


def _visible_contact(by: Any, contact: Contact | None, field: str = "contact") -> Contact | None:
    if contact is None:
        return None
    if not Contact.objects.restrict(by, Action.VIEW).filter(pk=contact.pk).exists():
        raise ActivitiesError(
            _("Choose a contact you can see."), fields={field: [_("Choose a contact you can see.")]}
        )
    return contact


def _visible_lead(by: Any, lead: Lead | None) -> Lead | None:
    if lead is None:
        return None
    if not Lead.objects.restrict(by, Action.VIEW).filter(pk=lead.pk).exists():
        raise ActivitiesError(
            _("Choose a lead you can see."), fields={"lead": [_("Choose a lead you can see.")]}
        )
    if lead.is_converted:
        message = _("This lead was converted: log on its account instead.")
        raise ActivitiesError(message, fields={"lead": [message]})
    return lead


def _visible_opportunity(by: Any, opportunity: Opportunity | None) -> Opportunity | None:
    if opportunity is None:
        return None
    if not Opportunity.objects.restrict(by, Action.VIEW).filter(pk=opportunity.pk).exists():
        message = _("Choose an opportunity you can see.")
        raise ActivitiesError(message, fields={"opportunity": [message]})
    return opportunity


def _resolve_refs(
    by: Any,
    account: Account | None,
    contact: Contact | None,
    *,
    required: bool,
    lead: Lead | None = None,
    opportunity: Opportunity | None = None,
) -> tuple[Account | None, Contact | None]:
    """The account (the opportunity's account, else the contact's own account, when none is
    given) and the contact, both visible to the user and belonging together; the lead and the
    opportunity must be visible too. Only an activity on a lead may have no account."""
    lead = _visible_lead(by, lead)
    opportunity = _visible_opportunity(by, opportunity)
    if opportunity is not None:
        if account is None:
            account = opportunity.account
        elif account.pk != opportunity.account_id:
            message = _("This opportunity belongs to another account.")
            raise ActivitiesError(message, fields={"opportunity": [message]})
    if lead is not None:
        required = False
    contact = _visible_contact(by, contact)
    if account is None and contact is not None:
        account = contact.account
        if not Account.objects.restrict(by, Action.VIEW).filter(pk=account.pk).exists():
            # The user sees the contact but not its account: logging under it would leak nothing,
            # but the record would be filed where its author cannot see it.
            raise ActivitiesError(
                _("Choose the account too: you cannot see this contact's account."),
                fields={"account": [_("Choose an account you can see.")]},
            )
    else:
        account = _visible_account(by, account)
    if account is None and required:
        raise ActivitiesError(
            _("Choose an account or a contact."),
            fields={"account": [_("Choose an account or a contact.")]},
        )
    if account is not None and contact is not None and not contact_belongs_to_account(account, contact):
        raise ActivitiesError(
            _("This contact does not work with the chosen account."),
            fields={"contact": [_("Choose a contact of the chosen account.")]},
        )
    return account, contact


def _apply_refs(
    by: Any, current: CustomerActivity, values: Mapping[str, Any], *, required: bool
) -> list[str]:
    """On an update: the account and contact from `values` (the current ones where absent),
    resolved and checked like on create, set on `current`; returns the changed field names."""
    if not {"account", "contact", "lead", "opportunity"} & set(values):
        return []
    record: Any = current
    account = values.get("account", record.account)
    contact = values.get("contact", record.contact)
    lead = values.get("lead", record.lead)
    opportunity = values.get("opportunity", record.opportunity)
    # A converted lead's history keeps its link (not checked again); a new link is checked.
    check_lead = None if lead is not None and lead.pk == record.lead_id and lead.is_converted else lead
    account, contact = _resolve_refs(
        by, account, contact, required=required and lead is None, lead=check_lead, opportunity=opportunity
    )
    changed: list[str] = []
    if "lead" in values and getattr(lead, "pk", None) != record.lead_id:
        record.lead = lead
        changed.append("lead")
    if "opportunity" in values and getattr(opportunity, "pk", None) != record.opportunity_id:
        record.opportunity = opportunity
        changed.append("opportunity")
    if getattr(account, "pk", None) != record.account_id:
        record.account = account
        changed.append("account")
    if getattr(contact, "pk", None) != record.contact_id:
        record.contact = contact
        changed.append("contact")
    return changed


def _custom(by: Any, data: Mapping[str, Any], current: dict[str, Any] | None) -> dict[str, Any] | None:
    if "custom" not in data and current is not None:
        return None
    locked = {f.removeprefix("custom.") for f in readonly_fields(by, Interaction) if f.startswith("custom.")}
    return custom_values_clean(
        model=Interaction,
        values=data.get("custom") or {},
        instance_values=current,
        partial=current is not None,
        exclude=locked,
    )


def reminders_sync_for_task(*, task: Task) -> None:
    """Re-plan the task's reminders (due time, remind-before, assignee, status): the reminder
    module owns the rules. Called after every task write, inside the same transaction."""
    try:
        reminders = importlib.import_module("kehu.activities.reminders")
    except ModuleNotFoundError as exc:  # the reminder module is not installed yet
        if exc.name != "kehu.activities.reminders":
            raise
        return
    reminders.reminder_schedule_for_task(task=task)


# --- interactions -----------------------------------------------------------------------------


def _check_interaction(obj: Interaction) -> None:
    errors: dict[str, list[str]] = {}
    if obj.duration_minutes is not None and obj.duration_minutes < 0:
        errors["duration_minutes"] = [_("The duration cannot be negative.")]
    if obj.next_follow_up_at is not None and obj.occurred_at and obj.next_follow_up_at <= obj.occurred_at:
        errors["next_follow_up_at"] = [_("The next follow-up must be after the interaction.")]
    if errors:
        raise ActivitiesError(_("Some fields are not valid."), fields=errors)


def _follow_up_title(interaction: Interaction) -> str:
    return (_("Follow up: %(subject)s") % {"subject": interaction.subject})[:200]


def _sync_follow_up(interaction: Interaction, by: Any) -> list[str]:
    """Create, move or cancel the interaction's follow-up task to match `next_follow_up_at`;
    returns ["task"] when the link changed. A completed follow-up is left alone."""
    task = (
        Task.objects.select_for_update().filter(pk=interaction.task_id).first()
        if interaction.task_id
        else None
    )
    when = interaction.next_follow_up_at
    if when is None:
        if task is not None and task.is_open:
            task.status = TaskStatus.CANCELLED
            task.version += 1
            task.save(update_fields=["status", "version", "updated_at"])
            reminders_sync_for_task(task=task)
        return []
    if task is not None and task.is_open:
        if task.due_at != when:
            task.due_at = when
            task.version += 1
            task.save(update_fields=["due_at", "version", "updated_at"])
            reminders_sync_for_task(task=task)
        return []
    if task is not None and task.due_at == when:
        return []
    task = Task(
        title=_follow_up_title(interaction),
        description=interaction.body[:2000],
        due_at=when,
        account_id=interaction.account_id,
        contact_id=interaction.contact_id,
        lead_id=interaction.lead_id,
        opportunity_id=interaction.opportunity_id,
        interaction=interaction,
        created_by=by,
        remind_before_minutes=default_remind_before(owner=interaction.owner, due_at=when, all_day=False),
    )
    owned.set_owner(task, interaction.owner)
    task.save()
    reminders_sync_for_task(task=task)
    interaction.task = task
    return ["task"]


def _record_activity(interaction: Interaction, contact_ids: Iterable[int], by: Any = None) -> None:
    """ "Last contact" of the account, the contacts, the lead (a new lead becomes "contacting")
    and the opportunity moves forward to the interaction's time."""
    ids = {i for i in contact_ids if i}
    if interaction.contact_id:
        ids.add(interaction.contact_id)
    if interaction.account_id:
        account_record_activity(
            account_id=interaction.account_id, contact_ids=sorted(ids), at=interaction.occurred_at
        )
    elif ids:
        Contact.objects.filter(pk__in=ids).filter(
            Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=interaction.occurred_at)
        ).update(last_activity_at=interaction.occurred_at)
    lead = interaction.lead if interaction.lead_id else None
    if lead is not None and by is not None and not lead.is_converted:
        lead_record_activity(lead=lead, by=by, at=interaction.occurred_at)
    if interaction.opportunity_id:
        opportunity_record_activity(opportunity_id=interaction.opportunity_id, at=interaction.occurred_at)


def _sales_timeline(event: str, record: CustomerActivity, by: Any, data: dict[str, Any], **kw: Any) -> None:
    """The event also on the timeline of the activity's lead or opportunity (their pages show the
    events recorded on them; the account's timeline already has the activity's own event)."""
    item: Any = record
    key = "interaction" if isinstance(record, Interaction) else "task"
    for target in (item.lead if item.lead_id else None, item.opportunity if item.opportunity_id else None):
        if target is not None:
            timeline_record(event=event, obj=target, by=by, data={**data, key: record.pk}, **kw)


def _participants(
    by: Any, data: Mapping[str, Any], account: Account | None
) -> tuple[list[Any] | None, list[Contact] | None]:
    """The colleagues and the other contacts who took part; the contacts must be visible to the
    user and belong to the interaction's account (like its contact)."""
    users = list(data["participants"]) if data.get("participants") is not None else None
    contacts = list(data["participant_contacts"]) if data.get("participant_contacts") is not None else None
    for c in contacts or ():
        _visible_contact(by, c, "participant_contacts")
        if account is not None and not contact_belongs_to_account(account, c):
            raise ActivitiesError(
                _("%(contact)s does not work with the chosen account.") % {"contact": c},
                fields={"participant_contacts": [_("Choose contacts of the chosen account.")]},
            )
    return users, contacts


@transaction.atomic
def interaction_create(*, by: Any, data: InteractionData) -> Interaction:
    _check_keys(data, INTERACTION_FIELDS)
    owned.check_action(by, Interaction, Action.ADD)
    owned.check_locked_fields(by, Interaction, data)
    values = _trimmed(data)
    lead, opportunity = values.get("lead"), values.get("opportunity")
    account, contact = _resolve_refs(
        by, values.get("account"), values.get("contact"), required=True, lead=lead, opportunity=opportunity
    )
    owner = owned.resolve_owner(by, Interaction, values.get("owner"))
    interaction = Interaction(
        created_by=by, account=account, contact=contact, lead=lead, opportunity=opportunity
    )
    owned.apply_values(interaction, values, INTERACTION_FIELDS)
    if interaction.occurred_at is None:
        interaction.occurred_at = timezone.now()
    owned.set_owner(interaction, owner)
    interaction.custom = _custom(by, values, None) or {}
    _check_interaction(interaction)
    owned.full_clean_or_raise(interaction, exclude=_CLEAN_EXCLUDE)
    users, contacts = _participants(by, values, interaction.account)
    interaction.save()
    if users:
        interaction.participants.set(users)
    if contacts:
        interaction.participant_contacts.set(contacts)
    if _sync_follow_up(interaction, by):
        interaction.save(update_fields=["task"])
    event_data = {"kind": interaction.kind, "title": interaction.subject, "body": interaction.body[:1000]}
    timeline_record(
        event="interaction.logged",
        obj=interaction,
        by=by,
        data=event_data,
        account_id=interaction.account_id,
        contact_id=interaction.contact_id,
        occurred_at=interaction.occurred_at,
    )
    _sales_timeline("interaction.logged", interaction, by, event_data, occurred_at=interaction.occurred_at)
    _record_activity(interaction, (c.pk for c in contacts or ()), by)
    owned.recheck_scope(by, interaction, Action.VIEW, transfer=owner.pk != by.pk)
    return interaction


@transaction.atomic
def interaction_update(
    *, interaction: Interaction, by: Any, data: InteractionData, version: int | None = None
) -> Interaction:
    _check_keys(data, INTERACTION_FIELDS)
    current = Interaction.objects.select_for_update().get(pk=interaction.pk)
    owned.check_action(by, Interaction, Action.CHANGE, obj=current)
    owned.check_version(current, version)
    owned.check_locked_fields(by, Interaction, data, current=current)
    values = _trimmed(data)
    changed = owned.apply_values(current, values, INTERACTION_FIELDS)
    changed += _apply_refs(by, current, values, required=True)
    owner = owned.resolve_owner(by, Interaction, values.get("owner"), obj=current)
    transfer = getattr(owner, "pk", None) != current.owner_id
    changed += owned.set_owner(current, owner)
    custom = _custom(by, values, current.custom)
    if custom is not None and custom != current.custom:
        current.custom = custom
        changed.append("custom")
    users, contacts = _participants(by, values, current.account)
    if changed:
        if current.occurred_at is None:
            raise ActivitiesError(
                _("Some fields are not valid."), fields={"occurred_at": [_("This field is required.")]}
            )
        _check_interaction(current)
        owned.full_clean_or_raise(current, exclude=_CLEAN_EXCLUDE)
        changed += _sync_follow_up(current, by) if {"next_follow_up_at", "owner"} & set(changed) else []
        current.version += 1
        current.save(update_fields=[*dict.fromkeys(changed), "version", "updated_at"])
    if users is not None:
        current.participants.set(users)
    if contacts is not None:
        current.participant_contacts.set(contacts)
    if {"occurred_at", "account", "contact", "lead", "opportunity"} & set(changed) or contacts:
        _record_activity(current, (c.pk for c in contacts or ()), by)
    if changed:
        owned.recheck_scope(by, current, Action.CHANGE, transfer=transfer)
    return current


@transaction.atomic
def interaction_delete(*, interaction: Interaction, by: Any) -> None:
    current = Interaction.objects.select_for_update().get(pk=interaction.pk)
    owned.check_action(by, Interaction, Action.DELETE, obj=current)
    current.delete()


# --- tasks ------------------------------------------------------------------------------------


def _check_task(task: Task) -> None:
    errors: dict[str, list[str]] = {}
    if task.recurrence and task.recurrence != Recurrence.NONE:
        if task.due_at is None:
            errors["due_at"] = [_("A repeating task needs a due date.")]
        if not task.recurrence_interval or task.recurrence_interval < 1:
            errors["recurrence_interval"] = [_("Repeat at least every 1.")]
        elif task.recurrence_interval > 366:
            errors["recurrence_interval"] = [_("Repeat at most every 366.")]
        if (
            task.recurrence_until
            and task.due_at
            and task.recurrence_until < timezone.localtime(task.due_at).date()
        ):
            errors["recurrence_until"] = [_("“Repeat until” cannot be before the due date.")]
    if task.remind_before_minutes is not None:
        if task.remind_before_minutes < 0:
            errors["remind_before_minutes"] = [_("Cannot be negative.")]
        elif task.due_at is None:
            errors["remind_before_minutes"] = [_("A reminder needs a due date.")]
    if errors:
        raise ActivitiesError(_("Some fields are not valid."), fields=errors)


def _task_timeline(event: str, task: Task, by: Any, **extra: Any) -> None:
    data = {"title": task.title, "due_at": task.due_at, **extra}
    _sales_timeline(event, task, by, data)
    if task.account_id is None:
        return
    timeline_record(
        event=event,
        obj=task,
        by=by,
        data=data,
        account_id=task.account_id,
        contact_id=task.contact_id,
    )


@transaction.atomic
def task_create(*, by: Any, data: TaskData, interaction: Interaction | None = None) -> Task:
    _check_keys(data, TASK_FIELDS)
    owned.check_action(by, Task, Action.ADD)
    owned.check_locked_fields(by, Task, data)
    values = _trimmed(data)
    lead, opportunity = values.get("lead"), values.get("opportunity")
    account, contact = _resolve_refs(
        by, values.get("account"), values.get("contact"), required=False, lead=lead, opportunity=opportunity
    )
    owner = owned.resolve_owner(by, Task, values.get("owner"))
    task = Task(
        created_by=by,
        account=account,
        contact=contact,
        lead=lead,
        opportunity=opportunity,
        interaction=interaction,
    )
    owned.apply_values(task, values, TASK_FIELDS)
    owned.set_owner(task, owner)
    if "remind_before_minutes" not in values:  # none given: the assignee's default reminder
        task.remind_before_minutes = default_remind_before(
            owner=owner, due_at=task.due_at, all_day=task.all_day
        )
    _check_task(task)
    owned.full_clean_or_raise(task, exclude=_CLEAN_EXCLUDE)
    task.save()
    reminders_sync_for_task(task=task)
    _task_timeline("task.created", task, by)
    owned.recheck_scope(by, task, Action.VIEW, transfer=owner.pk != by.pk)
    return task


@transaction.atomic
def task_update(*, task: Task, by: Any, data: TaskData, version: int | None = None) -> Task:
    _check_keys(data, TASK_FIELDS)
    current = Task.objects.select_for_update().get(pk=task.pk)
    owned.check_action(by, Task, Action.CHANGE, obj=current)
    owned.check_version(current, version)
    owned.check_locked_fields(by, Task, data, current=current)
    values = _trimmed(data)
    changed = owned.apply_values(current, values, TASK_FIELDS)
    changed += _apply_refs(by, current, values, required=False)
    owner = owned.resolve_owner(by, Task, values.get("owner"), obj=current)
    transfer = getattr(owner, "pk", None) != current.owner_id
    changed += owned.set_owner(current, owner)
    if "status" in values and values["status"] != current.status:
        _apply_status(current, values["status"], by, changed)
    if not changed:
        return current
    _check_task(current)
    owned.full_clean_or_raise(current, exclude=_CLEAN_EXCLUDE)
    current.version += 1
    current.save(update_fields=[*dict.fromkeys(changed), "version", "updated_at"])
    reminders_sync_for_task(task=current)
    if "status" in changed and current.status == TaskStatus.DONE:
        _task_timeline("task.completed", current, by)
        _next_occurrence(current, by)
    owned.recheck_scope(by, current, Action.CHANGE, transfer=transfer)
    return current


def _apply_status(task: Task, status: str, by: Any, changed: list[str]) -> None:
    if status not in TaskStatus.values:
        raise ActivitiesError(
            _("Some fields are not valid."), fields={"status": [_("Choose a valid status.")]}
        )
    task.status = status
    changed.append("status")
    completed_at = timezone.now() if status == TaskStatus.DONE else None
    if task.completed_at != completed_at:
        task.completed_at = completed_at
        changed.append("completed_at")


def _locked_task(task: Task, by: Any, version: int | None) -> Task:
    current = Task.objects.select_for_update().get(pk=task.pk)
    owned.check_action(by, Task, Action.CHANGE, obj=current)
    owned.check_version(current, version)
    return current


def _save_state(task: Task, fields: list[str]) -> None:
    task.version += 1
    task.save(update_fields=[*fields, "version", "updated_at"])
    reminders_sync_for_task(task=task)


@transaction.atomic
def task_complete(*, task: Task, by: Any, version: int | None = None) -> Task:
    """Mark the task done (again: no change). A repeating task gets its next occurrence."""
    current = _locked_task(task, by, version)
    if current.status == TaskStatus.DONE:
        return current
    if current.status == TaskStatus.CANCELLED:
        raise TaskStateError(_("This task was cancelled. Reopen it first."))
    current.status = TaskStatus.DONE
    current.completed_at = timezone.now()
    _save_state(current, ["status", "completed_at"])
    _task_timeline("task.completed", current, by)
    _next_occurrence(current, by)
    return current


@transaction.atomic
def task_reopen(*, task: Task, by: Any, version: int | None = None) -> Task:
    current = _locked_task(task, by, version)
    if current.status in OPEN_TASK_STATUSES:
        return current
    current.status = TaskStatus.OPEN
    current.completed_at = None
    _save_state(current, ["status", "completed_at"])
    return current


@transaction.atomic
def task_cancel(*, task: Task, by: Any, version: int | None = None) -> Task:
    current = _locked_task(task, by, version)
    if current.status == TaskStatus.CANCELLED:
        return current
    if current.status == TaskStatus.DONE:
        raise TaskStateError(_("This task is already done. Reopen it first."))
    current.status = TaskStatus.CANCELLED
    current.completed_at = None
    _save_state(current, ["status", "completed_at"])
    return current


@transaction.atomic
def task_delete(*, task: Task, by: Any) -> None:
    current = Task.objects.select_for_update().get(pk=task.pk)
    owned.check_action(by, Task, Action.DELETE, obj=current)
    current.delete()


# --- recurrence -------------------------------------------------------------------------------


def add_months(value: dt.datetime, months: int, *, day: int | None = None) -> dt.datetime:
    """`value` moved by `months` calendar months, on `day` (default: its own day) or the month's
    last day when the month is shorter (31 Jan + 1 month = 28/29 Feb; with day=31, + 2 = 31 Mar)."""
    index = value.month - 1 + months
    year, month = value.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return value.replace(year=year, month=month, day=min(day or value.day, last))


def next_due(task: Task, after: dt.datetime | None = None) -> dt.datetime | None:
    """The due time of the occurrence after `task` (local wall-clock time is kept), moved on
    until it is after `after` (default: now) so completing a late task does not create an overdue
    one; None when the series ends (`recurrence_until`) or the task does not repeat."""
    if task.recurrence == Recurrence.NONE or task.due_at is None:
        return None
    tz = timezone.get_current_timezone()
    root = task.series if task.series_id and task.series is not None else task
    anchor_day = timezone.localtime(root.due_at or task.due_at, tz).day
    local = timezone.localtime(task.due_at, tz).replace(tzinfo=None)
    after = after or timezone.now()
    step = max(1, task.recurrence_interval or 1)
    for _i in range(10_000):
        if task.recurrence == Recurrence.DAILY:
            local = local + dt.timedelta(days=step)
        elif task.recurrence == Recurrence.WEEKLY:
            local = local + dt.timedelta(weeks=step)
        else:
            local = add_months(local, step, day=anchor_day)
        if task.recurrence_until and local.date() > task.recurrence_until:
            return None
        candidate = timezone.make_aware(local, tz)
        if candidate > after:
            return candidate
    return None


def _next_occurrence(task: Task, by: Any) -> Task | None:
    due = next_due(task)
    if due is None:
        return None
    root_id = task.series_id or task.pk
    if Task.objects.filter(series_id=root_id, due_at=due).exists() or (
        Task.objects.filter(pk=root_id, due_at=due).exists()
    ):
        return None  # already there (completed, reopened and completed again)
    nxt = Task(
        title=task.title,
        description=task.description,
        due_at=due,
        all_day=task.all_day,
        priority=task.priority,
        account_id=task.account_id,
        contact_id=task.contact_id,
        lead_id=task.lead_id,
        opportunity_id=task.opportunity_id,
        recurrence=task.recurrence,
        recurrence_interval=task.recurrence_interval,
        recurrence_until=task.recurrence_until,
        remind_before_minutes=task.remind_before_minutes,
        series_id=root_id,
        created_by=by,
        owner_id=task.owner_id,
        department_id=task.department_id,
    )
    nxt.save()
    reminders_sync_for_task(task=nxt)
    return nxt


# --- owner cascade ----------------------------------------------------------------------------


def account_open_tasks_reassign(*, parent_ids: list[int], owner: Any, by: Any) -> int:
    """The open tasks of these accounts follow the accounts' new owner (an `OwnerCascade` of
    ``customers.account``). One bulk UPDATE, recorded in the operation log; reminders re-planned."""
    ids = [int(i) for i in parent_ids]
    if not ids or owner is None:
        return 0
    with transaction.atomic():
        tasks = list(
            Task.objects.select_for_update(of=("self",))
            .filter(account_id__in=ids, status__in=OPEN_TASK_STATUSES)
            .exclude(owner_id=owner.pk)
            .select_related("owner")
        )
        if not tasks:
            return 0
        pks = [t.pk for t in tasks]
        from django.db.models import F

        Task.objects.filter(pk__in=pks).update(
            owner_id=owner.pk,
            department_id=owner.department_id,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        object_changes_record_bulk(
            model=Task,
            action=ChangeAction.UPDATE,
            rows=[
                (
                    t.pk,
                    str(t),
                    {"owner": [str(t.owner) if t.owner else None, str(owner)]},
                    ("customers.account", t.account_id),
                )
                for t in tasks
            ],
            by=by,
        )
        for t in Task.objects.filter(pk__in=pks):
            reminders_sync_for_task(task=t)
    return len(tasks)


# --- lead conversion --------------------------------------------------------------------------


def lead_converted(*, result: Any, by: Any) -> None:
    """A lead was converted (a `kehu.sales.services.leads.on_converted` callback, inside the
    conversion's transaction): its interactions and open tasks move to the new account, contact
    and opportunity, so the history follows the customer (the link to the lead stays); the
    account's and contact's "last contact" take the newest interaction's time."""
    lead_id = result.lead.pk
    account, contact, opportunity = result.account, result.contact, result.opportunity
    interactions = Interaction.objects.filter(lead_id=lead_id)
    tasks = Task.objects.filter(lead_id=lead_id, status__in=OPEN_TASK_STATUSES)
    for qs in (interactions, tasks):
        qs.filter(Q(account__isnull=True) | ~Q(account_id=account.pk)).update(account=account, contact=None)
        if contact is not None:
            qs.filter(contact__isnull=True).update(contact=contact)
        if opportunity is not None:
            qs.filter(opportunity__isnull=True).update(opportunity=opportunity)
    last = interactions.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    if last is not None:
        account_record_activity(
            account_id=account.pk, contact_ids=[contact.pk] if contact is not None else [], at=last
        )
