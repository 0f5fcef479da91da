from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TagColour(models.TextChoices):
    """The fixed palette: Tabler's colours (badge classes ``bg-<colour>-lt``)."""

    BLUE = "blue", pgettext_lazy("colour", "Blue")
    AZURE = "azure", pgettext_lazy("colour", "Azure")
    INDIGO = "indigo", pgettext_lazy("colour", "Indigo")
    PURPLE = "purple", pgettext_lazy("colour", "Purple")
    PINK = "pink", pgettext_lazy("colour", "Pink")
    RED = "red", pgettext_lazy("colour", "Red")
    ORANGE = "orange", pgettext_lazy("colour", "Orange")
    YELLOW = "yellow", pgettext_lazy("colour", "Yellow")
    LIME = "lime", pgettext_lazy("colour", "Lime")
    GREEN = "green", pgettext_lazy("colour", "Green")
    TEAL = "teal", pgettext_lazy("colour", "Teal")
    CYAN = "cyan", pgettext_lazy("colour", "Cyan")
    GRAY = "gray", pgettext_lazy("colour", "Gray")


class TagMatch(models.TextChoices):
    """How a tag filter with several tags matches."""

    ANY = "any", _("Any of the tags")
    ALL = "all", _("All of the tags")


# The "no tags" choice of the tag filter.
NO_TAGS = "none"
