from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.core.permissions import RestrictedManager

from .choices import CHOICE_TYPES, PATTERN_TYPES, TABLER_COLORS, FieldType


class CustomFieldsModel(models.Model):
    """Mixin for customizable models: admin-defined field values live in one JSON column.

    Definitions (CustomField) generate form fields, filters, API fields, import and report columns.
    """

    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        abstract = True


def in_language(zh: str, en: str) -> str:
    """The text for the active language: English when active and given, Chinese otherwise."""
    lang = (get_language() or "").lower()
    if lang.startswith("en") and en:
        return en
    return zh or en


# A custom field's name is a lower-case identifier without double underscores (they would split
# ORM lookups such as custom__<name>__icontains) and without a trailing underscore.
FIELD_NAME_RE = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
validate_field_name = RegexValidator(
    FIELD_NAME_RE,
    _(
        "Use lower-case letters, digits and single underscores, starting with a letter "
        "(for example: contract_no)."
    ),
    code="invalid_name",
)
# A picklist item's value is a stable ASCII code (it is stored in records and in exports).
ITEM_VALUE_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
validate_item_value = RegexValidator(
    ITEM_VALUE_RE,
    _("Use letters, digits, dots, hyphens and underscores, starting with a letter or digit."),
    code="invalid_value",
)
HEX_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


def validate_color(value: str) -> None:
    if value and value not in TABLER_COLORS and not HEX_COLOR_RE.match(value):
        raise ValidationError(
            _("Choose a colour from the palette or give a hex colour such as #1f77b4."), code="invalid_color"
        )


class Picklist(TimeStampedModel):
    """A data dictionary (数据字典): an admin-editable, ordered list of values."""

    scope_owner_field = None
    scope_department_field = None

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_system = models.BooleanField(
        _("system picklist"),
        default=False,
        help_text=_("Used by Kehu itself: its code is fixed and it cannot be deleted."),
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("picklist")
        verbose_name_plural = _("picklists")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return in_language(self.name, self.name_en)

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("customfields:picklist_detail", args=[self.pk])


class PicklistItem(TimeStampedModel):
    """One value of a picklist: a stable code, labels in both languages, a colour and an order."""

    scope_owner_field = None
    scope_department_field = None

    picklist = models.ForeignKey(
        Picklist, verbose_name=_("picklist"), on_delete=models.CASCADE, related_name="items"
    )
    value = models.CharField(_("value"), max_length=64, validators=[validate_item_value])
    label = models.CharField(_("label (Chinese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100, blank=True)
    color = models.CharField(_("colour"), max_length=20, blank=True, validators=[validate_color])
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(pgettext_lazy("enabled", "active"), default=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("picklist item")
        verbose_name_plural = _("picklist items")
        ordering = ["picklist", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["picklist", "value"], name="customfields_item_unique_value"),
            models.UniqueConstraint(Lower("value"), "picklist", name="customfields_item_unique_value_ci"),
        ]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        return in_language(self.label, self.label_en)

    @property
    def badge_class(self) -> str:
        """CSS classes of the item's badge (Tabler colours; hex colours use `badge_style`)."""
        if self.color in TABLER_COLORS:
            return f"badge bg-{self.color}-lt"
        return "badge" if self.color else "badge bg-secondary-lt"

    @property
    def badge_style(self) -> str:
        if self.color and HEX_COLOR_RE.match(self.color):
            return f"background-color: {self.color}; color: {_contrast_text(self.color)};"
        return ""


def _contrast_text(hex_color: str) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return "#000000" if (0.299 * r + 0.587 * g + 0.114 * b) > 150 else "#ffffff"


class CustomField(TimeStampedModel):
    """An admin-defined field (自定义字段) of a customizable model; values live in `<model>.custom`."""

    scope_owner_field = None
    scope_department_field = None

    model = models.CharField(_("model"), max_length=100, db_index=True, help_text=_("e.g. customers.account"))
    name = models.CharField(
        _("name"),
        max_length=64,
        validators=[validate_field_name],
        help_text=_("The key in the API, imports and exports. It cannot be changed later."),
    )
    label = models.CharField(_("label (Chinese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100, blank=True)
    type = models.CharField(_("type"), max_length=20, choices=FieldType.choices)
    required = models.BooleanField(_("required"), default=False)
    default = models.JSONField(_("default value"), null=True, blank=True)
    pattern = models.CharField(
        _("validation pattern"),
        max_length=500,
        blank=True,
        help_text=_("A regular expression the value must match, e.g. ^[A-Z]{2}\\d{6}$."),
    )
    pattern_message = models.CharField(_("pattern error message (Chinese)"), max_length=200, blank=True)
    pattern_message_en = models.CharField(_("pattern error message (English)"), max_length=200, blank=True)
    help_text = models.CharField(_("help text (Chinese)"), max_length=300, blank=True)
    help_text_en = models.CharField(_("help text (English)"), max_length=300, blank=True)
    picklist = models.ForeignKey(
        Picklist,
        verbose_name=_("picklist"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="custom_fields",
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(pgettext_lazy("enabled", "active"), default=True)
    show_in_list = models.BooleanField(
        _("show in lists"), default=False, help_text=_("Shown as a column of list pages by default.")
    )
    filterable = models.BooleanField(_("filterable"), default=False, help_text=_("Offered as a list filter."))

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["model", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["model", "name"], name="customfields_field_unique_name"),
        ]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        return in_language(self.label, self.label_en)

    @property
    def display_help_text(self) -> str:
        return in_language(self.help_text, self.help_text_en)

    @property
    def display_pattern_message(self) -> str:
        return in_language(self.pattern_message, self.pattern_message_en)

    @property
    def key(self) -> str:
        """The field's key in API bodies, error bodies, field permissions and export columns."""
        return f"custom.{self.name}"

    @property
    def form_field_name(self) -> str:
        return f"custom__{self.name}"

    @property
    def is_choice(self) -> bool:
        return self.type in CHOICE_TYPES

    def clean(self) -> None:
        """Single-row rules (the service checks the rest: clashes, type changes, the default)."""
        errors: dict[str, Any] = {}
        if self.type in CHOICE_TYPES and not self.picklist_id:
            errors["picklist"] = _("Choose the picklist that holds the choices.")
        if self.type not in CHOICE_TYPES and self.picklist_id:
            errors["picklist"] = _("Only choice fields use a picklist.")
        if self.pattern:
            if self.type not in PATTERN_TYPES:
                errors["pattern"] = _(
                    "A validation pattern applies only to text, URL, e-mail and phone fields."
                )
            else:
                problem = pattern_problem(self.pattern, max_length=500)
                if problem:
                    errors["pattern"] = problem
        if self.type == FieldType.BOOLEAN and self.required:
            errors["required"] = _("A yes / no field cannot be required: unticked means no.")
        if errors:
            raise ValidationError(errors)


# --- data collection standards (数据采集规范) ---------------------------------------------------

PATTERN_MAX_LENGTH = 300


def pattern_problem(pattern: str, *, max_length: int = PATTERN_MAX_LENGTH) -> str | None:
    """Why `pattern` cannot be used as a validation pattern, or None when it is acceptable.

    Refused: too long, not a regular expression, or an unbounded repetition nested inside another
    unbounded repetition (``(a+)+``, ``(\\w*)*``, ``(x+y?)+``): the classic catastrophic
    backtracking shapes. The check walks Python's own parse tree, so it is cheap; overlapping
    alternatives under a repetition (``(a|a)*``) are not detected, but values are short (at most
    the field's length), which bounds the damage."""
    if len(pattern) > max_length:
        return str(_("At most %(count)d characters.") % {"count": max_length})
    try:
        re.compile(pattern)
        import re._parser as sre_parse  # type: ignore[import-not-found,unused-ignore]

        tree = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError, ImportError) as exc:
        return str(_("This is not a valid regular expression: %(error)s") % {"error": exc})
    if _nested_repeat(tree, inside=False):
        return str(
            _(
                "Nested repetitions such as (a+)+ can take forever to check: "
                "rewrite the pattern without a repeated group that itself repeats."
            )
        )
    return None


def _nested_repeat(tree: Any, *, inside: bool) -> bool:
    import re._constants as sre_constants  # type: ignore[import-not-found,unused-ignore]

    repeats = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT)
    for op, arg in tree:
        if op in repeats:
            _low, high, sub = arg
            unbounded = high == sre_constants.MAXREPEAT or high > 50
            if unbounded and inside:
                return True
            if _nested_repeat(sub, inside=inside or unbounded):
                return True
        elif op == sre_constants.SUBPATTERN:
            if _nested_repeat(arg[-1], inside=inside):
                return True
        elif op == sre_constants.BRANCH:
            if any(_nested_repeat(branch, inside=inside) for branch in arg[1]):
                return True
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT) and _nested_repeat(arg[1], inside=inside):
            return True
    return False


class FieldRule(TimeStampedModel):
    """A collection standard for one field of a customizable model (数据采集规范).

    `field` is a standard field name or ``custom.<name>``. For custom fields, *required* and the
    *pattern* stay on the ``CustomField`` definition (one source of truth, edited on the same
    standards page): a rule of a custom field holds only `unique` and `weight`."""

    scope_owner_field = None
    scope_department_field = None

    model = models.CharField(_("model"), max_length=100, db_index=True, help_text=_("e.g. customers.account"))
    field = models.CharField(
        _("field"), max_length=100, help_text=_("A standard field name, or custom.<name> for a custom field.")
    )
    required = models.BooleanField(_("required"), default=False)
    pattern = models.CharField(
        _("validation pattern"),
        max_length=PATTERN_MAX_LENGTH,
        blank=True,
        help_text=_("A regular expression the value must match, e.g. ^[0-9A-Z]{18}$."),
    )
    pattern_message = models.CharField(_("pattern error message (Chinese)"), max_length=200, blank=True)
    pattern_message_en = models.CharField(_("pattern error message (English)"), max_length=200, blank=True)
    unique = models.BooleanField(
        _("unique"), default=False, help_text=_("No two records may hold the same value (ignoring case).")
    )
    weight = models.PositiveSmallIntegerField(
        _("completeness weight"),
        default=1,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
        help_text=_("0 to 10: how much the field counts in the completeness score (0: not scored)."),
    )
    order = models.PositiveIntegerField(_("order"), default=0)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("field rule")
        verbose_name_plural = _("field rules")
        ordering = ["model", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["model", "field"], name="customfields_rule_unique_field"),
            models.CheckConstraint(condition=models.Q(weight__lte=10), name="customfields_rule_weight_max"),
        ]

    def __str__(self) -> str:
        return f"{self.model}.{self.field}"

    @property
    def is_custom(self) -> bool:
        return self.field.startswith("custom.")

    @property
    def display_pattern_message(self) -> str:
        return in_language(self.pattern_message, self.pattern_message_en)

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.pattern:
            problem = pattern_problem(self.pattern)
            if problem:
                errors["pattern"] = problem
        if self.weight is not None and self.weight > 10:
            errors["weight"] = _("Enter a weight from 0 to 10.")
        if errors:
            raise ValidationError(errors)
