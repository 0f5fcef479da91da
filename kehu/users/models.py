from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.choices import Action, FieldMode, Scope
from kehu.core.models import TimeStampedModel
from kehu.core.permissions import RestrictedQuerySet

TIME_ZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz or tz == "UTC"]


class Department(TimeStampedModel):
    """A node of the organisation tree (部门). `path` is a materialized path ("0001.0004."), so
    "this department and below" is one indexed prefix query."""

    scope_owner_field = None
    scope_department_field = None

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    order = models.PositiveIntegerField(_("order"), default=0)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_departments",
    )
    is_active = models.BooleanField(pgettext_lazy("enabled", "active"), default=True)

    objects = models.Manager.from_queryset(RestrictedQuerySet)()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("users:department_list") + f"#department-{self.pk}"


class Role(TimeStampedModel):
    scope_owner_field = None
    scope_department_field = None

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    description = models.TextField(_("description"), blank=True)
    require_mfa = models.BooleanField(
        _("require two-factor authentication"),
        default=False,
        help_text=_("Users with this role must set up an authenticator app before they can work."),
    )
    is_admin = models.BooleanField(
        _("system administrator"),
        default=False,
        help_text=_("Holds every permission with scope All, including user and role management."),
    )

    objects = models.Manager.from_queryset(RestrictedQuerySet)()

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("users:role_detail", args=[self.pk])


class KehuUserManager(UserManager.from_queryset(RestrictedQuerySet)):  # type: ignore[misc]
    pass


class User(AbstractUser):
    scope_owner_field = "id"
    scope_department_field = "department"

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", "简体中文"
        EN = "en", "English"

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), blank=True, related_name="users")
    title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=Language.choices, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = KehuUserManager()  # type: ignore[misc]

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("users:user_detail", args=[self.pk])


class RolePermission(models.Model):
    """A role may do `action` on `model` within `scope` (own / department / department and below / all)."""

    role = models.ForeignKey(
        Role, verbose_name=_("role"), on_delete=models.CASCADE, related_name="permissions"
    )
    model = models.CharField(
        _("model"), max_length=100, help_text=_("app_label.model, e.g. customers.account")
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    scope = models.CharField(_("data scope"), max_length=24, choices=Scope.choices, default=Scope.OWN)

    class Meta:
        verbose_name = _("role permission")
        verbose_name_plural = _("role permissions")
        constraints = [
            models.UniqueConstraint(fields=["role", "model", "action"], name="users_roleperm_unique")
        ]
        ordering = ["role", "model", "action"]

    def __str__(self) -> str:
        return f"{self.role}: {self.action} {self.model} ({self.scope})"


class FieldPermission(models.Model):
    """For a role, a field of a model is hidden, masked (138****5678) or read-only."""

    role = models.ForeignKey(
        Role, verbose_name=_("role"), on_delete=models.CASCADE, related_name="field_permissions"
    )
    model = models.CharField(_("model"), max_length=100)
    field = models.CharField(_("field"), max_length=100)
    mode = models.CharField(_("mode"), max_length=16, choices=FieldMode.choices)

    class Meta:
        verbose_name = _("field permission")
        verbose_name_plural = _("field permissions")
        constraints = [
            models.UniqueConstraint(fields=["role", "model", "field"], name="users_fieldperm_unique")
        ]
        ordering = ["role", "model", "field"]

    def __str__(self) -> str:
        return f"{self.role}: {self.model}.{self.field} {self.mode}"


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 hash of the key is stored; the key is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        from django.utils import timezone

        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())


__all__ = ["ApiToken", "Department", "FieldMode", "FieldPermission", "Role", "RolePermission", "User"]
