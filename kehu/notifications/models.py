from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.choices import Action
from kehu.core.permissions import RestrictedQuerySet


class Level(models.TextChoices):
    INFO = "info", _("Information")
    SUCCESS = "success", _("Success")
    WARNING = "warning", _("Warning")
    ERROR = "error", _("Error")


class NotificationQuerySet(RestrictedQuerySet):
    def restrict(self, user: Any, action: str = Action.VIEW) -> RestrictedQuerySet:
        """Notifications are personal: a user sees and marks only their own (administrators too)."""
        if not (user is not None and getattr(user, "is_authenticated", False) and user.is_active):
            return self.none()
        # Rows kept only for e-mail (the user switched the kind off in the app) stay out of the bell.
        return self.filter(recipient=user.pk, in_app=True)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


NotificationManager = models.Manager.from_queryset(NotificationQuerySet)


class Notification(models.Model):
    """A message to one user in the notification centre (the bell), optionally also e-mailed."""

    scope_owner_field = "recipient"
    scope_department_field = None

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=64, blank=True, db_index=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, default=Level.INFO)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    target_model = models.CharField(_("target model"), max_length=100, blank=True)
    target_id = models.PositiveBigIntegerField(_("target id"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    # False: the recipient switched this kind off in the app but on by e-mail; the row exists only
    # so that the e-mail is sent once (its `emailed_at`) and is not shown in the notification centre.
    in_app = models.BooleanField(_("shown in Kehu"), default=True)
    # An e-mail is due for this row until `emailed_at` is set (or it is found undeliverable).
    email_requested = models.BooleanField(_("e-mail requested"), default=False)

    objects = NotificationManager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The bell's unread count: one COUNT over (recipient, read_at IS NULL).
            models.Index(fields=["recipient", "read_at"], name="notif_recipient_read"),
            # The latest items of a user.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notif_recipient_latest"),
            # The e-mail sweep: the few rows whose e-mail is still due.
            models.Index(
                fields=["created_at"],
                condition=models.Q(email_requested=True, emailed_at__isnull=True),
                name="notif_email_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("notifications:open", args=[self.pk])

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """A user's choice of channels for one kind of notification (no row: the kind's defaults)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(_("kind"), max_length=64)
    in_app = models.BooleanField(_("in Kehu"), default=True)
    email = models.BooleanField(_("by e-mail"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notif_preference_user_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind}"
