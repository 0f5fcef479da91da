"""Pools (公海): unowned leads or accounts that members may claim, their rules and history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import TimeStampedModel
from kehu.core.permissions import RestrictedManager

from ..choices import PoolAction, PoolKind, RecycleReason


class Pool(TimeStampedModel):
    """A lead pool (线索池) or an account pool (客户公海) with its rules.

    Members (users, and departments with their subtree) may see the records in the pool and claim
    them; administrators manage the pool and assign from it. Every rule is optional (blank: no limit).
    """

    detail_url_name = "sales:pool_detail"  # get_absolute_url (kehu.core.tables.detail_url)

    # Pools are configuration: who may see a pool is decided by membership (selectors), not by
    # owner/department scopes.
    scope_owner_field = None
    scope_department_field = None

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("holds"), max_length=16, choices=PoolKind.choices, default=PoolKind.LEAD)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(pgettext_lazy("enabled", "active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    member_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("member users"), blank=True, related_name="sales_pools"
    )
    member_departments = models.ManyToManyField(
        "users.Department",
        verbose_name=_("member departments"),
        blank=True,
        related_name="sales_pools",
        help_text=_("Users of these departments and of the departments below them are members."),
    )
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("administrators"),
        blank=True,
        related_name="administered_pools",
    )

    # --- rules (blank: no limit) ---
    max_claims_per_day = models.PositiveIntegerField(
        _("claims per user per day"), null=True, blank=True, help_text=_("Blank: no limit.")
    )
    max_owned = models.PositiveIntegerField(
        _("records a user may own at once"),
        null=True,
        blank=True,
        help_text=_(
            "Open leads (or accounts) of this type a user may own, from any source. Blank: no limit."
        ),
    )
    protection_days = models.PositiveIntegerField(
        _("protection period (days)"),
        null=True,
        blank=True,
        help_text=_("After a claim, the record is not recycled for this many days."),
    )
    recycle_no_follow_up_days = models.PositiveIntegerField(
        _("recycle after days without follow-up"), null=True, blank=True
    )
    recycle_not_converted_days = models.PositiveIntegerField(
        _("recycle after days not converted / won"), null=True, blank=True
    )
    recycle_warning_days = models.PositiveIntegerField(_("warn days before recycling"), null=True, blank=True)
    cooling_off_days = models.PositiveIntegerField(
        _("cooling-off period (days)"),
        null=True,
        blank=True,
        help_text=_(
            "The previous owner may claim a returned or recycled record again only after this many days."
        ),
    )
    return_reason_required = models.BooleanField(_("a return needs a reason"), default=False)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("pool")
        verbose_name_plural = _("pools")
        ordering = ["kind", "order", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse(self.detail_url_name, args=[self.pk])


class PoolItem(models.Model):
    """The pool state of one lead or account: which pool it belongs to (its home pool, where it is
    recycled to), whether it is in the pool now, and when it was claimed (protection, recycling).

    Exactly one of `lead` and `account` is set. A record in the pool has no owner."""

    pool = models.ForeignKey(Pool, verbose_name=_("pool"), on_delete=models.PROTECT, related_name="items")
    lead = models.OneToOneField(
        "sales.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="pool_item"
    )
    account = models.OneToOneField(
        "customers.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="pool_item"
    )
    in_pool = models.BooleanField(_("in the pool"), default=True, db_index=True)
    entered_at = models.DateTimeField(_("put in pool"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    protected_until = models.DateTimeField(_("protected until"), null=True, blank=True)
    # The recycling warning sent for the current ownership (cleared on every claim/assign).
    warned_at = models.DateTimeField(_("recycling warning sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("pool record")
        verbose_name_plural = _("pool records")
        constraints = [
            models.CheckConstraint(
                condition=(Q(lead__isnull=False) & Q(account__isnull=True))
                | (Q(lead__isnull=True) & Q(account__isnull=False)),
                name="sales_poolitem_one_record",
            )
        ]
        indexes = [models.Index(fields=["pool", "in_pool", "-id"], name="sales_poolitem_pool_in")]

    def __str__(self) -> str:
        return str(self.lead or self.account)


class PoolHistory(models.Model):
    """Every move between a pool and an owner (append-only)."""

    pool = models.ForeignKey(Pool, verbose_name=_("pool"), on_delete=models.PROTECT, related_name="history")
    lead = models.ForeignKey(
        "sales.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="pool_history"
    )
    account = models.ForeignKey(
        "customers.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="pool_history"
    )
    action = models.CharField(_("action"), max_length=16, choices=PoolAction.choices)
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("previous owner", "from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("new owner", "to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    to_pool = models.ForeignKey(
        Pool, verbose_name=_("to pool"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    recycle_reason = models.CharField(
        _("recycled because"), max_length=32, choices=RecycleReason.choices, blank=True
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("pool history entry")
        verbose_name_plural = _("pool history")
        ordering = ["-at", "-id"]
        indexes = [
            # "claims by this user in this pool today" and the cooling-off look-ups
            models.Index(fields=["pool", "by", "action", "at"], name="sales_poolhist_claims"),
            models.Index(fields=["lead", "-at"], name="sales_poolhist_lead"),
            models.Index(fields=["account", "-at"], name="sales_poolhist_account"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.lead or self.account}"


class PoolClaimCounter(models.Model):
    """Claims per user per pool per day: the row is locked (`select_for_update`) by every claim, so
    parallel claims cannot exceed the daily limit."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    claims = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pool", "user", "day"], name="sales_poolclaimcounter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.pool_id} {self.day}: {self.claims}"
