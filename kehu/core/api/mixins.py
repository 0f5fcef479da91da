"""Reusable API pieces for owned, restricted models.

* `FieldPermissionSerializerMixin`: field permissions on serializers. Hidden fields are left out,
  masked values are masked on read, and a write that names a hidden, masked or read-only field is
  refused with a field error (clearer than ignoring it silently).
* `ModelActionPermission`: the user must hold the view's action on the model in some scope
  (list/create without it: 403); single records come from ``restrict()`` (outside scope: 404).
* `RestrictedModelViewSet`: CRUD whose writes go through services. Subclasses implement
  ``perform_service_create(data)``, ``perform_service_update(obj, data, version)`` and
  ``perform_service_delete(obj)``; a ``version`` in the body turns on optimistic locking (409 when
  stale). ``POST {id}/reveal/`` with ``{"field": "phone"}`` returns a masked value in full and
  records it.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from django.db import models
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.core.choices import Action, FieldMode
from kehu.core.generic import names_a_filter
from kehu.core.masking import guess_kind, mask_value, reveal_value
from kehu.core.permissions import can, field_modes, managed_model

# DRF action -> permission action
ACTION_MAP = {
    "list": Action.VIEW,
    "retrieve": Action.VIEW,
    "create": Action.ADD,
    "update": Action.CHANGE,
    "partial_update": Action.CHANGE,
    "destroy": Action.DELETE,
    "reveal": Action.VIEW,
}


class FieldPermissionSerializerMixin:
    """For ModelSerializers with a ``request`` in their context.

    `mask_kinds` maps a field to "phone" / "email" / "text" when its name does not tell."""

    mask_kinds: ClassVar[dict[str, str]] = {}
    context: dict[str, Any]
    initial_data: Any

    def _modes(self) -> dict[str, str]:
        cached = getattr(self, "_kehu_modes", None)
        if cached is None:
            request = self.context.get("request")
            model = self.Meta.model  # type: ignore[attr-defined]
            cached = field_modes(getattr(request, "user", None), model) if request is not None else {}
            self._kehu_modes = cached
        return cached

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()  # type: ignore[misc]
        for name, mode in self._modes().items():
            if mode == FieldMode.HIDDEN:
                fields.pop(name, None)
        return fields

    def to_representation(self, instance: Any) -> Any:
        return self.apply_read_permissions(super().to_representation(instance))  # type: ignore[misc]

    def apply_read_permissions(self, data: Any) -> Any:
        """Hide and mask the fields of one record's output (also called per row by
        `kehu.core.api.fastlist.FastListSerializer`)."""
        for name, mode in self._modes().items():
            target, key = data, name
            if name.startswith("custom.") and isinstance(data.get("custom"), dict):
                # Custom fields are keyed "custom.<name>" and live in the `custom` object.
                target, key = data["custom"], name[len("custom.") :]
            if key not in target:
                continue
            if mode == FieldMode.HIDDEN:
                target.pop(key)
            elif mode == FieldMode.MASKED and target[key] not in (None, ""):
                target[key] = mask_value(target[key], self.mask_kinds.get(name) or guess_kind(key))
        return data

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            # Custom fields ("custom.<name>") are refused by custom_values_clean in the service.
            refused = {
                name: [_("You may not change this field.")]
                for name, mode in self._modes().items()
                if name in data and mode in (FieldMode.HIDDEN, FieldMode.MASKED, FieldMode.READ_ONLY)
            }
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)  # type: ignore[misc]


class CachedModelFieldsMixin:
    """Put right before `ModelSerializer` in the bases: the fields it derives from the model
    (introspection of ~40 model fields, their validators and uniqueness rules, ~5 ms per request
    on a list) are built once per class and deep-copied per serializer, as DRF copies declared
    fields. Per language: DRF leaves out a label that equals the field's name, which depends on
    the active language. Whatever depends on the request (field permissions, scoped querysets)
    stays in the `get_fields` of the classes before it."""

    _kehu_field_prototypes: ClassVar[dict[tuple[type[Any], str | None], dict[str, serializers.Field]]] = {}

    def get_fields(self) -> dict[str, serializers.Field]:
        prototypes = CachedModelFieldsMixin._kehu_field_prototypes
        key = (type(self), get_language())
        if key not in prototypes:
            prototypes[key] = super().get_fields()  # type: ignore[misc]
        return copy.deepcopy(prototypes[key])


class ModelActionPermission(permissions.IsAuthenticated):
    """Signed in, and holding the action on the model in some scope."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        model = getattr(view, "model", None)
        needed = ACTION_MAP.get(getattr(view, "action", "") or "")
        if model is None or needed is None:
            return True
        # Detail routes: the queryset answers 404 outside scope; only collection routes say 403.
        if view.action in ("list", "create"):
            return can(request.user, model, needed)
        return True


class RevealSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The name of a masked field.")


class RestrictedModelViewSet(viewsets.ModelViewSet):
    """CRUD over ``model.objects.restrict(user, action)`` with writes through services."""

    model: ClassVar[type[models.Model]]
    permission_classes = [ModelActionPermission]
    lookup_value_regex = r"\d+"
    select_related: ClassVar[tuple[str, ...]] = ()

    def get_queryset(self) -> Any:
        needed = ACTION_MAP.get(self.action or "", Action.VIEW)
        qs = self.model._default_manager.restrict(self.request.user, needed)  # type: ignore[attr-defined]
        return qs.select_related(*self.select_related) if self.select_related else qs

    def filter_queryset(self, queryset: Any) -> Any:
        if self.action != "list":
            return queryset
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None and not names_a_filter(filterset_class, self.request.query_params):
            # ?page_size=25&cursor=…: no FilterSet form to build and validate (kehu.core.generic).
            for backend in self.filter_backends:
                if not issubclass(backend, DjangoFilterBackend):
                    queryset = backend().filter_queryset(self.request, queryset, self)
            return queryset
        return super().filter_queryset(queryset)

    def get_object(self) -> Any:
        try:
            return super().get_object()
        except Http404:
            needed = ACTION_MAP.get(self.action or "", Action.VIEW)
            if needed != Action.VIEW:
                # Visible but not changeable/deletable: say so (its existence is no secret).
                lookup = {self.lookup_field: self.kwargs[self.lookup_url_kwarg or self.lookup_field]}
                visible = self.model._default_manager.restrict(  # type: ignore[attr-defined]
                    self.request.user, Action.VIEW
                )
                if visible.filter(**lookup).exists():
                    raise PermissionDenied(
                        _("You may not %(action)s this %(model)s.")
                        % {"action": needed.label.lower(), "model": self.model._meta.verbose_name}
                    ) from None
            raise

    # --- writes through services ---------------------------------------------------------

    def perform_service_create(self, data: dict[str, Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def perform_service_update(
        self, obj: Any, data: dict[str, Any], version: int | None
    ) -> Any:  # pragma: no cover
        raise NotImplementedError

    def perform_service_delete(self, obj: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        serializer.instance = self.perform_service_create(data)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        serializer.instance = self.perform_service_update(serializer.instance, data, version)

    def perform_destroy(self, instance: Any) -> None:
        self.perform_service_delete(instance)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        # Re-read through restrict(): the answer shows what the user may see of the new record.
        return Response(self._read(serializer.instance), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        return Response(self._read(serializer.instance))

    def _read(self, instance: Any) -> Any:
        qs = self.model._default_manager.restrict(self.request.user, Action.VIEW)  # type: ignore[attr-defined]
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        fresh = qs.filter(pk=instance.pk).first()
        if fresh is None:  # handed over outside the user's scope: show the id only
            return {"id": instance.pk}
        return self.get_serializer(fresh).data

    @extend_schema(
        request=RevealSerializer,
        responses={
            200: inline_serializer(
                "RevealedValue",
                {"field": serializers.CharField(), "value": serializers.CharField(allow_null=True)},
            )
        },
    )
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The full value of a masked field (recorded in the operation log)."""
        obj = self.get_object()
        body = RevealSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        name = body.validated_data["field"]
        managed = managed_model(self.model._meta.label_lower)
        mode = field_modes(request.user, self.model).get(name)
        if managed is None or name not in managed.fields or mode == FieldMode.HIDDEN:
            raise serializers.ValidationError({"field": [_("This field cannot be revealed.")]})
        value = (
            reveal_value(user=request.user, obj=obj, field=name)
            if mode == FieldMode.MASKED
            else getattr(obj, name)
        )
        return Response({"field": name, "value": value})
