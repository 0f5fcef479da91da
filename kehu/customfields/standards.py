"""The data collection standards (数据采集规范) of each customizable model, as one list of fields.

A model that is customizable (``registry.register(model)``) gets a standards page listing its
*standard* fields (concrete, editable fields minus system ones) and its active *custom* fields. A
model may declare, from its app's ``AppConfig.ready()``::

    standards.register(
        Account,
        scored=("name", "phone", "email", "industry", "address"),  # scored by default (weight 1)
        exclude=("lifecycle_stage",),  # not offered on the standards page
        readers={"phones": lambda account: [p.number for p in account.phones.all()]},
    )

* `scored`: the fields that count in the completeness score while no rule sets a weight. Fields the
  model itself requires (``blank=False``) and required custom fields are always scored by default.
  A model that declares nothing scores its required fields plus every listed standard field.
* `readers`: how to read a value that is not a plain column (a related list, a computed value);
  the key may be any name (it is offered on the page like a standard field). Readers that query
  make completeness cost a query per record: keep them to prefetched relations.

``field_specs(model)`` merges the model's fields, the ``FieldRule`` rows and the custom field
definitions into the effective standards: what ``rules.rules_check`` and ``rules.completeness``
apply and what the standards page shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from .models import CustomField, FieldRule
from .registry import get_model, model_label, registered_models

# Fields no collection standard applies to: keys, bookkeeping, derived values and the owner
# (always set by the services).
SYSTEM_FIELDS = frozenset(
    {
        "id",
        "created_at",
        "updated_at",
        "created_by",
        "department",
        "owner",
        "version",
        "custom",
        "completeness",
        "last_activity_at",
        "lifecycle_changed_at",
        "is_active",
    }
)
CUSTOM_PREFIX = "custom."
# Default weight of a field that is scored when no rule gives it a weight.
DEFAULT_WEIGHT = 1
MAX_WEIGHT = 10

Reader = Callable[[Any], Any]


@dataclass(frozen=True)
class Declaration:
    scored: tuple[str, ...] | None = None  # None: every listed standard field
    exclude: tuple[str, ...] = ()
    readers: Mapping[str, Reader] = field(default_factory=dict)


_declarations: dict[str, Declaration] = {}


def register(
    model: type[models.Model],
    *,
    scored: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    readers: Mapping[str, Reader] | None = None,
) -> None:
    """Declare which fields of `model` are scored by default and how to read non-column values.
    Registering again replaces the declaration."""
    _declarations[model._meta.label_lower] = Declaration(
        scored=tuple(scored) if scored is not None else None,
        exclude=tuple(exclude),
        readers=dict(readers or {}),
    )


def unregister(model: type[models.Model]) -> None:
    _declarations.pop(model._meta.label_lower, None)


def declaration(model: type[models.Model] | str) -> Declaration:
    return _declarations.get(model_label(model), Declaration())


def standards_models() -> list[type[models.Model]]:
    """The models that have a standards page: the customizable ones."""
    return sorted(registered_models(), key=lambda m: str(m._meta.verbose_name_plural))


def resolve_model(model: type[models.Model] | str) -> type[models.Model] | None:
    return get_model(model) if isinstance(model, str) else model


@dataclass
class FieldSpec:
    """One field's effective collection standard."""

    key: str  # "phone" or "custom.contract_no"
    label: str
    is_custom: bool
    builtin_required: bool  # the model itself requires it (blank=False): always required
    required: bool
    pattern: str
    pattern_message: str
    unique: bool
    weight: int
    default_weight: int
    is_text: bool  # unique compares case-insensitively
    rule: FieldRule | None = None
    custom_field: CustomField | None = None
    model_field: models.Field[Any, Any] | None = None
    reader: Reader | None = None

    @property
    def name(self) -> str:
        """The standard field name or the custom field's name (without the prefix)."""
        return self.key[len(CUSTOM_PREFIX) :] if self.is_custom else self.key

    @property
    def pattern_applies(self) -> bool:
        return self.is_text

    @property
    def unique_applies(self) -> bool:
        """Short text values only (codes, numbers, addresses): not long texts, choices or links."""
        if self.is_custom:
            return self.custom_field is not None and self.custom_field.type in _UNIQUE_CUSTOM
        return self.is_text and isinstance(self.model_field, models.CharField)

    def read(self, obj: Any) -> Any:
        """The record's value of this field (cheap: column values and declared readers)."""
        if self.reader is not None:
            return self.reader(obj)
        if self.is_custom:
            return (getattr(obj, "custom", None) or {}).get(self.name)
        if self.model_field is not None:
            return getattr(obj, self.model_field.attname, None)
        return getattr(obj, self.key, None)


_TEXT_FIELDS = (models.CharField, models.TextField)
_TEXT_CUSTOM = frozenset({"text", "long_text", "url", "email", "phone"})
_UNIQUE_CUSTOM = frozenset({"text", "url", "email", "phone", "integer"})


def standard_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The model's fields a collection standard may apply to, in model order."""
    decl = declaration(model)
    out = []
    for f in model._meta.concrete_fields:
        if (
            not f.editable
            or f.primary_key
            or f.name in SYSTEM_FIELDS
            or f.name in decl.exclude
            or isinstance(f, models.BooleanField | models.JSONField)
        ):
            continue
        out.append(f)
    return out


def is_empty(value: Any) -> bool:
    """Missing for the standards: None, blank text, empty lists / dicts."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | dict):
        return len(value) == 0
    return False


def field_specs(
    model: type[models.Model] | str,
    *,
    rules: Iterable[FieldRule] | None = None,
    custom_fields: Iterable[CustomField] | None = None,
) -> list[FieldSpec]:
    """The effective standards of every listed field of `model` (2 queries; pass `rules` and
    `custom_fields` to reuse loaded rows). Standard fields first, then active custom fields."""
    resolved = resolve_model(model)
    if resolved is None:
        return []
    label = resolved._meta.label_lower
    decl = declaration(resolved)
    if rules is None:
        rules = FieldRule.objects.filter(model=label)
    by_key = {r.field: r for r in rules}
    if custom_fields is None:
        custom_fields = CustomField.objects.filter(model=label, is_active=True).order_by("order", "id")
    specs: list[FieldSpec] = []
    listed = standard_fields(resolved)
    for f in listed:
        builtin = not f.blank
        scored = builtin or decl.scored is None or f.name in decl.scored
        default_weight = DEFAULT_WEIGHT if scored else 0
        rule = by_key.get(f.name)
        specs.append(
            FieldSpec(
                key=f.name,
                label=_capitalise(str(f.verbose_name)),
                is_custom=False,
                builtin_required=builtin,
                required=builtin or bool(rule and rule.required),
                pattern=rule.pattern if rule else "",
                pattern_message=rule.display_pattern_message if rule else "",
                unique=bool(rule and rule.unique),
                weight=rule.weight if rule else default_weight,
                default_weight=default_weight,
                is_text=isinstance(f, _TEXT_FIELDS) and not f.choices,
                rule=rule,
                model_field=f,
                reader=decl.readers.get(f.name),
            )
        )
    listed_names = {f.name for f in listed}
    for name, reader in decl.readers.items():
        if name in listed_names:
            continue
        rule = by_key.get(name)
        scored = decl.scored is None or name in decl.scored
        default_weight = DEFAULT_WEIGHT if scored else 0
        specs.append(
            FieldSpec(
                key=name,
                label=_capitalise(name.replace("_", " ")),
                is_custom=False,
                builtin_required=False,
                required=bool(rule and rule.required),
                pattern="",
                pattern_message="",
                unique=False,
                weight=rule.weight if rule else default_weight,
                default_weight=default_weight,
                is_text=False,
                rule=rule,
                reader=reader,
            )
        )
    for cf in custom_fields:
        key = cf.key
        rule = by_key.get(key)
        default_weight = DEFAULT_WEIGHT if cf.required else 0
        specs.append(
            FieldSpec(
                key=key,
                label=cf.display_label,
                is_custom=True,
                builtin_required=False,
                required=cf.required,
                pattern=cf.pattern,
                pattern_message=cf.display_pattern_message,
                unique=bool(rule and rule.unique),
                weight=rule.weight if rule else default_weight,
                default_weight=default_weight,
                is_text=cf.type in _TEXT_CUSTOM,
                rule=rule,
                custom_field=cf,
            )
        )
    return specs


def spec_keys(model: type[models.Model] | str) -> set[str]:
    return {s.key for s in field_specs(model)}


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]
