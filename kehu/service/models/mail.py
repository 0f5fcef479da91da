"""Support mailboxes (IMAP polling) and the log of every received e-mail, kept whether it became a
ticket, was added to one, was ignored (auto-reply, bounce) or quarantined with a reason."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import TimeStampedModel
from kehu.core.permissions import RestrictedManager

from ..choices import InboundStatus


class Mailbox(TimeStampedModel):
    """A support address (support@…) whose IMAP inbox is polled; its mail lands in `queue`.
    The password is kept in the database (admins only); prefer an app password."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    email = models.EmailField(_("e-mail address"), unique=True)
    queue = models.ForeignKey(
        "service.Queue",
        verbose_name=_("queue"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    imap_host = models.CharField(_("IMAP host"), max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_ssl = models.BooleanField(_("SSL/TLS"), default=True)
    imap_starttls = models.BooleanField(_("STARTTLS"), default=False)
    imap_username = models.CharField(_("user name"), max_length=255, blank=True)
    imap_password = models.CharField(_("password"), max_length=255, blank=True)
    imap_folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    # Where processed mail goes on the server (empty: flagged \Seen and left in place).
    processed_folder = models.CharField(_("move processed mail to"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class InboundEmail(models.Model):
    """One received e-mail and what became of it. The raw message is kept (quarantined mail can be
    inspected and released); (mailbox, message id) is unique, so a re-poll never doubles a ticket."""

    mailbox = models.ForeignKey(
        Mailbox,
        verbose_name=_("mailbox"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    # sha256 of the raw bytes: the identity of a message that has no Message-ID.
    digest = models.CharField(_("digest"), max_length=64)
    from_email = models.CharField(pgettext_lazy("e-mail sender", "from"), max_length=255, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    raw = models.FileField(_("raw message"), upload_to="inbound/%Y/%m/")
    size = models.PositiveBigIntegerField(_("size"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=InboundStatus.choices, default=InboundStatus.PENDING
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    ticket = models.ForeignKey(
        "service.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_emails",
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("received e-mail")
        verbose_name_plural = _("received e-mails")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "digest"], name="service_inbound_digest_unique"),
        ]
        indexes = [
            models.Index(fields=["message_id"], name="service_inbound_message_id"),
            models.Index(fields=["status", "-id"], name="service_inbound_status"),
        ]

    def __str__(self) -> str:
        return f"{self.from_email} {self.subject}"

    @property
    def is_quarantined(self) -> bool:
        return self.status == InboundStatus.QUARANTINED
