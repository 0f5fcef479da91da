"""Pools (公海) over the API: configuration CRUD, the records in a pool, claim / return / assign /
transfer, history and the recycling preview. Every write goes through kehu.sales.services.pools;
refusals answer ``{"code", "message", "fields"}`` (409 for a record just claimed by someone else,
400 for a broken rule, naming the record and the rule)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.urls import URLPattern
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.mixins import RestrictedModelViewSet
from kehu.core.choices import Action
from kehu.core.permissions import can, is_admin
from kehu.users.models import Department

from ..choices import PoolKind
from ..errors import SalesError
from ..models import Pool, PoolHistory
from ..selectors import pools as selectors
from ..services import pools as services

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class PoolSerializer(serializers.ModelSerializer):
    member_users = serializers.PrimaryKeyRelatedField(
        many=True, queryset=get_user_model().objects.filter(is_active=True), required=False
    )
    member_departments = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Department.objects.all(), required=False
    )
    admins = serializers.PrimaryKeyRelatedField(
        many=True, queryset=get_user_model().objects.filter(is_active=True), required=False
    )
    in_pool_count = serializers.IntegerField(read_only=True, help_text="Records in the pool now.")

    class Meta:
        model = Pool
        fields = ["id", *services.POOL_FIELDS, *services.POOL_M2M, "in_pool_count"]
        read_only_fields = ["id", "in_pool_count"]


class IdsSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=services.MAX_IDS,
        help_text="Ids of the leads (lead pool) or accounts (account pool).",
    )


class ReturnSerializer(IdsSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AssignSerializer(IdsSerializer):
    to = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), help_text="The new owner."
    )


class TransferSerializer(IdsSerializer):
    to_pool = serializers.PrimaryKeyRelatedField(queryset=Pool.objects.all())
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ClaimResultSerializer(serializers.Serializer):
    claimed = serializers.ListField(child=serializers.IntegerField())
    claims_today = serializers.IntegerField()
    max_claims_per_day = serializers.IntegerField(allow_null=True)


class PoolRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    company = serializers.CharField(required=False)
    source = serializers.CharField()  # type: ignore[assignment]
    province = serializers.CharField()
    city = serializers.CharField()
    entered_at = serializers.DateTimeField(source="pool_item.entered_at")


class PoolHistorySerializer(serializers.ModelSerializer):
    class Meta:
        model = PoolHistory
        fields = [
            "id",
            "pool",
            "lead",
            "account",
            "action",
            "from_user",
            "to_user",
            "to_pool",
            "reason",
            "recycle_reason",
            "by",
            "at",
        ]


class PreviewRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="record.pk")
    record = serializers.CharField()
    owner = serializers.IntegerField(source="owner.pk")
    due_at = serializers.DateTimeField()
    reason = serializers.CharField(help_text="no_follow_up or not_converted")
    reason_label = serializers.CharField()


class PoolPermission(permissions.IsAuthenticated):
    """Members read their pools and act through the pool actions; creating a pool needs "add"."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        if view.action == "create":
            return can(request.user, Pool, Action.ADD)
        return True


@extend_schema_view(
    list=extend_schema(summary="List pools (the user's; all for pool administrators)"),
    retrieve=extend_schema(summary="Get a pool"),
    create=extend_schema(summary="Create a pool"),
    update=extend_schema(summary="Replace a pool"),
    partial_update=extend_schema(summary="Change a pool"),
    destroy=extend_schema(summary="Delete a pool that never held a record"),
)
@extend_schema(tags=["sales"])
class PoolViewSet(RestrictedModelViewSet):
    """Lead pools (线索池) and account pools (客户公海) with their members and rules."""

    model = Pool
    serializer_class = PoolSerializer
    permission_classes = [PoolPermission]
    filterset_class = None

    def get_queryset(self) -> Any:
        user = self.request.user
        qs = Pool.objects.all()
        if not (selectors.may_configure(user) or is_admin(user)):
            qs = qs.filter(pk__in=selectors.member_pool_ids(user))
        kind = self.request.query_params.get("kind", "") if self.action == "list" else ""
        if kind in PoolKind.values:
            qs = qs.filter(kind=kind)
        if self.action not in ("list", "retrieve", "create", "update", "partial_update"):
            # claim / return / assign / ...: the pool row only (no count over its records)
            return qs
        from django.db.models import Count, Q

        return (
            qs.annotate(in_pool_count=Count("items", filter=Q(items__in_pool=True)))
            .prefetch_related("member_users", "member_departments", "admins")
            .order_by("kind", "order", "id")
        )

    def filter_queryset(self, queryset: Any) -> Any:
        return queryset

    def _read(self, instance: Any) -> Any:
        fresh = self.get_queryset().filter(pk=instance.pk).first()
        return self.get_serializer(fresh or instance).data

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        return services.pool_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: Any, data: dict[str, Any], version: int | None) -> Any:
        return services.pool_update(pool=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: Any) -> None:
        services.pool_delete(pool=obj, by=self.request.user)

    # --- records and moves ---------------------------------------------------------------------

    def _records(self, pool: Pool, ids: list[int]) -> list[Any]:
        """The records `ids` as the user may see them; an id they may not see is an error naming it."""
        model = services.record_model(pool)
        found = {r.pk: r for r in model.objects.restrict(self.request.user, Action.VIEW).filter(pk__in=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            message = _("No such record: %(ids)s.") % {"ids": ", ".join(str(i) for i in missing)}
            raise SalesError(message, code="not_found", fields={"ids": [message]})
        return [found[i] for i in dict.fromkeys(ids)]

    @extend_schema(
        summary="Records in the pool now",
        responses=PoolRecordSerializer(many=True),
        parameters=[OpenApiParameter("q", str, description="Name, company or phone contains")],
    )
    @action(detail=True, methods=["get"])
    def records(self, request: Request, pk: Any = None) -> Response:
        pool = self.get_object()
        qs = selectors.pool_records(user=request.user, pool=pool).order_by("-id")
        q = (request.query_params.get("q") or "").strip()[:100]
        if q:
            from ..forms_pools import PoolFilterForm

            qs = PoolFilterForm({"q": q}).apply(qs)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(PoolRecordSerializer(page, many=True).data)

    @extend_schema(
        summary="Claim records (领取)",
        request=IdsSerializer,
        responses={200: ClaimResultSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, pk: Any = None) -> Response:
        pool = selectors.pool_for_action(user=request.user, pk=pk)
        body = IdsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        claimed, today = services.pool_claim_counted(
            pool=pool, ids=body.validated_data["ids"], by=request.user
        )
        return Response(
            {
                "claimed": [r.pk for r in claimed],
                "claims_today": today,
                "max_claims_per_day": pool.max_claims_per_day,
            }
        )

    @extend_schema(
        summary="Return owned records to this pool (退回)",
        request=ReturnSerializer,
        responses={
            200: inline_serializer("PoolReturned", {"returned": serializers.IntegerField()}),
            **ERRORS,
        },
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request: Request, pk: Any = None) -> Response:
        pool = self.get_object()
        body = ReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        records = self._records(pool, body.validated_data["ids"])
        n = services.pool_return(
            records=records, by=request.user, reason=body.validated_data["reason"], pool=pool
        )
        return Response({"returned": n})

    @extend_schema(
        summary="Assign records of the pool to a user (分配)",
        request=AssignSerializer,
        responses={
            200: inline_serializer(
                "PoolAssigned", {"assigned": serializers.ListField(child=serializers.IntegerField())}
            ),
            **ERRORS,
        },
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: Any = None) -> Response:
        pool = self.get_object()
        body = AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        done = services.pool_assign(
            pool=pool, ids=body.validated_data["ids"], to=body.validated_data["to"], by=request.user
        )
        return Response({"assigned": [r.pk for r in done]})

    @extend_schema(
        summary="Transfer records in this pool to another pool",
        request=TransferSerializer,
        responses={
            200: inline_serializer("PoolTransferred", {"transferred": serializers.IntegerField()}),
            **ERRORS,
        },
    )
    @action(detail=True, methods=["post"])
    def transfer(self, request: Request, pk: Any = None) -> Response:
        pool = self.get_object()
        body = TransferSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        records = self._records(pool, body.validated_data["ids"])
        for record in records:
            item = selectors.home_pool(record)
            if item is None or item.pool_id != pool.pk:
                message = _("%(record)s is not in the pool %(pool)s.") % {"record": record, "pool": pool.name}
                raise SalesError(message, code="not_in_pool", fields={"ids": [message]})
        n = services.pool_transfer(
            records=records,
            to_pool=body.validated_data["to_pool"],
            by=request.user,
            reason=body.validated_data["reason"],
        )
        return Response({"transferred": n})

    @extend_schema(summary="Pool history (every move)", responses=PoolHistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: Any = None) -> Response:
        pool = self.get_object()
        qs = selectors.pool_history(pool=pool)
        if not (services.is_pool_admin(request.user, pool) or selectors.may_configure(request.user)):
            model = services.record_model(pool)
            field = "lead" if pool.kind == PoolKind.LEAD else "account"
            qs = qs.filter(**{f"{field}__in": model.objects.restrict(request.user, Action.VIEW).values("pk")})
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(PoolHistorySerializer(page, many=True).data)

    @extend_schema(
        summary="What recycling takes back by the end of a day, and why",
        parameters=[OpenApiParameter("on", str, description="YYYY-MM-DD; default tomorrow")],
        responses={200: PreviewRowSerializer(many=True), 400: ErrorSerializer},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def preview(self, request: Request, pk: Any = None) -> Response:
        pool = self.get_object()
        raw = request.query_params.get("on") or ""
        try:
            on = dt.date.fromisoformat(raw) if raw else timezone.localdate() + dt.timedelta(days=1)
        except ValueError as exc:
            message = _("Enter a date as YYYY-MM-DD.")
            raise SalesError(message, fields={"on": [message]}) from exc
        due = services.pool_recycle_preview(pool=pool, on=on)
        if not (services.is_pool_admin(request.user, pool) or selectors.may_configure(request.user)):
            model = services.record_model(pool)
            visible = set(
                model.objects.restrict(request.user, Action.VIEW)
                .filter(pk__in=[d.record.pk for d in due])
                .values_list("pk", flat=True)
            )
            due = [d for d in due if d.record.pk in visible]
        return Response(PreviewRowSerializer(due, many=True).data)


def register(router: SimpleRouter) -> None:
    """Register this area's viewsets on the sales API router."""
    router.register("pools", PoolViewSet, basename="pool")


urlpatterns: list[URLPattern] = []
