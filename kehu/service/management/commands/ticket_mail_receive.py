"""Receive one e-mail from standard input, as an MTA pipe delivers it (Postfix ``pipe``, Exim
``pipe`` transport, procmail, fetchmail's ``--mda``)::

    manage.py ticket_mail_receive --mailbox support@example.com < message.eml

The message goes through the same service as the IMAP poller (`inbound_email_receive`): it creates
or threads into a ticket, is ignored (auto-reply, bounce) or quarantined. Exit status 0 whenever
the message was stored (whatever became of it), 75 (EX_TEMPFAIL: the MTA retries later) when it
could not be stored, 64 (EX_USAGE) for an unknown mailbox."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

EX_USAGE = 64
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Receive one RFC 822 e-mail from standard input into the service tickets."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--mailbox",
            help="the mailbox it was sent to: its e-mail address or id (its queue gets the ticket)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from kehu.service.models import Mailbox
        from kehu.service.services.mail import inbound_email_receive, reason_text

        mailbox = None
        wanted = (options.get("mailbox") or "").strip()
        if wanted:
            lookup: dict[str, Any] = {"pk": int(wanted)} if wanted.isdigit() else {"email__iexact": wanted}
            mailbox = Mailbox.objects.filter(**lookup).first()
            if mailbox is None:
                raise CommandError(f"no mailbox {wanted!r}", returncode=EX_USAGE)
        stream = options.get("stdin") or sys.stdin.buffer
        raw = stream.read()
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            inbound = inbound_email_receive(raw=raw, mailbox=mailbox)
        except Exception as exc:
            raise CommandError(f"could not store the message: {exc}", returncode=EX_TEMPFAIL) from exc
        line = f"{inbound.status} #{inbound.pk}"
        if inbound.ticket_id and inbound.ticket is not None:
            line += f" {inbound.ticket.number}"
        if inbound.reason:
            line += f": {reason_text(inbound.reason)}"
        self.stdout.write(line)
