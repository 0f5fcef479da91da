"""Match keys (the index behind the collision check 撞单检查) and the collision policy per model."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import GroupStatus, KeyKind, MatchLevel, PolicyMode


class MatchKey(models.Model):
    """One normalised key of a record: its E.164 phone, canonical e-mail, company name key or tax
    number (``kehu.dedup.normalisers``). Derived data kept in step by ``kehu.dedup.services``
    (signals and explicit reindexing), rebuilt by ``manage.py dedup_rebuild_keys``. A look-up by
    ``(kind, value)`` finds every record sharing a key."""

    # db_index off: the unique (content_type, object_id, kind, value) index starts with it
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+", db_index=False)
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


class MatchRule(models.Model):
    """The duplicate rule of one record type (admin-editable): blocking keys, compared fields with
    their method, threshold and weight, and the "possible" and "certain" scores
    (``kehu.dedup.matching.MatchRule`` as JSON). A type without a row uses the shipped default."""

    model_label = models.CharField(_("record type"), max_length=100, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    rule = models.JSONField(_("rule"), default=dict)
    auto_merge = models.BooleanField(
        _("merge certain duplicates automatically"),
        default=False,
        help_text=_("Groups above the certain score are merged by the scheduled scan, newest record kept."),
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
        verbose_name = _("match rule")
        verbose_name_plural = _("match rules")
        ordering = ["model_label"]

    def __str__(self) -> str:
        return self.model_label


class DuplicateGroup(models.Model):
    """Records of one type a scan found to be the same customer, with their best pair score; a
    review queue entry until someone merges them or says they are not duplicates."""

    model_label = models.CharField(_("record type"), max_length=100)
    status = models.CharField(
        _("status"), max_length=10, choices=GroupStatus.choices, default=GroupStatus.OPEN
    )
    level = models.CharField(_("level"), max_length=10, choices=MatchLevel.choices)
    score = models.FloatField(_("score"))
    # the members' ids in order, to find a group again in the next scan (and not duplicate it)
    key = models.CharField(_("members key"), max_length=255)
    scan = models.ForeignKey(
        "core.Job", verbose_name=_("scan"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("found"), auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("duplicate group")
        verbose_name_plural = _("duplicate groups")
        ordering = ["-score", "-id"]
        indexes = [models.Index(fields=["model_label", "status", "-score"], name="dedup_group_queue")]
        constraints = [
            models.UniqueConstraint(
                fields=["model_label", "key"],
                condition=models.Q(status="open"),
                name="dedup_group_open_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_label} {self.key}"


class DuplicateMember(models.Model):
    """One record of a group, with the pairs' reasons that tied it in (field, method, similarity)."""

    group = models.ForeignKey(
        DuplicateGroup,
        verbose_name=pgettext_lazy("duplicates", "group"),
        on_delete=models.CASCADE,
        related_name="members",
    )
    object_id = models.PositiveBigIntegerField(_("record"))
    score = models.FloatField(_("score"), default=0)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)

    class Meta:
        verbose_name = _("duplicate group member")
        verbose_name_plural = _("duplicate group members")
        ordering = ["group", "object_id"]
        constraints = [models.UniqueConstraint(fields=["group", "object_id"], name="dedup_member_unique")]
        indexes = [models.Index(fields=["object_id"], name="dedup_member_object")]

    def __str__(self) -> str:
        return f"{self.group_id}: {self.object_id}"


class NotDuplicate(models.Model):
    """Two records someone said are different customers: never proposed together again."""

    model_label = models.CharField(_("record type"), max_length=100)
    low_id = models.PositiveBigIntegerField(_("record"))
    high_id = models.PositiveBigIntegerField(_("other record"))
    created_at = models.DateTimeField(_("marked"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("not a duplicate")
        verbose_name_plural = _("not duplicates")
        constraints = [
            models.UniqueConstraint(fields=["model_label", "low_id", "high_id"], name="dedup_notdup_pair"),
            models.CheckConstraint(
                condition=models.Q(low_id__lt=models.F("high_id")), name="dedup_notdup_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_label} {self.low_id}≠{self.high_id}"


class MergedRecord(models.Model):
    """A record merged into another: its id (old links lead to the survivor) and its values at
    the merge, for the audit trail."""

    model_label = models.CharField(_("record type"), max_length=100)
    old_id = models.PositiveBigIntegerField(_("merged record"))
    into_id = models.PositiveBigIntegerField(_("kept record"))
    data = models.JSONField(_("values at the merge"), default=dict, blank=True)
    merged_at = models.DateTimeField(_("merged"), auto_now_add=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("merged record")
        verbose_name_plural = _("merged records")
        ordering = ["-merged_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["model_label", "old_id"], name="dedup_merged_old")]
        indexes = [models.Index(fields=["model_label", "into_id"], name="dedup_merged_into")]

    def __str__(self) -> str:
        return f"{self.model_label} {self.old_id}→{self.into_id}"


class DuplicateStat(models.Model):
    """The duplicate rate of a record type on a day (after each scan): the data-quality trend."""

    model_label = models.CharField(_("record type"), max_length=100)
    day = models.DateField(_("day"))
    records = models.PositiveBigIntegerField(_("records"))
    duplicates = models.PositiveBigIntegerField(_("records in open groups"))
    groups = models.PositiveIntegerField(_("open groups"))

    class Meta:
        verbose_name = _("duplicate statistic")
        verbose_name_plural = _("duplicate statistics")
        ordering = ["model_label", "day"]
        constraints = [models.UniqueConstraint(fields=["model_label", "day"], name="dedup_stat_day")]

    def __str__(self) -> str:
        return f"{self.model_label} {self.day}"
