"""Poll the support mailboxes over IMAP once (what the beat task does every minute)::

manage.py poll_mailboxes [--mailbox support@example.com]
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Fetch new e-mail from the active support mailboxes (IMAP) into the service tickets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", help="only this mailbox (its e-mail address or id)")

    def handle(self, *args: Any, **options: Any) -> None:
        from kehu.service.models import Mailbox
        from kehu.service.services.mail import mailbox_poll

        mailboxes = Mailbox.objects.filter(is_active=True).exclude(imap_host="").order_by("id")
        wanted = (options.get("mailbox") or "").strip()
        if wanted:
            lookup: dict[str, Any] = {"pk": int(wanted)} if wanted.isdigit() else {"email__iexact": wanted}
            mailboxes = Mailbox.objects.filter(**lookup)
            if not mailboxes.exists():
                raise CommandError(f"no mailbox {wanted!r}")
        failed = 0
        for mailbox in mailboxes:
            result = mailbox_poll(mailbox=mailbox)
            counts = ", ".join(f"{k} {v}" for k, v in sorted(result.statuses.items())) or "nothing new"
            line = f"{mailbox.email}: {result.fetched} fetched ({counts})"
            if result.error:
                failed += 1
                self.stderr.write(f"{line}; error: {result.error}")
            else:
                self.stdout.write(line)
        if failed:
            raise CommandError(f"{failed} mailbox(es) failed")
