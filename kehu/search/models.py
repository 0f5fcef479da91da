"""The search index: one row per indexed record (see ``tokens`` for what the tokens are).

No owner or department columns: results are restricted by joining back to the record's own table
through ``Model.objects.restrict(user, "view")``, so a permission change never needs a reindex.
The full-text structures are vendor-specific and live beside this table (migration 0002):
PostgreSQL a generated ``tsvector`` column ``vector`` with a GIN index, SQLite an FTS5 table
``search_fts`` kept in step by triggers.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchEntry(models.Model):
    id = models.BigAutoField(primary_key=True)
    model = models.CharField(_("model"), max_length=100)  # "app_label.model"
    object_id = models.BigIntegerField(_("object ID"))
    name_tokens = models.TextField(_("name tokens"), blank=True)
    tokens = models.TextField(_("tokens"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("search index entry")
        verbose_name_plural = _("search index entries")
        constraints = [
            models.UniqueConstraint(fields=["model", "object_id"], name="search_entry_model_object"),
        ]

    def __str__(self) -> str:
        return f"{self.model}:{self.object_id}"
