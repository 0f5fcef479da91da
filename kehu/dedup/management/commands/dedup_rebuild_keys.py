"""Rebuild the match keys of the collision check: ``manage.py dedup_rebuild_keys [--model app.model]``."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kehu.dedup import registry, services


class Command(BaseCommand):
    help = "Rebuild the match keys of the collision check (all registered models, or one with --model)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", help="app_label.model, e.g. customers.contact")

    def handle(self, *args: Any, **options: Any) -> None:
        model = options.get("model")
        if model and not registry.has_keys(model):
            known = ", ".join(s.label for s in registry.key_sources())
            raise CommandError(f"{model} has no match keys (registered: {known})")
        started = time.monotonic()
        last = [0.0]

        def progress(done: int, total: int | None = None, message: str = "") -> None:
            now = time.monotonic()
            if now - last[0] >= 2 or done == total:
                last[0] = now
                self.stdout.write(f"{message}: {done}/{total} ({now - started:.0f} s)")

        counts = services.dedup_rebuild(model=model, progress=progress)
        for label, n in counts.items():
            self.stdout.write(f"{label}: {n} keys added")
        self.stdout.write(self.style.SUCCESS(f"Match keys rebuilt in {time.monotonic() - started:.1f} s."))
