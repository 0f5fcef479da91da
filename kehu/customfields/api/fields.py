"""The ``custom`` object of customizable models in the API.

``CustomFieldsField`` (or ``CustomFieldsSerializerMixin`` in ``serializers.py``, which declares it)
reads the record's values of the active custom fields (every active field is present, null when
empty) and validates writes through ``services.custom_values_clean`` (partial on PATCH; defaults
and ``required`` on create). Errors are keyed ``custom.<name>`` in the API error body. In the
OpenAPI schema the object has one typed property per active custom field at the time the schema is
generated (it stays open for fields added later).

Field permissions (``custom.<name>``): hidden fields are left out and masked ones masked; writes to
them are refused unless unchanged. When the parent serializer uses
``kehu.core.api.mixins.FieldPermissionSerializerMixin``, that mixin applies them to the output.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_array_type, build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers
from rest_framework.fields import SkipField, empty

from kehu.core.api.mixins import FieldPermissionSerializerMixin
from kehu.core.choices import FieldMode
from kehu.core.masking import mask_value
from kehu.core.permissions import field_modes

from ..choices import MASKABLE_TYPES, FieldType
from ..display import mask_kind
from ..models import CustomField
from ..selectors import custom_fields_for
from ..services import KEY_PREFIX, CustomFieldError, custom_values_clean
from ..validation import field_items


class CustomFieldsField(serializers.Field):
    default_error_messages = {"not_a_dict": _("Custom fields must be an object.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            "Custom field values by name (definitions: /api/v1/custom-fields/fields/?model=...). "
            "Empty values are null.",
        )
        super().__init__(**kwargs)

    # --- context -------------------------------------------------------------------------------

    def _model(self) -> type[models.Model]:
        model = getattr(getattr(self.parent, "Meta", None), "model", None)
        if model is None:
            raise TypeError("CustomFieldsField must be used in a ModelSerializer")
        return model

    def _definitions(self) -> list[CustomField]:
        # One query per request and model, shared by every row of a list (and kept on the field:
        # a list's rows ask it once each).
        found: list[CustomField] | None = self.__dict__.get("_kehu_definitions")
        if found is not None:
            return found
        cache = (
            self.context.setdefault("_customfields_definitions", {}) if isinstance(self.context, dict) else {}
        )
        model = self._model()
        label = model._meta.label_lower
        if label not in cache:
            cache[label] = custom_fields_for(model)
        self.__dict__["_kehu_definitions"] = cache[label]
        return cache[label]

    def _modes(self) -> dict[str, str]:
        request = self.context.get("request") if isinstance(self.context, dict) else None
        user = getattr(request, "user", None)
        return field_modes(user, self._model()) if user is not None else {}

    def _parent_applies_permissions(self) -> bool:
        return isinstance(self.parent, FieldPermissionSerializerMixin)

    # --- read ----------------------------------------------------------------------------------

    def to_representation(self, value: Any) -> dict[str, Any]:
        stored = value if isinstance(value, dict) else {}
        modes = {} if self._parent_applies_permissions() else self._modes()
        out: dict[str, Any] = {}
        for field in self._definitions():
            mode = modes.get(field.key)
            if mode == FieldMode.HIDDEN:
                continue
            current = stored.get(field.name)
            if mode == FieldMode.MASKED and current is not None:
                current = mask_value(str(current), mask_kind(field)) if field.type in MASKABLE_TYPES else None
            out[field.name] = current
        return out

    # --- write ---------------------------------------------------------------------------------

    def run_validation(self, data: Any = empty) -> Any:
        if data is empty:
            if getattr(self.root, "partial", False) or getattr(self.root, "instance", None) is not None:
                raise SkipField  # an update that does not mention custom fields leaves them alone
            data = {}  # create: defaults and required fields still apply
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail("not_a_dict")
        instance = getattr(self.root, "instance", None)
        stored = getattr(instance, "custom", None) if isinstance(instance, models.Model) else None
        locked = {
            name[len(KEY_PREFIX) :]
            for name, mode in self._modes().items()
            if name.startswith(KEY_PREFIX)
            and mode in (FieldMode.HIDDEN, FieldMode.MASKED, FieldMode.READ_ONLY)
        }
        try:
            return custom_values_clean(
                model=self._model(),
                values=data,
                instance_values=(stored or {}) if isinstance(instance, models.Model) else None,
                partial=bool(getattr(self.root, "partial", False)),
                exclude=locked,
            )
        except CustomFieldError as exc:
            raise serializers.ValidationError(
                {k[len(KEY_PREFIX) :] if k.startswith(KEY_PREFIX) else k: v for k, v in exc.fields.items()}
            ) from exc


def _property(field: CustomField) -> dict[str, Any]:
    t = field.type
    schema: dict[str, Any]
    if t == FieldType.INTEGER:
        schema = build_basic_type(OpenApiTypes.INT64) or {}
    elif t == FieldType.DECIMAL:
        schema = {"type": "string", "format": "decimal", "pattern": r"^-?\d{1,18}(\.\d{1,10})?$"}
    elif t == FieldType.DATE:
        schema = {"type": "string", "format": "date"}
    elif t == FieldType.DATETIME:
        schema = {"type": "string", "format": "date-time"}
    elif t == FieldType.BOOLEAN:
        schema = {"type": "boolean"}
    elif t in (FieldType.SINGLE_CHOICE, FieldType.MULTI_CHOICE):
        values: list[Any] = [i.value for i in field_items(field)]
        if t == FieldType.MULTI_CHOICE:
            schema = build_array_type({"type": "string", "enum": values})
        else:
            # OpenAPI 3.0: a nullable enum lists null among its values
            schema = {"type": "string", "enum": [*values, None]}
    elif t == FieldType.URL:
        schema = {"type": "string", "format": "uri", "maxLength": 500}
    elif t == FieldType.EMAIL:
        schema = {"type": "string", "format": "email", "maxLength": 254}
    elif t == FieldType.LONG_TEXT:
        schema = {"type": "string", "maxLength": 10_000}
    else:
        schema = {"type": "string", "maxLength": 255 if t == FieldType.TEXT else 40}
    description = f"{field.label_en or field.label} ({FieldType(t).label})"
    if field.required:
        description += "; required"
    return {**schema, "nullable": True, "description": description}


class CustomFieldsFieldExtension(OpenApiSerializerFieldExtension):
    """A typed object: one property per active custom field when the schema is generated."""

    target_class = "kehu.customfields.api.fields.CustomFieldsField"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "object",
            "additionalProperties": True,
            "description": "Custom field values by name (see /api/v1/custom-fields/fields/). "
            "Empty values are null.",
        }
        model = getattr(getattr(self.target.parent, "Meta", None), "model", None)
        if model is None:
            return schema
        try:
            definitions = custom_fields_for(model)
        except DatabaseError:  # schema generated without a database (e.g. `manage.py spectacular`)
            return schema
        if definitions:
            schema["properties"] = {f.name: _property(f) for f in definitions}
        return schema
