"""Tickets (工单): types and statuses as data, queues (服务组), the ticket, its conversation,
attachments, status history, watchers, after-sales order lines, canned responses.

The assignee is the ticket's owner for data scopes (`scope_owner_field`); queue members see their
queues' tickets and account owners see their accounts' tickets read-only through scope extensions
(`kehu.service.selectors.tickets`)."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import TimeStampedModel
from kehu.core.permissions import RestrictedManager
from kehu.core.text import bilingual_name
from kehu.customfields.models import CustomFieldsModel

from ..choices import (
    AfterSalesAction,
    AssignmentMethod,
    DeliveryStatus,
    MessageKind,
    TicketChannel,
    TicketKind,
    TicketPriority,
    TicketState,
)


def _user_fk(verbose: Any, related_name: str = "+", *, null: bool = True) -> models.ForeignKey[Any, Any]:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose,
        null=null,
        blank=null,
        on_delete=models.SET_NULL if null else models.PROTECT,
        related_name=related_name,
    )


def new_public_key() -> str:
    return secrets.token_urlsafe(24)


class TicketStatus(TimeStampedModel):
    """A status a ticket can be in. Its `state` says what it means (waiting pauses SLA timers,
    resolved stops resolution); `next_statuses` is the flow (empty: any status)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=TicketState.choices)
    position = models.PositiveIntegerField(_("position"), default=0)
    colour = models.CharField(_("colour"), max_length=16, default="secondary")
    is_initial = models.BooleanField(_("initial status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    next_statuses = models.ManyToManyField(
        "self", verbose_name=_("may move to"), symmetrical=False, blank=True, related_name="+"
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("ticket status")
        verbose_name_plural = _("ticket statuses")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return bilingual_name(self.name, self.name_en)


class TicketType(TimeStampedModel):
    """A kind of ticket (service request, complaint, inquiry, after-sales return/exchange/repair)
    with its own fields (custom fields shown and required) and status flow (`statuses`, empty: all)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=TicketKind.choices, default=TicketKind.REQUEST)
    after_sales_action = models.CharField(
        _("after-sales action"), max_length=16, choices=AfterSalesAction.choices, blank=True
    )
    requires_order = models.BooleanField(_("requires an order"), default=False)
    # Custom field names (customfields, model service.ticket) this type shows, and those it requires.
    fields = models.JSONField(_("fields"), default=list, blank=True)
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)
    statuses = models.ManyToManyField(
        TicketStatus, verbose_name=_("statuses"), blank=True, related_name="ticket_types"
    )
    default_priority = models.PositiveSmallIntegerField(
        _("default priority"), choices=TicketPriority.choices, default=TicketPriority.NORMAL
    )
    default_queue = models.ForeignKey(
        "service.Queue",
        verbose_name=_("default queue"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("ticket type")
        verbose_name_plural = _("ticket types")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return bilingual_name(self.name, self.name_en)


class TicketCategory(TimeStampedModel):
    """What a ticket is about (billing, installation, quality ...), a two-level tree."""

    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        own = bilingual_name(self.name, self.name_en)
        return f"{self.parent} / {own}" if self.parent_id and self.parent else own


class Queue(TimeStampedModel):
    """A team that handles tickets (服务组): members, how new tickets are assigned among them, the
    manager escalations notify, the calendar its SLA timers count in."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    email = models.EmailField(
        _("e-mail address"), blank=True, help_text=_("Mail to this address lands in the queue.")
    )
    assignment = models.CharField(
        _("assignment"), max_length=16, choices=AssignmentMethod.choices, default=AssignmentMethod.MANUAL
    )
    manager = _user_fk(_("manager"))
    calendar = models.ForeignKey(
        "service.BusinessCalendar",
        verbose_name=_("business calendar"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty: the default calendar."),
    )
    members: models.ManyToManyField[Any, QueueMember] = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        through="QueueMember",
        related_name="ticket_queues",
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # Round-robin cursor: the member assigned last (locked with the queue row when assigning).
    last_assigned = _user_fk(_("last assigned"))

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return bilingual_name(self.name, self.name_en)

    def get_absolute_url(self) -> str:
        return reverse("service:queue_detail", args=[self.pk])


class QueueMember(models.Model):
    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="queue_memberships",
    )
    # Takes new tickets by automatic assignment (off: on leave, or a supervisor who only watches).
    is_available = models.BooleanField(_("takes new tickets"), default=True)
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("queue member")
        verbose_name_plural = _("queue members")
        ordering = ["queue", "id"]
        constraints = [models.UniqueConstraint(fields=["queue", "user"], name="service_queue_member_unique")]

    def __str__(self) -> str:
        return f"{self.queue} · {self.user}"


class Ticket(TimeStampedModel, CustomFieldsModel):
    """A service request, complaint, inquiry or after-sales case (工单)."""

    detail_url_name = "service:ticket_detail"
    scope_owner_field = "assignee"
    scope_department_field = "department"

    number = models.CharField(_("number"), max_length=40, unique=True)
    subject = models.CharField(_("subject"), max_length=255)
    # Sanitised HTML (kehu.core.richtext.sanitize_html) and its plain text (search, previews).
    description = models.TextField(_("description"), blank=True)
    description_text = models.TextField(_("description (text)"), blank=True)
    # (type, status, account, queue, SLA policy: no index of their own — a few values each, or the
    # first column of an index below; every index costs each write, and the SLA sweep rewrites
    # every due ticket. contact, product, order, merged/split: partial indexes, mostly empty.)
    type = models.ForeignKey(
        TicketType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    status = models.ForeignKey(
        TicketStatus,
        verbose_name=_("status"),
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,
    )
    # The status's state, copied on every move: lists, SLA sweeps and reports filter on it alone.
    state = models.CharField(_("state"), max_length=16, choices=TicketState.choices, default=TicketState.NEW)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=TicketPriority.choices, default=TicketPriority.NORMAL
    )
    channel = models.CharField(
        _("channel"), max_length=16, choices=TicketChannel.choices, default=TicketChannel.PHONE
    )
    category = models.ForeignKey(
        TicketCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        db_index=False,
    )
    # Who asked, as they wrote it (e-mail and web form senders not yet matched to a contact).
    requester_name = models.CharField(_("requester name"), max_length=200, blank=True)
    requester_email = models.EmailField(_("requester e-mail"), blank=True)
    requester_phone = models.CharField(_("requester phone"), max_length=32, blank=True)
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        db_index=False,
    )
    order = models.ForeignKey(
        "commerce.Order",
        verbose_name=pgettext_lazy("sales document", "order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        db_index=False,
    )
    queue = models.ForeignKey(
        Queue,
        verbose_name=_("queue"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # The assignee's department at assignment (data scopes "department" and below).
    department = models.ForeignKey(
        "users.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    watchers: models.ManyToManyField[Any, TicketWatcher] = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("watchers"),
        through="TicketWatcher",
        related_name="watched_tickets",
        blank=True,
    )
    created_by = _user_fk(_("created by"))
    version = models.PositiveIntegerField(_("version"), default=1)

    # --- SLA (kehu.service.sla): targets from the policy, due times in business time -----------
    sla_policy = models.ForeignKey(
        "service.SLAPolicy",
        verbose_name=_("SLA policy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        db_index=False,
    )
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    next_response_due = models.DateTimeField(_("next response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    # While waiting on the customer the timers stop; on resuming, the due times move by the
    # business time spent waiting.
    sla_paused_at = models.DateTimeField(_("SLA paused at"), null=True, blank=True)
    first_response_breached = models.BooleanField(_("first response breached"), default=False)
    next_response_breached = models.BooleanField(_("next response breached"), default=False)
    resolution_breached = models.BooleanField(_("resolution breached"), default=False)
    # The earliest due time still running (the sweep's index); null when no timer runs.
    sla_next_check = models.DateTimeField(_("next SLA check"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    # --- milestones -------------------------------------------------------------------------------
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    last_customer_message_at = models.DateTimeField(_("last customer message"), null=True, blank=True)
    last_agent_message_at = models.DateTimeField(_("last reply"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)

    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_tickets",
        db_index=False,
    )
    split_from = models.ForeignKey(
        "self",
        verbose_name=_("split from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="split_tickets",
        db_index=False,
    )
    # The secret in the customer's signed status-page link; a new key revokes old links.
    public_key = models.CharField(_("public key"), max_length=64, default=new_public_key, editable=False)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["assignee", "-id"], name="service_ticket_assignee"),
            models.Index(fields=["department", "-id"], name="service_ticket_department"),
            models.Index(fields=["queue", "state", "-id"], name="service_ticket_queue_state"),
            models.Index(fields=["state", "-id"], name="service_ticket_state"),
            models.Index(fields=["account", "-id"], name="service_ticket_account"),
            models.Index(
                fields=["sla_next_check"],
                name="service_ticket_sla_check",
                condition=Q(sla_next_check__isnull=False),
            ),
            models.Index(fields=["requester_email"], name="service_ticket_requester"),
            *(
                models.Index(
                    fields=[name], name=f"service_ticket_{name}", condition=Q(**{f"{name}__isnull": False})
                )
                for name in ("contact", "product", "order", "merged_into", "split_from")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse(self.detail_url_name, args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state not in (TicketState.RESOLVED, TicketState.CLOSED)


class TicketWatcher(models.Model):
    """Someone told about a ticket's changes without handling it."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="watcher_links"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket watcher")
        verbose_name_plural = _("ticket watchers")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="service_ticket_watcher_unique")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} · {self.user_id}"


class TicketOrderLine(models.Model):
    """An order line an after-sales ticket concerns, with the quantity returned/exchanged/repaired."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="order_lines"
    )
    order_line = models.ForeignKey(
        "commerce.OrderLine",
        verbose_name=_("order line"),
        on_delete=models.PROTECT,
        related_name="ticket_links",
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    action = models.CharField(_("action"), max_length=16, choices=AfterSalesAction.choices, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("ticket order line")
        verbose_name_plural = _("ticket order lines")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "order_line"], name="service_ticket_order_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="service_ticket_order_line_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} · {self.order_line_id} × {self.quantity}"


class TicketStatusHistory(models.Model):
    """Every status move of a ticket (SLA and velocity reports read this, never the audit log)."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="status_history"
    )
    from_status = models.ForeignKey(
        TicketStatus,
        verbose_name=pgettext_lazy("status change", "from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_status = models.ForeignKey(
        TicketStatus,
        verbose_name=pgettext_lazy("status change", "to"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    from_state = models.CharField(_("from state"), max_length=16, choices=TicketState.choices, blank=True)
    to_state = models.CharField(_("to state"), max_length=16, choices=TicketState.choices)
    changed_by = _user_fk(_("changed by"))
    changed_at = models.DateTimeField(_("changed at"), db_index=True)
    # Seconds (wall clock) the ticket spent in `from_status`.
    seconds_in_previous = models.PositiveBigIntegerField(_("time in previous status"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("ticket status change")
        verbose_name_plural = _("ticket status history")
        ordering = ["ticket", "changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.from_state} → {self.to_state}"


class TicketMessage(models.Model):
    """One entry of a ticket's conversation: a customer message, an agent's reply (e-mailed to the
    customer when the ticket has an address), an internal note or a system line."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MessageKind.choices)
    author = _user_fk(_("author"))
    from_name = models.CharField(_("from (name)"), max_length=200, blank=True)
    from_email = models.EmailField(_("from (e-mail)"), blank=True)
    to = models.TextField(pgettext_lazy("e-mail recipient", "to"), blank=True)
    cc = models.TextField(_("cc"), blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("body"), blank=True)  # sanitised HTML
    body_text = models.TextField(_("body (text)"), blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=TicketChannel.choices, blank=True)
    # E-mail threading: this message's Message-ID and what it answered.
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=255, blank=True)
    references = models.TextField(_("References"), blank=True)
    delivery = models.CharField(
        _("delivery"), max_length=8, choices=DeliveryStatus.choices, blank=True, default=""
    )
    delivery_error = models.CharField(_("delivery error"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    articles = models.ManyToManyField(
        "service.Article",
        verbose_name=_("knowledge base articles"),
        blank=True,
        related_name="ticket_messages",
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        ordering = ["ticket", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_public(self) -> bool:
        return self.kind in (MessageKind.CUSTOMER, MessageKind.REPLY)


class TicketAttachment(models.Model):
    """A file on a ticket (uploaded, or from an e-mail); limits: KEHU_ATTACHMENT_TYPES/MAX_BYTES."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="attachments"
    )
    message = models.ForeignKey(
        TicketMessage,
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to="tickets/%Y/%m/")
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    # Inline images of an e-mail body (cid:...), shown in the body rather than as attachments.
    content_id = models.CharField(_("content id"), max_length=255, blank=True)
    is_public = models.BooleanField(_("visible to the customer"), default=True)
    uploaded_by = _user_fk(_("uploaded by"))
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket attachment")
        verbose_name_plural = _("ticket attachments")
        ordering = ["ticket", "id"]

    def __str__(self) -> str:
        return self.name


class CannedResponse(TimeStampedModel):
    """A prepared answer (快捷回复) agents insert into replies: personal, for one queue, or for all.
    Placeholders such as {{ ticket.number }} and {{ contact.name }} are filled on insertion."""

    name = models.CharField(_("name"), max_length=100)
    body = models.TextField(_("body"))  # sanitised HTML
    queue = models.ForeignKey(
        Queue,
        verbose_name=_("queue"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
    )
    owner = _user_fk(_("owner"))
    is_shared = models.BooleanField(_("shared"), default=True, help_text=_("Off: only its owner uses it."))
    usage_count = models.PositiveIntegerField(_("times used"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
