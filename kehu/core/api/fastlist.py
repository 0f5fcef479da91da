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
  prefetch are loaded in one query each for the whole page, without a queryset clone per row (a
  plain statement built once per relation and page size, `kehu.core.rows`, where the related
  model's default manager filters nothing and its ordering names plain columns);
* anything else (methods, dotted sources, `source="*"`) goes through the field's own
  `get_attribute` / `to_representation`, exactly as DRF does;
* the child serializer's read permissions (`apply_read_permissions(data)`, see
  `kehu.core.api.mixins.FieldPermissionSerializerMixin`) are applied to each row.

A child serializer whose fields depend on nothing of the request but the user's field modes (see
`mixins.FieldPermissionSerializerMixin`) sets `list_plan_cacheable = True`: its plan is then kept
per process for the serializer class, language, time zone and field modes, so a list page does
not build and deep-copy the child's ~40 fields. The kept plan shares only fields that need no
request (DRF's own column fields, nested lists marked `context_free`); every other field (tags,
custom fields, methods) is copied fresh from the kept one and bound to this page's serializer, as
DRF's own `get_fields` copies declared fields.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connections, models
from django.utils import timezone
from django.utils.translation import get_language
from rest_framework import ISO_8601, relations, serializers
from rest_framework import fields as drf_fields
from rest_framework.fields import SkipField
from rest_framework.settings import api_settings

from kehu.core import rows as plain_rows

# Field classes whose to_representation returns a value of this type unchanged.
_IDENTITY: dict[type[Any], type[Any]] = {
    drf_fields.CharField: str,
    drf_fields.IntegerField: int,
    drf_fields.BooleanField: bool,
}

_Plan = tuple[str, int, Any, Any]
# kinds of a planned field
_COLUMN, _PK, _ROWS, _GENERIC = range(4)

# Kept plans (`list_plan_cacheable`): (child class, language, time zone, field modes) -> entries,
# with the fields to copy per page marked. Few keys (serializers × languages × zones × roles'
# field modes); cleared whole if it ever grows past the bound.
_PLANS: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
_MAX_PLANS = 512


# DRF's fields whose `to_representation` reads only the value and the field's own arguments.
_NO_REQUEST: frozenset[type[Any]] = frozenset(
    {
        drf_fields.BooleanField,
        drf_fields.CharField,
        drf_fields.ChoiceField,
        drf_fields.DateField,
        drf_fields.DateTimeField,
        drf_fields.DecimalField,
        drf_fields.DurationField,
        drf_fields.EmailField,
        drf_fields.FloatField,
        drf_fields.IntegerField,
        drf_fields.IPAddressField,
        drf_fields.JSONField,
        drf_fields.ModelField,
        drf_fields.MultipleChoiceField,
        drf_fields.ReadOnlyField,
        drf_fields.RegexField,
        drf_fields.SlugField,
        drf_fields.TimeField,
        drf_fields.URLField,
        drf_fields.UUIDField,
        relations.PrimaryKeyRelatedField,
    }
)


def _needs_no_request(field: Any) -> bool:
    """A field whose output reads nothing of its serializer or the request: one of DRF's plain
    fields above, or a nested list marked `context_free`."""
    if isinstance(field, serializers.BaseSerializer):
        return bool(getattr(field, "context_free", False))
    return type(field) in _NO_REQUEST


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


def _plain_order(model: Any, conn: Any) -> str | None:
    """` ORDER BY …` of the model's default manager in plain columns, or None where that manager
    filters rows or orders by anything but the model's own columns (then the ORM reads them)."""
    query = model._default_manager.all().query
    if query.where or query.order_by or query.extra_order_by or query.select_related:
        return None
    parts = []
    for item in model._meta.ordering or ():
        if not isinstance(item, str) or "__" in item or item.lstrip("-") == "?":
            return None
        name = item.lstrip("-")
        try:
            field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if not getattr(field, "concrete", False) or field.is_relation:
            return None  # a relation orders by the related model's ordering
        parts.append(conn.ops.quote_name(field.column) + (" DESC" if item.startswith("-") else " ASC"))
    return " ORDER BY " + ", ".join(parts) if parts else ""


class FastListSerializer(serializers.ListSerializer):
    """`Meta.list_serializer_class` of a ModelSerializer whose lists are read often."""

    def _kept_plan(self, model: type[models.Model]) -> list[_Plan]:
        """The plan of this page: kept per process where the child allows (`list_plan_cacheable`),
        with the fields that read the request copied fresh and bound to this page's child."""
        child: Any = self.child
        if not getattr(child, "list_plan_cacheable", False):
            return self._plan(model, child._readable_fields)
        modes = child._modes() if hasattr(child, "_modes") else {}
        key = (
            type(child),
            get_language(),
            timezone.get_current_timezone_name(),
            tuple(sorted(modes.items())),
        )
        kept = _PLANS.get(key)
        if kept is None:
            kept = []
            for field in child._readable_fields:
                fresh = copy.deepcopy(field)  # unbound: the kept plan holds nothing of this request
                if _needs_no_request(fresh):
                    fresh.bind(field.field_name, None)
                    kept.append(self._plan(model, [fresh])[0] + (True,))
                else:
                    kept.append((field.field_name, _GENERIC, None, fresh, False))
            if len(_PLANS) >= _MAX_PLANS:
                _PLANS.clear()
            _PLANS[key] = kept
        plan: list[_Plan] = []
        for name, kind, source, extra, shared in kept:
            if shared:
                plan.append((name, kind, source, extra))
            else:
                field = copy.deepcopy(extra)
                field.bind(name, child)
                plan.extend(self._plan(model, [field]))
        return plan

    def _plan(self, model: type[models.Model], fields: Any) -> list[_Plan]:
        plan: list[_Plan] = []
        concrete = {f.name: f for f in model._meta.concrete_fields}
        for field in fields:
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
        conn = connections[related._default_manager.db]
        (order,) = plain_rows.built(  # in a tuple: None (the ORM reads them) is kept too
            conn, ("fastlist-order", related._meta.label_lower), lambda c: (_plain_order(related, c),)
        )
        found = None
        if order is not None:  # the same rows as the ORM's filter, by a statement built once
            columns, _attnames, _converters = plain_rows.reader(conn, related)
            found = plain_rows.select_in(
                conn,
                ("fastlist-rows", related._meta.label_lower, fk.column),
                lambda c: (
                    f"SELECT {', '.join(c.ops.quote_name(col) for col in columns)} "  # noqa: S608
                    f"FROM {c.ops.quote_name(related._meta.db_table)} WHERE {c.ops.quote_name(fk.column)}"
                ),
                [fk.target_field.get_db_prep_value(pk, conn) for pk in pks],
                tail=order,
            )
        if found is None:
            for row in related._default_manager.filter(**{f"{fk.attname}__in": pks}):
                by_parent[getattr(row, fk.attname)].append(row)
            return by_parent
        at = columns.index(fk.column)
        for values in found:
            by_parent[values[at]].append(plain_rows.instance(conn, related, values))
        return by_parent

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        iterable = data.all() if isinstance(data, models.manager.BaseManager) else data
        instances = list(iterable)
        if not instances:
            return []
        model = type(instances[0])
        if any(type(o) is not model for o in instances):
            return super().to_representation(instances)
        plan = self._kept_plan(model)
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
