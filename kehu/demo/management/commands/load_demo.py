"""`manage.py load_demo`: the demo company (departments, roles, users with password demo1234,
customers). Idempotent and cheap when loaded already; `make run` calls it on every start."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kehu.demo import data
from kehu.demo.loader import load_demo, stage_keys


class Command(BaseCommand):
    help = (
        "Load the demo company: departments, roles, users (password demo1234) and customers. "
        "Safe to run again: nothing is created twice. Refuses to run with DEBUG off unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off. Never do this on a production database: every demo "
            f"user can sign in with the published password {data.DEMO_PASSWORD!r}.",
        )
        parser.add_argument(
            "--refresh",
            action="store_true",
            help="Run stages that were loaded before again, re-creating demo records deleted since "
            "(existing records are never duplicated or changed).",
        )

        parser.add_argument(
            "--only",
            action="append",
            choices=stage_keys(),
            default=[],
            help="Load only this part of the demo company (repeatable; parts it needs must exist).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Refusing to load demo data: DEBUG is off, so this looks like a production database. "
                f"The demo users all have the published password {data.DEMO_PASSWORD!r}. "
                "Use --force only on a throw-away database."
            )
        if not settings.DEBUG:
            self.stderr.write(
                self.style.WARNING(f"DEBUG is off: loading demo users with password {data.DEMO_PASSWORD!r}.")
            )
        summary = load_demo(refresh=options["refresh"], only=options["only"])
        verbosity = options["verbosity"]
        if not summary.loaded:
            if verbosity >= 1:
                self.stdout.write("Demo data is loaded already; nothing to do.")
            self._not_yet(summary.unavailable, verbosity)
            return
        if verbosity >= 1:
            created = ", ".join(f"{n} {what}" for what, n in summary.created.items()) or "nothing new"
            self.stdout.write(
                self.style.SUCCESS(f"Demo data loaded ({', '.join(summary.loaded)}): {created}.")
            )
            self._not_yet(summary.unavailable, verbosity)
            self.stdout.write(f"Sign in with any of these users, password {data.DEMO_PASSWORD}:")
            for user in data.USERS:
                roles = ", ".join(user.roles)
                self.stdout.write(f"  {user.username:<10} {user.display_name}  {user.department} ({roles})")

    def _not_yet(self, unavailable: list[str], verbosity: int) -> None:
        if unavailable and verbosity >= 1:
            self.stdout.write(f"Not loaded (their apps are not installed yet): {', '.join(unavailable)}.")
