from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DemoStage(models.Model):
    """A part of the demo company that was loaded ("org", "customers", ...), with the version of
    the loader that loaded it. Once a stage is recorded, `load_demo` leaves it alone, so demo
    records a user deleted or changed stay that way; `load_demo --refresh` fills gaps again."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    version = models.PositiveIntegerField(_("version"))
    loaded_at = models.DateTimeField(_("loaded at"), auto_now=True)

    class Meta:
        verbose_name = _("demo data stage")
        verbose_name_plural = _("demo data stages")

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"
