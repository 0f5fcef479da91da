"""Django admin: a fallback for superusers only. Day-to-day administration happens in Kehu's own
screens (Administration → Users, Departments, Roles), which go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, Department, FieldPermission, Role, RolePermission, User


def superusers_only(request: HttpRequest) -> bool:
    user: Any = request.user
    return bool(user.is_active and user.is_superuser)


# Staff who are not superusers get the admin's login page, never its content.
admin.site.has_permission = superusers_only  # type: ignore[method-assign]
admin.site.site_header = _("Kehu system administration")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "email", "department", "is_active", "is_superuser")
    list_filter = ("is_active", "is_superuser", "department", "roles")
    search_fields = ("username", "display_name", "email", "phone")
    filter_horizontal = ("roles", "groups", "user_permissions")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,  # type: ignore[misc]
        (
            _("Kehu"),
            {"fields": ("display_name", "department", "roles", "title", "phone", "language", "time_zone")},
        ),
    )


class RolePermissionInline(admin.TabularInline):
    model = RolePermission
    extra = 0


class FieldPermissionInline(admin.TabularInline):
    model = FieldPermission
    extra = 0


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "is_admin", "require_mfa")
    search_fields = ("name", "code")
    inlines = [RolePermissionInline, FieldPermissionInline]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "parent", "manager", "path", "depth")
    search_fields = ("name",)
    readonly_fields = ("path", "depth")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The tree's paths are kept by the services: create departments in Kehu's own screen.
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("key_hash", "prefix", "created_at", "last_used_at")
