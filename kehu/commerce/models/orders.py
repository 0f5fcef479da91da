"""Orders (订单): statuses as data, lines kept exactly as sold."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import OwnedModel, TimeStampedModel
from kehu.core.permissions import RestrictedManager
from kehu.core.text import bilingual_name
from kehu.customfields.models import CustomFieldsModel

from ..choices import OrderStatusKind
from .base import DocumentTotals, LineBase


class OrderStatus(TimeStampedModel):
    """A status an order can be in, and the statuses it may move to (pending → confirmed → shipped →
    completed; cancelled), edited by admins like pipeline stages."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=OrderStatusKind.choices, default=OrderStatusKind.OPEN
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    is_initial = models.BooleanField(_("initial status"), default=False)
    next_statuses = models.ManyToManyField(
        "self", verbose_name=_("may move to"), symmetrical=False, blank=True, related_name="+"
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("order status")
        verbose_name_plural = _("order statuses")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return bilingual_name(self.name, self.name_en)


class Order(OwnedModel, CustomFieldsModel, DocumentTotals):
    detail_url_name = "commerce:order_detail"

    number = models.CharField(_("number"), max_length=40, unique=True)
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="orders"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    contract = models.ForeignKey(
        "commerce.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    quote = models.ForeignKey(
        "commerce.Quote",
        verbose_name=_("quote"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    status = models.ForeignKey(
        OrderStatus, verbose_name=_("status"), on_delete=models.PROTECT, related_name="orders"
    )
    ordered_on = models.DateField(_("order date"), db_index=True)
    delivery_address = models.TextField(_("delivery address"), blank=True)
    shipping_notes = models.TextField(_("shipping notes"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)

    class Meta:
        # ("order" alone is a sort order elsewhere: 顺序; a sales order is 订单)
        verbose_name = pgettext_lazy("sales document", "order")
        verbose_name_plural = pgettext_lazy("sales document", "orders")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "-id"], name="commerce_order_owner"),
            models.Index(fields=["department", "-id"], name="commerce_order_dept"),
            models.Index(fields=["account", "-ordered_on"], name="commerce_order_account"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse(self.detail_url_name, args=[self.pk])


class OrderLine(LineBase):
    order = models.ForeignKey(
        Order,
        verbose_name=pgettext_lazy("sales document", "order"),
        on_delete=models.CASCADE,
        related_name="lines",
    )

    class Meta(LineBase.Meta):
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = LineBase.line_constraints("commerce_orderline")
        indexes = [models.Index(fields=["product", "order"], name="commerce_orderline_product")]
