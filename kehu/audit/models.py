"""The audit log in two layers (ARCHITECTURE.md section 4).

* `ObjectChange` (操作日志): one row per create / update / delete of an audited record (and per
  explicit event such as an export or the reveal of a masked value), with the changed fields'
  values before and after. Append-only.
* `TimelineEvent` (动态): semantic events ("lead.converted", "stage.moved") written explicitly by
  services, shown on timelines and read by analytics.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.errors import DomainError
from kehu.core.permissions import RestrictedManager

from .choices import ChangeAction, ChangeSource


class AppendOnlyError(DomainError):
    pass


class ObjectChange(models.Model):
    """Who changed which record, when, from where, and each changed field's value before and after.

    `changes` is ``{field name: [before, after]}`` with JSON-safe values (dates as ISO strings,
    decimals as strings, foreign keys as ``{"id": ..., "repr": ...}``, many-to-many fields as lists
    of those). For a create, "before" is null; for a delete, "after" is null.
    """

    # Data scope of the operation log: "own" = changes I made; "department" = changes made by my
    # department's users, and so on (the users backend builds the Q from these two attributes).
    scope_owner_field = "user"
    scope_department_field = "user__department"

    time = models.DateTimeField(_("time"), default=timezone.now)  # indexed with id: audit_oc_time_id
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # covered by the (user, time) index
    )
    user_name = models.CharField(_("user name"), max_length=150, blank=True)
    request_id = models.CharField(_("request ID"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=16, choices=ChangeSource.choices, default=ChangeSource.WEB
    )
    model = models.CharField(_("model"), max_length=100, help_text=_("app_label.model, e.g. users.user"))
    object_id = models.BigIntegerField(_("object ID"), null=True, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=ChangeAction.choices)
    bulk = models.BooleanField(_("bulk"), default=False, help_text=_("Written by a bulk operation."))
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    parent_model = models.CharField(_("parent model"), max_length=100, blank=True)
    parent_id = models.BigIntegerField(_("parent ID"), null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("operation log entry")
        verbose_name_plural = _("operation log")
        ordering = ["-time", "-id"]
        indexes = [
            models.Index(fields=["model", "object_id", "time"], name="audit_oc_object"),
            models.Index(fields=["parent_model", "parent_id", "time"], name="audit_oc_parent"),
            models.Index(fields=["user", "time"], name="audit_oc_user"),
            models.Index(fields=["time", "id"], name="audit_oc_time_id"),
            # Equality look-ups only (an import's or a request's entries): no LIKE index beside it.
            models.Index(fields=["request_id"], name="audit_oc_request"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.model} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(_("The operation log is append-only."), code="audit_append_only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(_("The operation log is append-only."), code="audit_append_only")


class TimelineEvent(models.Model):
    """A semantic event on a record's timeline (动态), written explicitly by a service.

    `account_id` ties the event to a customer account (customers is a higher app, so this is a
    plain indexed integer, not a foreign key) for the account's 360° timeline, `contact_id` to a
    contact for the contact's timeline. `data` holds the event's details; keys named like fields
    of `model` follow the viewer's field permissions on the timeline (hidden: left out, masked:
    masked), and so do the fields in ``data["changes"]`` (``{field: [before, after]}``).
    """

    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now, db_index=True)
    event = models.CharField(_("event"), max_length=64, db_index=True, help_text=_('e.g. "lead.converted"'))
    model = models.CharField(_("model"), max_length=100)
    object_id = models.BigIntegerField(_("object ID"))
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    account_id = models.BigIntegerField(_("account ID"), null=True, blank=True)
    # The contact the event concerns (an interaction's main contact), for the contact's timeline.
    contact_id = models.BigIntegerField(_("contact ID"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    request_id = models.CharField(_("request ID"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["model", "object_id", "occurred_at"], name="audit_te_object"),
            # the 360° timelines: newest first by keyset (occurred_at, id)
            models.Index(fields=["account_id", "-occurred_at", "-id"], name="audit_te_account_time"),
            models.Index(fields=["contact_id", "-occurred_at", "-id"], name="audit_te_contact_time"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.model}#{self.object_id}"
