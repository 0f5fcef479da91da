"""API of the users app: token login, the signed-in user, personal tokens, and the administration of
users, departments and roles. Reads go through selectors/restrict(), writes through services."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, user_logged_in
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.mixins import ACTION_MAP, RestrictedModelViewSet
from kehu.core.api.pagination import KeysetPagination
from kehu.core.choices import Action
from kehu.core.errors import DomainError, PermissionDeniedError

from .. import selectors, services
from ..filtersets import UserFilterSet
from ..lockout import is_locked_out, lockout_message
from ..models import ApiToken, Department, Role, User
from .serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenSerializer,
    DepartmentSerializer,
    MeSerializer,
    RoleSerializer,
    SetPasswordSerializer,
    TokenLoginSerializer,
    UserSerializer,
)


class LockedOutError(PermissionDeniedError):
    code = "locked_out"


class MfaRequiredError(PermissionDeniedError):
    code = "mfa_required"


# --- token login ----------------------------------------------------------------------------------


class TokenLoginView(APIView):
    """Exchange a username (or e-mail) and password for a new personal API token.

    Failed attempts count towards the sign-in lockout like the sign-in form's. Accounts with
    two-factor authentication cannot use this: create a personal token in the profile instead."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_token_create",
        request=TokenLoginSerializer,
        responses={
            201: ApiTokenCreatedSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
        },
        auth=[],
        description="`invalid_credentials` (400), `locked_out` (403: too many failures) and "
        "`mfa_required` (403: the account uses two-factor authentication) are the error codes.",
    )
    def post(self, request: Request) -> Response:
        body = TokenLoginSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        login = body.validated_data["username"].strip()
        credentials = {"username": login, "password": body.validated_data["password"]}
        if "@" in login:
            credentials["email"] = login
        http_request = request._request
        user = authenticate(request=http_request, **credentials)
        if user is None:
            if is_locked_out(http_request):
                raise LockedOutError(lockout_message())
            raise DomainError(
                _("The username and/or password you specified are not correct."), code="invalid_credentials"
            )
        if selectors.user_has_mfa(user=user):
            raise MfaRequiredError(
                _(
                    "This account uses two-factor authentication, so it cannot get a token with a "
                    "password. Create a personal API token under Profile and settings instead."
                )
            )
        user_logged_in.send(sender=user.__class__, request=http_request, user=user)
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        token, key = services.api_token_create(
            user=user, name=_("API login %(date)s") % {"date": stamp}, by=user
        )
        data = ApiTokenCreatedSerializer(token).data
        data["key"] = key
        return Response(data, status=status.HTTP_201_CREATED)


# --- the signed-in user ---------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(tags=["users"], operation_id="users_me_retrieve"),
    patch=extend_schema(tags=["users"], operation_id="users_me_partial_update"),
)
class MeView(generics.RetrieveUpdateAPIView):
    """The signed-in user: who they are, their department and roles; they may change their
    display name, phone, language and time zone."""

    serializer_class = MeSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> Any:
        return self.request.user

    def perform_update(self, serializer: Any) -> None:
        user = self.request.user
        data = serializer.validated_data
        serializer.instance = services.user_update_profile(
            user=user,  # type: ignore[arg-type]
            display_name=data.get("display_name", user.display_name),  # type: ignore[union-attr]
            phone=data.get("phone", user.phone),  # type: ignore[union-attr]
            language=data.get("language", user.language),  # type: ignore[union-attr]
            time_zone=data.get("time_zone", user.time_zone),  # type: ignore[union-attr]
            version=data.get("version"),
        )


# --- personal tokens ------------------------------------------------------------------------------


@extend_schema(tags=["users"])
class ApiTokenViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Your own personal API tokens: list, create (the key is shown once) and revoke."""

    serializer_class = ApiTokenSerializer
    lookup_value_regex = r"\d+"
    queryset = ApiToken.objects.none()

    def get_queryset(self) -> Any:
        return selectors.api_token_list(user=self.request.user)

    @extend_schema(request=ApiTokenSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = ApiTokenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, key = services.api_token_create(
            user=request.user,  # type: ignore[arg-type]
            name=body.validated_data["name"],
            expires_at=body.validated_data.get("expires_at"),
            by=request.user,  # type: ignore[arg-type]
        )
        data = ApiTokenCreatedSerializer(token).data
        data["key"] = key
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ApiTokenSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Revoke the token: it stops working at once (revoking twice is harmless)."""
        token = self.get_object()
        token = services.api_token_revoke(token=token, by=request.user)  # type: ignore[arg-type]
        return Response(ApiTokenSerializer(token).data)


# --- administration -------------------------------------------------------------------------------


class UsernamePagination(KeysetPagination):
    ordering = "username"


class PathPagination(KeysetPagination):
    ordering = "path"


class NamePagination(KeysetPagination):
    ordering = "name"


@extend_schema(tags=["users"])
class UserViewSet(RestrictedModelViewSet):
    """Users (administrators, or roles with permissions on users). Users are never deleted:
    deactivate them."""

    model = User
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    pagination_class = UsernamePagination
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    extra_actions_map = {
        "deactivate": Action.CHANGE,
        "activate": Action.CHANGE,
        "set_password": Action.CHANGE,
    }

    def get_queryset(self) -> Any:
        needed = self.extra_actions_map.get(self.action or "") or ACTION_MAP.get(
            self.action or "", Action.VIEW
        )
        return (
            User.objects.restrict(self.request.user, needed)
            .select_related("department")
            .prefetch_related("roles")
            .order_by("username")
        )

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        password = data.pop("password", "") or None
        return services.user_create(
            password=password,
            roles=data.pop("roles", []),
            by=self.request.user,  # type: ignore[arg-type]
            **data,
        )

    def perform_service_update(self, obj: Any, data: dict[str, Any], version: int | None) -> Any:
        if data.pop("password", None):
            raise serializers.ValidationError(
                {"password": [_("Use the set_password action to change a password.")]}
            )
        roles = data.pop("roles", None)
        return services.user_update(
            user=obj,
            by=self.request.user,  # type: ignore[arg-type]
            version=version,
            roles=roles,
            **data,
        )

    @extend_schema(request=None, responses={200: UserSerializer})
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str | None = None) -> Response:
        """Stop the user signing in (their records stay; their API tokens are revoked)."""
        user = services.user_deactivate(user=self.get_object(), by=request.user)  # type: ignore[arg-type]
        return Response(self._read(user))

    @extend_schema(request=None, responses={200: UserSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: str | None = None) -> Response:
        """Let a deactivated user sign in again."""
        user = services.user_activate(user=self.get_object(), by=request.user)  # type: ignore[arg-type]
        return Response(self._read(user))

    @extend_schema(request=SetPasswordSerializer, responses={204: None})
    @action(detail=True, methods=["post"], url_path="set-password")
    def set_password(self, request: Request, pk: str | None = None) -> Response:
        """Set a new password for the user (an administrator's reset)."""
        user = self.get_object()
        body = SetPasswordSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.user_set_password(
            user=user,
            password=body.validated_data["password"],
            by=request.user,  # type: ignore[arg-type]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["departments"])
class DepartmentViewSet(RestrictedModelViewSet):
    """The department tree. Changing `parent_id` moves a department with its subtree; a department
    with members or sub-departments cannot be deleted (409)."""

    model = Department
    serializer_class = DepartmentSerializer
    pagination_class = PathPagination

    def get_queryset(self) -> Any:
        return (
            super()
            .get_queryset()
            .select_related("parent", "manager")
            .annotate(member_count=Count("members", distinct=True))
        )

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        return services.department_create(
            name=data["name"],
            parent=data.get("parent"),
            manager=data.get("manager"),
            by=self.request.user,  # type: ignore[arg-type]
        )

    def perform_service_update(self, obj: Any, data: dict[str, Any], version: int | None) -> Any:
        return services.department_change(department=obj, by=self.request.user, **data)  # type: ignore[arg-type]

    def perform_service_delete(self, obj: Any) -> None:
        services.department_delete(department=obj, by=self.request.user)  # type: ignore[arg-type]


@extend_schema(tags=["roles"])
class RoleViewSet(RestrictedModelViewSet):
    """Roles with their permissions (model, action, data scope) and field permissions. A role still
    assigned to users cannot be deleted (409)."""

    model = Role
    serializer_class = RoleSerializer
    pagination_class = NamePagination

    def get_queryset(self) -> Any:
        return (
            super()
            .get_queryset()
            .prefetch_related("permissions", "field_permissions")
            .annotate(user_count=Count("users", distinct=True))
        )

    @staticmethod
    def _grants(data: dict[str, Any]) -> tuple[Any, Any]:
        perms = data.pop("permissions", None)
        fields = data.pop("field_permissions", None)
        grants = None if perms is None else [(p["model"], p["action"], p["scope"]) for p in perms]
        modes = None if fields is None else [(f["model"], f["field"], f["mode"]) for f in fields]
        return grants, modes

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        grants, modes = self._grants(data)
        return services.role_create(
            by=self.request.user,  # type: ignore[arg-type]
            grants=grants,
            field_permissions=modes,
            **data,
        )

    def perform_service_update(self, obj: Any, data: dict[str, Any], version: int | None) -> Any:
        grants, modes = self._grants(data)
        return services.role_update(
            role=obj,
            by=self.request.user,  # type: ignore[arg-type]
            grants=grants,
            field_permissions=modes,
            **data,
        )

    def perform_service_delete(self, obj: Any) -> None:
        services.role_delete(role=obj, by=self.request.user)  # type: ignore[arg-type]
