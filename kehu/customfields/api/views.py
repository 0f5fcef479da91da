"""API of custom field definitions and picklists: any signed-in user reads them (forms and clients
need them); administrators write them, through the services."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.core.errors import DomainError
from kehu.core.permissions import is_admin

from .. import selectors, services
from ..filtersets import CustomFieldFilterSet, FieldRuleFilterSet, PicklistItemFilterSet
from .serializers import (
    CustomFieldSerializer,
    CustomFieldUpdateSerializer,
    FieldReorderSerializer,
    FieldRuleSerializer,
    FieldRuleUpdateSerializer,
    PicklistItemSerializer,
    PicklistItemUpdateSerializer,
    PicklistSerializer,
    PicklistUpdateSerializer,
    ReorderSerializer,
)


class ReadOrAdmin(permissions.IsAuthenticated):
    """Reading: any signed-in user. Writing: administrators only."""

    message = "Only administrators may change custom fields and picklists."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method in permissions.SAFE_METHODS or is_admin(request.user)


class _DefinitionViewSet(viewsets.ModelViewSet):
    permission_classes = [ReadOrAdmin]
    pagination_class = None
    lookup_value_regex = r"\d+"
    update_serializer_class: Any = None

    def get_serializer_class(self) -> Any:
        if self.action in ("update", "partial_update") and self.update_serializer_class is not None:
            return self.update_serializer_class
        return super().get_serializer_class()

    def _answer(self, instance: Any, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=instance.pk)
        serializer_class: Any = self.serializer_class
        return Response(serializer_class(fresh, context=self.get_serializer_context()).data, status=code)

    def _valid(self, request: Request, instance: Any = None, partial: bool = False) -> dict[str, Any]:
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        updated = self.perform_service_update(instance, self._valid(request, instance, partial))
        return self._answer(updated)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(self.perform_service_create(self._valid(request)), status.HTTP_201_CREATED)

    def perform_service_create(self, data: dict[str, Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def perform_service_update(self, obj: Any, data: dict[str, Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@extend_schema_view(
    list=extend_schema(summary="List custom field definitions"),
    retrieve=extend_schema(summary="Get a custom field definition"),
    create=extend_schema(summary="Define a custom field (administrators)"),
    update=extend_schema(summary="Replace a custom field definition (administrators)"),
    partial_update=extend_schema(
        summary="Change a custom field definition (administrators)",
        description="The type changes only while no record holds a value, or between compatible types "
        "(text → long text, integer → decimal); otherwise 409 `type_change_refused`. "
        "`is_active: false` deactivates the field (values are kept).",
    ),
    destroy=extend_schema(
        summary="Delete a custom field definition (administrators)",
        description="Refused with 409 `in_use` while records hold values: deactivate it instead.",
    ),
)
@extend_schema(tags=["custom fields"])
class CustomFieldViewSet(_DefinitionViewSet):
    """Custom field definitions (自定义字段). Filter with `?model=customers.account`."""

    serializer_class = CustomFieldSerializer
    update_serializer_class = CustomFieldUpdateSerializer
    filterset_class = CustomFieldFilterSet

    def get_queryset(self) -> Any:
        return selectors.custom_field_list(user=self.request.user)

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        model, name = data.pop("model"), data.pop("name")
        return services.custom_field_create(model=model, name=name, data=data, by=self.request.user)

    def perform_service_update(self, obj: Any, data: dict[str, Any]) -> Any:
        return services.custom_field_update(field=obj, data=data, by=self.request.user)

    def perform_destroy(self, instance: Any) -> None:
        services.custom_field_delete(field=instance, by=self.request.user)

    @extend_schema(
        summary="Reorder a model's custom fields (administrators)",
        request=FieldReorderSerializer,
        responses={204: None},
    )
    @action(detail=False, methods=["post"])
    def reorder(self, request: Request) -> Response:
        body = FieldReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.custom_field_reorder(
            model=body.validated_data["model"], ids=body.validated_data["ids"], by=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="List picklists with their items"),
    retrieve=extend_schema(summary="Get a picklist with its items"),
    create=extend_schema(summary="Create a picklist (administrators)"),
    update=extend_schema(summary="Replace a picklist's names (administrators)"),
    partial_update=extend_schema(summary="Change a picklist's names (administrators)"),
    destroy=extend_schema(
        summary="Delete a picklist (administrators)",
        description="Refused with 409 `in_use` for system picklists and while anything uses it.",
    ),
)
@extend_schema(tags=["custom fields"])
class PicklistViewSet(_DefinitionViewSet):
    """Picklists (数据字典) with their items, in order."""

    serializer_class = PicklistSerializer
    update_serializer_class = PicklistUpdateSerializer

    def get_queryset(self) -> Any:
        return selectors.picklist_list(user=self.request.user)

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        code = data.pop("code")
        return services.picklist_create(code=code, data=data, by=self.request.user)

    def perform_service_update(self, obj: Any, data: dict[str, Any]) -> Any:
        return services.picklist_update(picklist=obj, data=data, by=self.request.user)

    def perform_destroy(self, instance: Any) -> None:
        services.picklist_delete(picklist=instance, by=self.request.user)

    @extend_schema(
        summary="Reorder a picklist's items (administrators)",
        request=ReorderSerializer,
        responses={204: None},
    )
    @action(detail=True, methods=["post"], url_path="reorder-items")
    def reorder_items(self, request: Request, pk: str | None = None) -> Response:
        picklist = self.get_object()
        body = ReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.picklist_item_reorder(picklist=picklist, ids=body.validated_data["ids"], by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="List picklist items"),
    retrieve=extend_schema(summary="Get a picklist item"),
    create=extend_schema(summary="Add an item to a picklist (administrators)"),
    update=extend_schema(summary="Replace a picklist item (administrators)"),
    partial_update=extend_schema(
        summary="Change a picklist item (administrators)",
        description="`is_active: false` deactivates it: no longer offered, still shown where stored. "
        "The value changes only while no record holds it (409 `in_use`).",
    ),
    destroy=extend_schema(
        summary="Delete a picklist item (administrators)",
        description="Refused with 409 `in_use` while records hold its value: deactivate it instead.",
    ),
)
@extend_schema(tags=["custom fields"])
class PicklistItemViewSet(_DefinitionViewSet):
    """Items of picklists. Filter with `?picklist=<id>` or `?picklist_code=industry`."""

    serializer_class = PicklistItemSerializer
    update_serializer_class = PicklistItemUpdateSerializer
    filterset_class = PicklistItemFilterSet

    def get_queryset(self) -> Any:
        return selectors.picklist_item_list(user=self.request.user)

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        picklist = data.pop("picklist")
        return services.picklist_item_create(picklist=picklist, data=data, by=self.request.user)

    def perform_service_update(self, obj: Any, data: dict[str, Any]) -> Any:
        data.pop("picklist", None)
        return services.picklist_item_update(item=obj, data=data, by=self.request.user)

    def perform_destroy(self, instance: Any) -> None:
        services.picklist_item_delete(item=instance, by=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List data collection standards (field rules)"),
    retrieve=extend_schema(summary="Get a field rule"),
    create=extend_schema(
        summary="Set the data standard of a field (administrators)",
        description="`field` is a standard field name or `custom.<name>`. For custom fields, `required` "
        "and the pattern settings are stored on the custom field definition. A changed weight starts "
        "the recomputation of every record's completeness (a background job).",
    ),
    update=extend_schema(summary="Replace a field rule (administrators)"),
    partial_update=extend_schema(summary="Change a field rule (administrators)"),
    destroy=extend_schema(
        summary="Remove a field rule (administrators)",
        description="The field falls back to its defaults; a custom field keeps its own required "
        "and pattern.",
    ),
)
@extend_schema(tags=["custom fields"])
class FieldRuleViewSet(_DefinitionViewSet):
    """Data collection standards (数据采集规范): required, pattern, unique and completeness weight per
    field. Filter with `?model=customers.account`."""

    serializer_class = FieldRuleSerializer
    update_serializer_class = FieldRuleUpdateSerializer
    filterset_class = FieldRuleFilterSet

    def get_queryset(self) -> Any:
        return selectors.field_rule_list(user=self.request.user)

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        model, field = data.pop("model"), data.pop("field")
        if (
            selectors.field_rule_list(user=self.request.user)
            .filter(model=model.lower(), field=field)
            .exists()
        ):
            msg = _("This field already has a rule: change it instead.")
            raise DomainError(msg, fields={"field": [msg]})
        return services.field_rule_set(model=model, field=field, data=data, by=self.request.user)

    def perform_service_update(self, obj: Any, data: dict[str, Any]) -> Any:
        data.pop("model", None)
        data.pop("field", None)
        return services.field_rule_set(model=obj.model, field=obj.field, data=data, by=self.request.user)

    def perform_destroy(self, instance: Any) -> None:
        services.field_rule_delete(rule=instance, by=self.request.user)
