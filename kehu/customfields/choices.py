from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    INTEGER = "integer", _("Integer")
    DECIMAL = "decimal", _("Decimal")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    BOOLEAN = "boolean", _("Yes / no")
    SINGLE_CHOICE = "single_choice", _("Single choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    URL = "url", _("URL")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")


CHOICE_TYPES = frozenset({FieldType.SINGLE_CHOICE, FieldType.MULTI_CHOICE})
# Types whose stored value is a string a validation pattern can be applied to.
PATTERN_TYPES = frozenset(
    {FieldType.TEXT, FieldType.LONG_TEXT, FieldType.URL, FieldType.EMAIL, FieldType.PHONE}
)
# Types that can be masked like text (other types are shown as empty when masked).
MASKABLE_TYPES = PATTERN_TYPES
# A field's type may change after values exist only within one of these groups (in the arrow's
# direction: an integer is a valid decimal, a decimal is not always an integer).
COMPATIBLE_TYPE_CHANGES = frozenset(
    {
        (FieldType.TEXT, FieldType.LONG_TEXT),
        (FieldType.INTEGER, FieldType.DECIMAL),
    }
)

# Badge colours offered for picklist items (Tabler's palette); a "#rrggbb" hex colour works too.
TABLER_COLORS = (
    "blue",
    "azure",
    "indigo",
    "purple",
    "pink",
    "red",
    "orange",
    "yellow",
    "lime",
    "green",
    "teal",
    "cyan",
    "gray",
)
