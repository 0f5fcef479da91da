"""Writes of the quality app: the daily snapshot of every measured model (idempotent per day)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from . import selectors
from .models import QualitySnapshot
from .registry import quality_models


def quality_snapshot_take(
    *, date: dt.date | None = None, now: dt.datetime | None = None
) -> list[QualitySnapshot]:
    """Store today's figures of every registered model over the whole company. Running it again
    the same day replaces that day's rows (unique (date, model)); safe to retry."""
    now = now or timezone.now()
    date = date or timezone.localdate(now)
    out = []
    for entry in quality_models():
        figures = selectors.figures(entry, entry.model._default_manager.all(), now=now)
        with transaction.atomic():
            snapshot, _created = QualitySnapshot.objects.update_or_create(
                date=date, model=entry.label, defaults={"figures": figures}
            )
        out.append(snapshot)
    return out
