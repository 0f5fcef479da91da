"""Writes of the customfields app, and the one validation path for custom field values.

``custom_values_clean`` is what forms, the API and imports call to turn submitted custom values into
the stored JSON; definitions and picklists change only through the ``*_create/update/...`` services.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from kehu.core.errors import ConflictError, DomainError, PermissionDeniedError
from kehu.core.permissions import is_admin

from .choices import CHOICE_TYPES, COMPATIBLE_TYPE_CHANGES, PATTERN_TYPES, FieldType
from .models import CustomField, FieldRule, Picklist, PicklistItem
from .registry import get_model, model_label
from .selectors import (
    custom_field_has_values,
    custom_fields_for,
    forget_definitions,
    item_usage,
    picklist_usage,
)
from .validation import clean_value, is_empty


class CustomFieldError(DomainError):
    code = "invalid_custom_fields"


class InUseError(ConflictError):
    code = "in_use"


# --- values -----------------------------------------------------------------------------------

FORM_PREFIX = "custom__"
KEY_PREFIX = "custom."


def custom_values_clean(
    *,
    model: type[models.Model] | str,
    values: Mapping[str, Any],
    instance_values: Mapping[str, Any] | None = None,
    partial: bool = False,
    exclude: Collection[str] = (),
) -> dict[str, Any]:
    """Validate and normalise submitted custom values; return the record's complete new `custom` dict.

    * `values`: submitted {name: value}. Unknown names are refused; deactivated fields are
      read-only (sending their stored value back is accepted).
    * `instance_values`: the record's stored `custom` (None when creating). Keys not touched are
      kept, so values of deactivated fields survive.
    * `partial`: only the submitted names are checked (PATCH). Otherwise (create, PUT, forms) every
      active field is checked: a missing one is empty and `required` applies.
    * `exclude`: names this caller may not write (field permissions: hidden, masked, read-only):
      their submitted values are refused unless unchanged; stored values are kept.
    * On create, a field's default fills a name that was not submitted.

    Empty values are removed from the dict. Raises ``CustomFieldError`` (400) whose `fields` are
    keyed ``custom.<name>``; ``form_field_errors()`` maps them to form field names.
    """
    if not isinstance(values, Mapping):
        raise CustomFieldError(
            _("Custom fields must be an object."), fields={"custom": [_("Custom fields must be an object.")]}
        )
    creating = instance_values is None
    current: dict[str, Any] = dict(instance_values or {})
    result = dict(current)
    definitions = {f.name: f for f in custom_fields_for(model, active_only=False)}
    excluded = set(exclude)
    errors: dict[str, list[str]] = {}

    for key, raw in values.items():
        field = definitions.get(key) if isinstance(key, str) else None
        if field is None:
            errors[f"{KEY_PREFIX}{key}"] = [_("Unknown custom field.")]
        elif not field.is_active or key in excluded:
            unchanged = raw == current.get(key) or (is_empty(raw) and key not in current)
            if not unchanged:
                errors[field.key] = [_("You cannot change this field.")]

    for field in definitions.values():
        name = field.name
        if not field.is_active or name in excluded or field.key in errors:
            # Defaults still fill fields the user may not write when a record is created.
            if creating and field.is_active and name not in values and field.default is not None:
                result[name] = field.default
            continue
        from_default = False
        if name in values:
            raw = values[name]
        elif creating:
            raw, from_default = field.default, True
        elif partial:
            continue
        else:
            raw = None
        try:
            cleaned = clean_value(field, raw, current=current.get(name))
        except ValidationError as exc:
            if not from_default:
                errors[field.key] = [str(m) for m in exc.messages]
                continue
            cleaned = None  # a default that is no longer valid (e.g. its item was deactivated)
        if cleaned is None:
            if field.required:
                errors[field.key] = [_("This field is required.")]
            result.pop(name, None)
        else:
            result[name] = cleaned

    if errors:
        raise CustomFieldError(_("Some custom fields are not valid."), fields=errors)
    return result


def form_field_name(key: str) -> str:
    """``custom.<name>`` (API and error key) → ``custom__<name>`` (form field name)."""
    return FORM_PREFIX + key[len(KEY_PREFIX) :] if key.startswith(KEY_PREFIX) else key


def form_field_errors(error: DomainError) -> dict[str, list[str]]:
    """The error's field messages keyed by form field names (``custom__<name>``)."""
    return {form_field_name(k): [str(m) for m in v] for k, v in error.fields.items()}


# --- helpers ----------------------------------------------------------------------------------


def _require_admin(by: Any) -> None:
    if by is not None and not is_admin(by):
        raise PermissionDeniedError(_("Only administrators may change custom fields and picklists."))


def _raise_validation(exc: ValidationError, message: str | None = None) -> None:
    fields = (
        {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        if hasattr(exc, "error_dict")
        else {"non_field_errors": [str(m) for m in exc.messages]}
    )
    non_field = fields.pop("__all__", None)
    if non_field:
        fields["non_field_errors"] = non_field
    first = next(iter(fields.values()))[0] if len(fields) == 1 else None
    raise DomainError(message or first or _("Some fields are not valid."), fields=fields)


def _full_clean(obj: models.Model, exclude: Iterable[str] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        _raise_validation(exc)


def _apply(obj: models.Model, data: Mapping[str, Any], allowed: Collection[str]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise DomainError(
            _("These fields cannot be set: %(names)s.") % {"names": ", ".join(sorted(unknown))},
            fields={name: [_("This field cannot be set.")] for name in sorted(unknown)},
        )
    for key, value in data.items():
        setattr(obj, key, value)


def _reserved_names(model: type[models.Model]) -> set[str]:
    names: set[str] = set()
    for f in model._meta.get_fields():
        names.add(f.name)
        attname = getattr(f, "attname", None)
        if attname:
            names.add(attname)
    return names


# --- custom field definitions -----------------------------------------------------------------

FIELD_EDITABLE = (
    "label",
    "label_en",
    "type",
    "required",
    "default",
    "pattern",
    "pattern_message",
    "pattern_message_en",
    "help_text",
    "help_text_en",
    "picklist",
    "is_active",
    "show_in_list",
    "filterable",
)


def _check_field(field: CustomField, *, old_type: str | None, old_picklist_id: int | None) -> None:
    _full_clean(field, exclude=["default"])
    if field.pattern and field.type in PATTERN_TYPES:
        try:
            re.compile(field.pattern)
        except (re.error, RecursionError, OverflowError) as exc:
            raise DomainError(
                _("This is not a valid regular expression: %(error)s") % {"error": exc},
                fields={"pattern": [_("This is not a valid regular expression.")]},
            ) from exc
    changed = old_type != field.type or old_picklist_id != field.picklist_id
    if field.pk and changed and custom_field_has_values(field):
        if old_type != field.type and (old_type, field.type) not in COMPATIBLE_TYPE_CHANGES:
            raise ConflictError(
                _(
                    "Records already hold values of this field, so its type cannot change from "
                    "%(old)s to %(new)s. Create a new field instead."
                )
                % {"old": FieldType(old_type or field.type).label, "new": FieldType(field.type).label},
                code="type_change_refused",
                fields={"type": [_("Records already hold values of this field.")]},
            )
        if old_picklist_id != field.picklist_id and field.type in CHOICE_TYPES and old_picklist_id:
            raise ConflictError(
                _("Records already hold values of this field, so its picklist cannot change."),
                code="picklist_change_refused",
                fields={"picklist": [_("Records already hold values of this field.")]},
            )
    if field.default is not None:
        try:
            field.default = clean_value(field, field.default)
        except ValidationError as exc:
            raise DomainError(
                _("The default value is not valid: %(error)s") % {"error": " ".join(exc.messages)},
                fields={"default": [str(m) for m in exc.messages]},
            ) from exc


@transaction.atomic
def custom_field_create(*, model: str, name: str, data: Mapping[str, Any], by: Any) -> CustomField:
    """Define a new custom field `name` on the registered model `model` ("customers.account")."""
    _require_admin(by)
    label = model_label(model)
    model_cls = get_model(label)
    if model_cls is None:
        raise DomainError(
            _("Custom fields cannot be defined on this model."),
            fields={"model": [_("Custom fields cannot be defined on this model.")]},
        )
    name = (name or "").strip()
    field = CustomField(model=label, name=name)
    _apply(field, data, FIELD_EDITABLE)
    if name in _reserved_names(model_cls):
        raise DomainError(
            _("“%(name)s” is already a standard field of this model.") % {"name": name},
            fields={"name": [_("This name is already a standard field of this model.")]},
        )
    if CustomField.objects.filter(model=label, name=name).exists():
        raise DomainError(
            _("A custom field with this name already exists on this model (it may be deactivated)."),
            fields={"name": [_("A custom field with this name already exists.")]},
        )
    field.order = (CustomField.objects.filter(model=label).aggregate(m=Max("order"))["m"] or 0) + 1
    _check_field(field, old_type=None, old_picklist_id=None)
    field.save()
    return field


@transaction.atomic
def custom_field_update(*, field: CustomField, data: Mapping[str, Any], by: Any) -> CustomField:
    """Change a definition. The name and model never change; the type changes only while no record
    holds a value, or between compatible types (text → long text, integer → decimal)."""
    _require_admin(by)
    field = CustomField.objects.select_for_update().get(pk=field.pk)
    old_type, old_picklist_id = field.type, field.picklist_id
    _apply(field, data, FIELD_EDITABLE)
    _check_field(field, old_type=old_type, old_picklist_id=old_picklist_id)
    field.save()
    return field


@transaction.atomic
def custom_field_deactivate(*, field: CustomField, by: Any) -> CustomField:
    """Hide the field from forms, lists, filters and the API; stored values stay."""
    return custom_field_update(field=field, data={"is_active": False}, by=by)


@transaction.atomic
def custom_field_reactivate(*, field: CustomField, by: Any) -> CustomField:
    return custom_field_update(field=field, data={"is_active": True}, by=by)


@transaction.atomic
def custom_field_delete(*, field: CustomField, by: Any) -> None:
    """Delete a definition no record holds a value for; otherwise deactivate it instead."""
    _require_admin(by)
    field = CustomField.objects.select_for_update().get(pk=field.pk)
    if custom_field_has_values(field):
        raise InUseError(
            _("Records hold values of “%(label)s”, so it cannot be deleted. Deactivate it instead.")
            % {"label": field.display_label}
        )
    field.delete()


@transaction.atomic
def custom_field_reorder(*, model: str, ids: list[int], by: Any) -> None:
    """Put the model's fields in the order of `ids` (fields not listed keep their place after)."""
    _require_admin(by)
    label = model_label(model)
    fields = {f.pk: f for f in CustomField.objects.select_for_update().filter(model=label)}
    if not all(isinstance(i, int) and i in fields for i in ids) or len(set(ids)) != len(ids):
        raise DomainError(_("The new order names fields that do not belong to this model."))
    rest = [pk for pk in sorted(fields, key=lambda pk: (fields[pk].order, pk)) if pk not in ids]
    changed = []
    for position, pk in enumerate([*ids, *rest], start=1):
        if fields[pk].order != position:
            fields[pk].order = position
            changed.append(fields[pk])
    CustomField.objects.bulk_update(changed, ["order"])
    forget_definitions()  # bulk_update sends no signal
    forget_definitions()


# --- picklists --------------------------------------------------------------------------------

PICKLIST_EDITABLE = ("name", "name_en", "description")
ITEM_EDITABLE = ("value", "label", "label_en", "color", "is_active")


@transaction.atomic
def picklist_create(*, code: str, data: Mapping[str, Any], by: Any) -> Picklist:
    _require_admin(by)
    picklist = Picklist(code=(code or "").strip())
    _apply(picklist, data, PICKLIST_EDITABLE)
    _full_clean(picklist)
    picklist.save()
    return picklist


@transaction.atomic
def picklist_update(*, picklist: Picklist, data: Mapping[str, Any], by: Any) -> Picklist:
    """Rename or describe a picklist. Its code never changes (records and code refer to it)."""
    _require_admin(by)
    picklist = Picklist.objects.select_for_update().get(pk=picklist.pk)
    _apply(picklist, data, PICKLIST_EDITABLE)
    _full_clean(picklist)
    picklist.save()
    return picklist


@transaction.atomic
def picklist_delete(*, picklist: Picklist, by: Any) -> None:
    """Delete a picklist nothing uses: not a system one, no field refers to it, no record holds its values."""
    _require_admin(by)
    picklist = Picklist.objects.select_for_update().get(pk=picklist.pk)
    if picklist.is_system:
        raise InUseError(_("“%(name)s” is a system picklist and cannot be deleted.") % {"name": picklist})
    usage = picklist_usage(picklist)
    if usage:
        raise InUseError(
            _("“%(name)s” is in use (%(where)s), so it cannot be deleted. Deactivate its items instead.")
            % {"name": picklist, "where": ", ".join(usage)}
        )
    picklist.delete()


def _check_item_value(item: PicklistItem) -> None:
    clash = PicklistItem.objects.filter(picklist_id=item.picklist_id, value__iexact=item.value)
    if item.pk:
        clash = clash.exclude(pk=item.pk)
    if clash.exists():
        raise DomainError(
            _("This picklist already has an item with the value “%(value)s”.") % {"value": item.value},
            fields={"value": [_("This value is already used in this picklist.")]},
        )


@transaction.atomic
def picklist_item_create(*, picklist: Picklist, data: Mapping[str, Any], by: Any) -> PicklistItem:
    _require_admin(by)
    picklist = Picklist.objects.select_for_update().get(pk=picklist.pk)
    item = PicklistItem(picklist=picklist)
    _apply(item, data, ITEM_EDITABLE)
    item.value = (item.value or "").strip()
    _check_item_value(item)
    item.order = (picklist.items.aggregate(m=Max("order"))["m"] or 0) + 1
    _full_clean(item)
    item.save()
    return item


@transaction.atomic
def picklist_item_update(*, item: PicklistItem, data: Mapping[str, Any], by: Any) -> PicklistItem:
    """Relabel, recolour, (de)activate an item. Its value changes only while no record holds it."""
    _require_admin(by)
    item = PicklistItem.objects.select_for_update().select_related("picklist").get(pk=item.pk)
    old_value = item.value
    _apply(item, data, ITEM_EDITABLE)
    item.value = (item.value or "").strip()
    if item.value != old_value:
        usage = item_usage(PicklistItem(picklist=item.picklist, value=old_value))
        if usage:
            raise InUseError(
                _("Records hold the value “%(value)s” (%(where)s), so it cannot change.")
                % {"value": old_value, "where": ", ".join(usage)},
                fields={"value": [_("Records hold this value.")]},
            )
        _check_item_value(item)
    _full_clean(item)
    item.save()
    return item


@transaction.atomic
def picklist_item_deactivate(*, item: PicklistItem, by: Any) -> PicklistItem:
    """No longer offered in forms; records that hold it still show it."""
    return picklist_item_update(item=item, data={"is_active": False}, by=by)


@transaction.atomic
def picklist_item_reactivate(*, item: PicklistItem, by: Any) -> PicklistItem:
    return picklist_item_update(item=item, data={"is_active": True}, by=by)


@transaction.atomic
def picklist_item_delete(*, item: PicklistItem, by: Any) -> None:
    """Delete an item no record holds; otherwise it must be deactivated instead."""
    _require_admin(by)
    item = PicklistItem.objects.select_for_update().select_related("picklist").get(pk=item.pk)
    usage = item_usage(item)
    if usage:
        raise InUseError(
            _("“%(label)s” is in use (%(where)s), so it cannot be deleted. Deactivate it instead.")
            % {"label": item.display_label, "where": ", ".join(usage)}
        )
    for field in CustomField.objects.filter(picklist_id=item.picklist_id).exclude(default=None):
        default = field.default if isinstance(field.default, list) else [field.default]
        if item.value in default:
            raise InUseError(
                _(
                    "“%(label)s” is the default value of the custom field “%(field)s”. "
                    "Change the default first."
                )
                % {"label": item.display_label, "field": field.display_label}
            )
    item.delete()


@transaction.atomic
def picklist_item_reorder(*, picklist: Picklist, ids: list[int], by: Any) -> None:
    _require_admin(by)
    items = {i.pk: i for i in PicklistItem.objects.select_for_update().filter(picklist=picklist)}
    if not all(isinstance(i, int) and i in items for i in ids) or len(set(ids)) != len(ids):
        raise DomainError(_("The new order names items that do not belong to this picklist."))
    rest = [pk for pk in sorted(items, key=lambda pk: (items[pk].order, pk)) if pk not in ids]
    changed = []
    for position, pk in enumerate([*ids, *rest], start=1):
        if items[pk].order != position:
            items[pk].order = position
            changed.append(items[pk])
    PicklistItem.objects.bulk_update(changed, ["order"])
    forget_definitions()  # bulk_update sends no signal
    forget_definitions()


# --- data collection standards (field rules) and completeness ---------------------------------

RULE_EDITABLE = ("required", "pattern", "pattern_message", "pattern_message_en", "unique", "weight", "order")
# For a custom field, these settings live on its definition (one source of truth).
CUSTOM_DEFINITION_SETTINGS = ("required", "pattern", "pattern_message", "pattern_message_en")
COMPLETENESS_JOB_KIND = "customfields.completeness"
COMPLETENESS_BATCH = 1000


def _standards_model(model: type[models.Model] | str) -> type[models.Model]:
    model_cls = get_model(model_label(model))
    if model_cls is None:
        msg = _("Data standards cannot be set on this model.")
        raise DomainError(msg, fields={"model": [msg]})
    return model_cls


def _spec(model_cls: type[models.Model], key: str) -> Any:
    from .standards import field_specs

    for spec in field_specs(model_cls):
        if spec.key == key:
            return spec
    msg = _("This field has no data standards (unknown, a system field or an inactive custom field).")
    raise DomainError(msg, fields={"field": [msg]})


@transaction.atomic
def field_rule_set(
    *, model: type[models.Model] | str, field: str, data: Mapping[str, Any], by: Any, recompute: bool = True
) -> FieldRule:
    """Create or change the rule of `field` ("phone" or "custom.<name>") of `model`.

    For a custom field, `required` and the pattern settings are written to its ``CustomField``
    definition (they live there); the rule keeps `unique` and `weight`. A field the model itself
    requires stays required. A changed weight starts the completeness recomputation (a job)."""
    _require_admin(by)
    model_cls = _standards_model(model)
    label = model_cls._meta.label_lower
    spec = _spec(model_cls, field)
    unknown = set(data) - set(RULE_EDITABLE)
    if unknown:
        _apply(FieldRule(), data, RULE_EDITABLE)  # raises the clear "cannot be set" error
    data = dict(data)
    errors: dict[str, list[str]] = {}
    if spec.builtin_required and data.get("required") is False:
        errors["required"] = [_("The model itself requires this field: it is always required.")]
    if spec.model_field is None and not spec.is_custom and any(data.get(k) for k in ("pattern", "unique")):
        errors["pattern" if data.get("pattern") else "unique"] = [
            _("Only a weight and required can be set for this field.")
        ]
    if data.get("pattern") and not spec.pattern_applies:
        errors["pattern"] = [_("A validation pattern applies only to text fields.")]
    if data.get("unique") and not spec.unique_applies:
        errors.setdefault("unique", [_("This field cannot be unique.")])
    if errors:
        raise DomainError(_("Some fields are not valid."), fields=errors)

    old_weight = spec.weight
    if spec.is_custom:
        definition = {k: data.pop(k) for k in CUSTOM_DEFINITION_SETTINGS if k in data}
        cf = spec.custom_field
        if definition and any(getattr(cf, k) != v for k, v in definition.items()):
            custom_field_update(field=cf, data=definition, by=by)
            spec = _spec(model_cls, field)

    rule = FieldRule.objects.select_for_update().filter(model=label, field=field).first()
    if rule is None:
        rule = FieldRule(model=label, field=field, weight=spec.default_weight, required=spec.builtin_required)
    for key, value in data.items():
        if spec.is_custom and key in CUSTOM_DEFINITION_SETTINGS:
            continue
        setattr(rule, key, value)
    if spec.builtin_required:
        rule.required = True
    _full_clean(rule)
    rule.save()
    if recompute and _spec(model_cls, field).weight != old_weight:
        completeness_recompute_start(model=model_cls, by=by)
    return rule


@transaction.atomic
def field_rule_delete(*, rule: FieldRule, by: Any) -> None:
    """Remove a rule: the field falls back to its defaults (for a custom field, its definition's
    required and pattern stay)."""
    _require_admin(by)
    model_cls = get_model(rule.model)
    before = None
    if model_cls is not None:
        before = _spec(model_cls, rule.field).weight if rule.field in _keys(model_cls) else None
    FieldRule.objects.filter(pk=rule.pk).delete()
    if model_cls is not None and before is not None and _spec(model_cls, rule.field).weight != before:
        completeness_recompute_start(model=model_cls, by=by)


def _keys(model_cls: type[models.Model]) -> set[str]:
    from .standards import spec_keys

    return spec_keys(model_cls)


def completeness_recompute_start(*, model: type[models.Model] | str, by: Any) -> Any:
    """Recompute the completeness of every record of `model` in a background job (on commit).
    A job for the model that has not started yet is reused."""
    from kehu.core.models import Job, JobStatus
    from kehu.core.services import job_create

    model_cls = _standards_model(model)
    label = model_cls._meta.label_lower
    pending = Job.objects.filter(
        kind=COMPLETENESS_JOB_KIND, status=JobStatus.PENDING, params__model=label
    ).first()
    if pending is not None:
        return pending
    job = job_create(
        kind=COMPLETENESS_JOB_KIND,
        owner=by,
        title=_("Recompute completeness: %(things)s") % {"things": model_cls._meta.verbose_name_plural},
        params={"model": label},
    )
    transaction.on_commit(lambda: _schedule_recompute(job.pk))
    return job


def _schedule_recompute(job_id: int) -> None:
    from .tasks import completeness_recompute

    completeness_recompute.delay(job_id)


def completeness_recompute_run(*, job_id: int, task_id: str = "") -> Any:
    """The body of the recompute task: every record's score, in batches, with progress. Scores are
    derived values: written with ``bulk_update`` (no signals, no version bump, not audited)."""
    from kehu.core.services import job_run

    from .rules import completeness_score
    from .standards import field_specs

    def work(job: Any, progress: Any) -> dict[str, Any]:
        model_cls = get_model(str(job.params.get("model", "")))
        if model_cls is None:
            raise DomainError(_("This model no longer has data standards."))
        specs = field_specs(model_cls)
        queryset = model_cls._default_manager.order_by("pk")
        total = queryset.count()
        progress(0, total=total)
        done = changed = 0
        last_pk = 0
        while True:
            batch = list(queryset.filter(pk__gt=last_pk)[:COMPLETENESS_BATCH])
            if not batch:
                break
            last_pk = batch[-1].pk
            dirty = []
            for obj in batch:
                score = completeness_score(specs, obj)
                if getattr(obj, "completeness", None) != score:
                    obj.completeness = score  # type: ignore[attr-defined]
                    dirty.append(obj)
            if dirty:
                with transaction.atomic():
                    model_cls._default_manager.bulk_update(dirty, ["completeness"])
            done += len(batch)
            changed += len(dirty)
            progress(done)
        return {
            "message": _("%(changed)s of %(total)s scores changed.")
            % {"changed": f"{changed:,}", "total": f"{total:,}"}
        }

    return job_run(job_id, work, task_id=task_id)
