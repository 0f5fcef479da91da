"""Mounted at /api/v1/ itself: auth/token/, users/, departments/, roles/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ApiTokenViewSet, DepartmentViewSet, MeView, RoleViewSet, TokenLoginView, UserViewSet

router = SimpleRouter()
# Registered before users/ so that users/tokens/ is not read as a user id.
router.register("users/tokens", ApiTokenViewSet, basename="api-token")
router.register("users", UserViewSet, basename="user")
router.register("departments", DepartmentViewSet, basename="department")
router.register("roles", RoleViewSet, basename="role")

urlpatterns = [
    path("auth/token/", TokenLoginView.as_view(), name="auth-token"),
    path("users/me/", MeView.as_view(), name="user-me"),
    *router.urls,
]
