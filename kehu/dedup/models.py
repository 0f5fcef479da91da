"""Match keys (the index behind the collision check 撞单检查) and the collision policy per model."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import KeyKind, PolicyMode


class MatchKey(models.Model):
    """One normalised key of a record: its E.164 phone, canonical e-mail, company name key or tax
    number (``kehu.dedup.normalisers``). Derived data kept in step by ``kehu.dedup.services``
    (signals and explicit reindexing), rebuilt by ``manage.py dedup_rebuild_keys``. A look-up by
    ``(kind, value)`` finds every record sharing a key."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    kind = models.CharField(_("kind"), max_length=16, choices=KeyKind.choices)
    value = models.CharField(_("value"), max_length=255)

    class Meta:
        verbose_name = _("match key")
        verbose_name_plural = _("match keys")
        indexes = [models.Index(fields=["kind", "value"], name="dedup_matchkey_kind_value")]
        constraints = [
            # Also the index of "the keys of one record" (content_type, object_id).
            models.UniqueConstraint(
                fields=["content_type", "object_id", "kind", "value"], name="dedup_matchkey_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class CollisionPolicy(models.Model):
    """Per model (lead, account, contact): does a collision block the save or only warn? A model
    without a row warns."""

    model_label = models.CharField(_("record type"), max_length=100, unique=True)
    mode = models.CharField(
        _("when a record matches"), max_length=8, choices=PolicyMode.choices, default=PolicyMode.WARN
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("collision policy")
        verbose_name_plural = _("collision policies")
        ordering = ["model_label"]

    def __str__(self) -> str:
        return f"{self.model_label}: {self.mode}"
