"""Rebuild the global search index: ``manage.py search_rebuild [--model customers.contact]``."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kehu.search import registry, services


class Command(BaseCommand):
    help = "Rebuild the global search index (all indexed models, or one with --model)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", help="app_label.model, e.g. customers.contact")

    def handle(self, *args: Any, **options: Any) -> None:
        model = options.get("model")
        if model and not registry.is_indexed(model):
            known = ", ".join(e.label for e in registry.indexed_models())
            raise CommandError(f"{model} is not indexed (indexed: {known})")
        started = time.monotonic()
        last = [0.0]

        def progress(done: int, total: int | None = None, message: str = "") -> None:
            now = time.monotonic()
            if now - last[0] >= 2 or done == total:
                last[0] = now
                self.stdout.write(f"{message}: {done}/{total} ({now - started:.0f} s)")

        counts = services.search_rebuild(model=model, progress=progress)
        for label, n in counts.items():
            self.stdout.write(f"{label}: {n} entries")
        self.stdout.write(self.style.SUCCESS(f"Search index rebuilt in {time.monotonic() - started:.1f} s."))
