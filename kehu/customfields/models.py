from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomFieldsModel(models.Model):
    """Mixin for customizable models: admin-defined field values live in one JSON column.

    Definitions (CustomField) generate form fields, filters, API fields, import and report columns.
    """

    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        abstract = True
