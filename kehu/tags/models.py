"""Tags (标签), tag groups (标签组) and static groups (静态分组) of any registered model.

Tagged items and group members point at their record by model label ("customers.account") and
id, without content types: filtering a list by tag is one ``id IN (SELECT object_id ...)`` on an
index, and any app may register its model (`kehu.tags.registry.register_taggable`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import TagColour


class TagGroup(models.Model):
    """A set of related tags (e.g. "Industry", "Priority"). An exclusive group allows one of its tags
    per record: adding another replaces it."""

    name = models.CharField(_("name"), max_length=100)
    colour = models.CharField(_("colour"), max_length=16, choices=TagColour.choices, default=TagColour.BLUE)
    description = models.CharField(_("description"), max_length=500, blank=True)
    exclusive = models.BooleanField(
        _("one tag per record"),
        default=False,
        help_text=_("A record carries at most one tag of this group; adding another replaces it."),
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    # Model labels ("customers.account"); empty: every taggable model.
    model_labels = models.JSONField(_("applies to"), default=list, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("tag group")
        verbose_name_plural = _("tag groups")
        ordering = ["order", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="tags_taggroup_name_unique",
                violation_error_message=_("There is already a tag group with this name."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tags:tag_list") + f"#group-{self.pk}"

    def applies_to(self, label: str) -> bool:
        return not self.model_labels or label.lower() in self.model_labels


class Tag(models.Model):
    group = models.ForeignKey(
        TagGroup,
        verbose_name=pgettext_lazy("tag group", "group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,  # the service moves or refuses first
        related_name="tags",
    )
    name = models.CharField(_("name"), max_length=50)
    colour = models.CharField(_("colour"), max_length=16, choices=TagColour.choices, default=TagColour.BLUE)
    description = models.CharField(_("description"), max_length=500, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(
        pgettext_lazy("enabled", "active"),
        default=True,
        help_text=_("Inactive tags stay on records but cannot be added."),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["group__order", "group__name", "order", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "group",
                condition=models.Q(group__isnull=False),
                name="tags_tag_name_in_group",
                violation_error_message=_("The group already has a tag with this name."),
            ),
            models.UniqueConstraint(
                Lower("name"),
                condition=models.Q(group__isnull=True),
                name="tags_tag_name_ungrouped",
                violation_error_message=_("There is already an ungrouped tag with this name."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tags:tag_edit", args=[self.pk])

    @property
    def badge_class(self) -> str:
        return f"bg-{self.colour}-lt"

    def applies_to(self, label: str) -> bool:
        return self.group is None or self.group.applies_to(label)


def _added_by() -> models.ForeignKey:
    """Who put a record on a tag or in a group (null once that user is deleted)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )


class TaggedItem(models.Model):
    """One tag on one record."""

    tag = models.ForeignKey(Tag, verbose_name=_("tag"), on_delete=models.CASCADE, related_name="items")
    model = models.CharField(_("model"), max_length=100)
    object_id = models.BigIntegerField(_("object id"))
    created_by = _added_by()
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tagged record")
        verbose_name_plural = _("tagged records")
        constraints = [
            # also the (tag, model, object_id) index the "tagged with" filter reads
            models.UniqueConstraint(fields=["tag", "model", "object_id"], name="tags_taggeditem_unique"),
        ]
        indexes = [models.Index(fields=["model", "object_id"], name="tags_taggeditem_object")]

    def __str__(self) -> str:
        return f"{self.tag_id} @ {self.model}#{self.object_id}"


class StaticGroup(models.Model):
    """A hand-picked list of records (静态分组), e.g. "Trade fair 2026 visitors". Its owner manages it;
    a shared group is readable by everyone who may view the model (they still only see the
    members within their own data scope)."""

    scope_owner_field = "owner"
    scope_department_field = None

    name = models.CharField(_("name"), max_length=100)
    model = models.CharField(_("model"), max_length=100, db_index=True)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    is_shared = models.BooleanField(
        _("shared"), default=False, help_text=_("Everyone who may view these records can use the group.")
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("static group")
        verbose_name_plural = _("static groups")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["owner", "model"], name="tags_staticgroup_owner")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tags:group_detail", args=[self.pk])


class StaticGroupMember(models.Model):
    group = models.ForeignKey(
        StaticGroup,
        verbose_name=pgettext_lazy("static group", "group"),
        on_delete=models.CASCADE,
        related_name="members",
    )
    object_id = models.BigIntegerField(_("object id"))
    added_by = _added_by()
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("static group member")
        verbose_name_plural = _("static group members")
        constraints = [
            models.UniqueConstraint(fields=["group", "object_id"], name="tags_staticgroupmember_unique")
        ]
        indexes = [models.Index(fields=["object_id"], name="tags_staticgroupmember_object")]

    def __str__(self) -> str:
        return f"{self.group_id}: {self.object_id}"
