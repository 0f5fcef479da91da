"""A faster read path for lists of model serializers (`Meta.list_serializer_class`).

`FastListSerializer` gives the same output as DRF's `ListSerializer` + `Serializer.to_representation`
(tested field by field against it), with the per-row work planned once per page instead of once
per row and field:

* plain model columns are read from the row (`getattr`) and their field's `to_representation` is
  skipped where it is the identity (a `str` in a `CharField`, an `int` in an `IntegerField`, a
  `bool` in a `BooleanField`); date-times are written with the time zone looked up once;
* foreign keys shown as primary keys (`PrimaryKeyRelatedField`) are read from the `<name>_id`
  column, as DRF's pk-only optimisation does;
* nested lists of reverse foreign keys (phones, e-mails, addresses) that the queryset did not
  prefetch are loaded in one query each for the whole page, without a queryset clone per row;
* anything else (methods, dotted sources, `source="*"`) goes through the field's own
  `get_attribute` / `to_representation`, exactly as DRF does;
* the child serializer's read permissions (`apply_read_permissions(data)`, see
  `kehu.core.api.mixins.FieldPermissionSerializerMixin`) are applied to each row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from rest_framework import ISO_8601, relations, serializers
from rest_framework import fields as drf_fields
from rest_framework.fields import SkipField
from rest_framework.settings import api_settings

# Field classes whose to_representation returns a value of this type unchanged.
_IDENTITY: dict[type[Any], type[Any]] = {
    drf_fields.CharField: str,
    drf_fields.IntegerField: int,
    drf_fields.BooleanField: bool,
}

_Plan = tuple[str, int, Any, Any]
# kinds of a planned field
_COLUMN, _PK, _ROWS, _GENERIC = range(4)


def _datetime_converter(field: drf_fields.DateTimeField) -> Callable[[Any], Any]:
    """`field.to_representation` for ISO 8601 output with the time zone looked up once a page
    (DRF looks it up per value): an aware datetime converted and written as DRF writes it."""
    represent = field.to_representation
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if not isinstance(output_format, str) or output_format.lower() != ISO_8601:
        return represent
    tz = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if not isinstance(tz, dt.tzinfo):
        return represent

    def convert(value: Any) -> Any:
        if type(value) is dt.datetime and value.utcoffset() is not None:
            try:
                text = value.astimezone(tz).isoformat()
            except OverflowError:
                return represent(value)
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return represent(value)

    return convert


def _reverse_fk(model: type[models.Model], name: str) -> Any:
    """The reverse foreign key `name` of `model` (one-to-many), or None."""
    try:
        f = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return f if isinstance(f, models.ManyToOneRel) and not f.many_to_many and f.one_to_many else None


class FastListSerializer(serializers.ListSerializer):
    """`Meta.list_serializer_class` of a ModelSerializer whose lists are read often."""

    def _plan(self, model: type[models.Model]) -> list[_Plan]:
        child: Any = self.child
        plan: list[_Plan] = []
        concrete = {f.name: f for f in model._meta.concrete_fields}
        for field in child._readable_fields:
            attrs = field.source_attrs
            name = field.field_name
            if len(attrs) == 1 and attrs[0] in concrete:
                model_field = concrete[attrs[0]]
                if isinstance(field, relations.PrimaryKeyRelatedField) and model_field.is_relation:
                    if field.pk_field is None:
                        plan.append((name, _PK, model_field.attname, None))
                        continue
                elif not model_field.is_relation and not isinstance(field, serializers.BaseSerializer):
                    identity = _IDENTITY.get(type(field))
                    represent = (
                        _datetime_converter(field)
                        if type(field) is drf_fields.DateTimeField
                        else field.to_representation
                    )
                    plan.append((name, _COLUMN, model_field.attname, (represent, identity)))
                    continue
            if (
                len(attrs) == 1
                and isinstance(field, serializers.ListSerializer)
                and _reverse_fk(model, attrs[0]) is not None
            ):
                plan.append((name, _ROWS, attrs[0], field))
                continue
            plan.append((name, _GENERIC, None, field))
        return plan

    def _load_rows(
        self, instances: list[Any], model: type[models.Model], relation: str
    ) -> dict[Any, list[Any]]:
        """The related rows of `relation` for the page in one query, unless prefetched."""
        if all(relation in getattr(o, "_prefetched_objects_cache", {}) for o in instances):
            return {o.pk: list(getattr(o, relation).all()) for o in instances}
        rel = _reverse_fk(model, relation)
        related: Any = rel.related_model
        fk = rel.field
        by_parent: dict[Any, list[Any]] = defaultdict(list)
        pks = [o.pk for o in instances]
        for row in related._default_manager.filter(**{f"{fk.attname}__in": pks}):
            by_parent[getattr(row, fk.attname)].append(row)
        return by_parent

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        iterable = data.all() if isinstance(data, models.manager.BaseManager) else data
        instances = list(iterable)
        if not instances:
            return []
        model = type(instances[0])
        if any(type(o) is not model for o in instances):
            return super().to_representation(instances)
        plan = self._plan(model)
        rows = {p[2]: self._load_rows(instances, model, p[2]) for p in plan if p[1] == _ROWS}
        child: Any = self.child
        finish: Callable[[dict[str, Any]], dict[str, Any]] | None = getattr(
            child, "apply_read_permissions", None
        )
        out = []
        for instance in instances:
            ret: dict[str, Any] = {}
            values = instance.__dict__
            for name, kind, source, extra in plan:
                if kind == _COLUMN:
                    value = values[source] if source in values else getattr(instance, source)
                    if value is None:
                        ret[name] = None
                    elif extra[1] is not None and type(value) is extra[1]:
                        ret[name] = value
                    else:
                        ret[name] = extra[0](value)
                elif kind == _PK:
                    ret[name] = values[source] if source in values else getattr(instance, source)
                elif kind == _ROWS:
                    ret[name] = extra.to_representation(rows[source].get(instance.pk, []))
                else:
                    try:
                        attribute = extra.get_attribute(instance)
                    except SkipField:
                        continue
                    check = attribute.pk if isinstance(attribute, relations.PKOnlyObject) else attribute
                    ret[name] = None if check is None else extra.to_representation(attribute)
            out.append(finish(ret) if finish is not None else ret)
        return out
