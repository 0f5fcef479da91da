"""API shapes of the users app. Serializers validate input; services write."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from kehu.core.api.mixins import FieldPermissionSerializerMixin
from kehu.core.choices import FieldMode, Scope

from ..models import TIME_ZONE_CHOICES, ApiToken, Department, FieldPermission, Role, RolePermission, User

LANGUAGE_CHOICES = [("", "—"), *User.Language.choices]
TZ_CHOICES = [("", "—"), *TIME_ZONE_CHOICES]


# --- auth and tokens ------------------------------------------------------------------------------


class TokenLoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=254, help_text="Username or e-mail address.")
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class ApiTokenSerializer(serializers.ModelSerializer):
    """A personal API token. The key itself is never shown again after creation."""

    is_active = serializers.BooleanField(read_only=True, help_text="Not revoked and not expired.")

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
            "is_active",
        ]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at", "is_active"]
        extra_kwargs = {"expires_at": {"required": False, "allow_null": True}}


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(
        read_only=True, help_text="The secret key. Shown only in this answer: store it now."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
        read_only_fields = [*ApiTokenSerializer.Meta.fields]


# --- small nested shapes --------------------------------------------------------------------------


class DepartmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name"]
        read_only_fields = fields


class RoleRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Role
        fields = ["id", "code", "name"]
        read_only_fields = fields


class UserRefSerializer(serializers.ModelSerializer):
    display = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "display"]
        read_only_fields = fields


# --- users ----------------------------------------------------------------------------------------


class UserSerializer(FieldPermissionSerializerMixin, serializers.ModelSerializer):
    """A user. Write `department_id` and `role_ids`; read `department` and `roles`. Send the
    `version` you read to refuse a stale edit (409)."""

    department = DepartmentRefSerializer(read_only=True, allow_null=True)
    roles = RoleRefSerializer(many=True, read_only=True)
    department_id = serializers.PrimaryKeyRelatedField(
        source="department",
        queryset=Department.objects.none(),
        required=False,
        allow_null=True,
        write_only=True,
    )
    role_ids = serializers.PrimaryKeyRelatedField(
        source="roles", queryset=Role.objects.none(), many=True, required=False, write_only=True
    )
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=4096,
        help_text="Only on create. Empty: the user sets one through the password-reset e-mail.",
    )
    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES, required=False, allow_blank=True)
    time_zone = serializers.ChoiceField(choices=TZ_CHOICES, required=False, allow_blank=True)
    version = serializers.IntegerField(required=False, help_text="Optimistic lock: the version you read.")

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "first_name",
            "last_name",
            "email",
            "phone",
            "title",
            "department",
            "department_id",
            "roles",
            "role_ids",
            "language",
            "time_zone",
            "is_active",
            "last_login",
            "date_joined",
            "version",
            "password",
        ]
        read_only_fields = ["id", "is_active", "last_login", "date_joined"]
        extra_kwargs: dict[str, dict[str, Any]] = {
            "username": {"validators": []},
            "email": {"validators": []},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        fields = self.fields
        if user is not None and "department_id" in fields:
            from .. import selectors

            fields["department_id"].queryset = selectors.department_choices(user=user)  # type: ignore[attr-defined]
            fields["role_ids"].child_relation.queryset = selectors.role_list(user=user)  # type: ignore[attr-defined]


class MeSerializer(FieldPermissionSerializerMixin, serializers.ModelSerializer):
    """The signed-in user. Only `display_name`, `phone`, `language` and `time_zone` are writable."""

    department = DepartmentRefSerializer(read_only=True, allow_null=True)
    roles = RoleRefSerializer(many=True, read_only=True)
    is_admin = serializers.SerializerMethodField()
    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES, required=False, allow_blank=True)
    time_zone = serializers.ChoiceField(choices=TZ_CHOICES, required=False, allow_blank=True)
    version = serializers.IntegerField(required=False, help_text="Optimistic lock: the version you read.")

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "first_name",
            "last_name",
            "email",
            "phone",
            "title",
            "department",
            "roles",
            "is_admin",
            "language",
            "time_zone",
            "last_login",
            "version",
        ]
        read_only_fields = ["id", "username", "first_name", "last_name", "email", "title", "last_login"]

    def get_is_admin(self, obj: User) -> bool:
        from kehu.core.permissions import is_admin

        return is_admin(obj)


class SetPasswordSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


# --- departments ----------------------------------------------------------------------------------


class DepartmentSerializer(serializers.ModelSerializer):
    """A department. Changing `parent_id` moves it with its subtree."""

    parent = DepartmentRefSerializer(read_only=True, allow_null=True)
    manager = UserRefSerializer(read_only=True, allow_null=True)
    parent_id = serializers.PrimaryKeyRelatedField(
        source="parent", queryset=Department.objects.none(), required=False, allow_null=True, write_only=True
    )
    manager_id = serializers.PrimaryKeyRelatedField(
        source="manager", queryset=User.objects.none(), required=False, allow_null=True, write_only=True
    )
    member_count = serializers.SerializerMethodField()

    class Meta:
        model = Department
        fields = [
            "id",
            "name",
            "parent",
            "parent_id",
            "manager",
            "manager_id",
            "depth",
            "path",
            "member_count",
        ]
        read_only_fields = ["id", "depth", "path"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None:
            self.fields["parent_id"].queryset = Department.objects.restrict(user, "view")  # type: ignore[attr-defined]
            self.fields["manager_id"].queryset = User.objects.restrict(user, "view")  # type: ignore[attr-defined]

    def get_member_count(self, obj: Department) -> int:
        annotated = getattr(obj, "member_count", None)
        return int(annotated) if annotated is not None else obj.members.count()


# --- roles ----------------------------------------------------------------------------------------


class RolePermissionSerializer(serializers.ModelSerializer):
    model = serializers.CharField(max_length=100, help_text="app_label.model, e.g. customers.account")
    action = serializers.CharField(max_length=20)
    scope = serializers.ChoiceField(choices=Scope.choices)

    class Meta:
        model = RolePermission
        fields = ["model", "action", "scope"]


class FieldPermissionSerializer(serializers.ModelSerializer):
    model = serializers.CharField(max_length=100)
    field = serializers.CharField(max_length=100)
    mode = serializers.ChoiceField(choices=FieldMode.choices)

    class Meta:
        model = FieldPermission
        fields = ["model", "field", "mode"]


class RoleSerializer(serializers.ModelSerializer):
    """A role with its permissions (model, action, scope) and field permissions (model, field,
    mode). Writing `permissions` or `field_permissions` replaces the whole list."""

    permissions = RolePermissionSerializer(many=True, required=False)
    field_permissions = FieldPermissionSerializer(many=True, required=False)
    user_count = serializers.SerializerMethodField()

    class Meta:
        model = Role
        fields = [
            "id",
            "name",
            "code",
            "description",
            "require_mfa",
            "is_admin",
            "permissions",
            "field_permissions",
            "user_count",
        ]
        read_only_fields = ["id"]
        extra_kwargs: dict[str, dict[str, Any]] = {"name": {"validators": []}, "code": {"validators": []}}

    def get_user_count(self, obj: Role) -> int:
        annotated = getattr(obj, "user_count", None)
        return int(annotated) if annotated is not None else obj.users.count()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for key in ("permissions", "field_permissions"):
            rows = attrs.get(key)
            if rows is None:
                continue
            seen = set()
            for row in rows:
                ident = (row["model"], row.get("action") or row.get("field"))
                if ident in seen:
                    raise serializers.ValidationError({key: [_("Each entry may appear only once.")]})
                seen.add(ident)
        return attrs
