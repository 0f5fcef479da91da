from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import StaticGroupViewSet, TagAssignView, TagGroupViewSet, TagUnassignView, TagViewSet

router = SimpleRouter()
router.register("groups", TagGroupViewSet, basename="taggroup")
router.register("static-groups", StaticGroupViewSet, basename="staticgroup")
router.register("", TagViewSet, basename="tag")

urlpatterns = [
    path("assign/", TagAssignView.as_view(), name="tag-assign"),
    path("unassign/", TagUnassignView.as_view(), name="tag-unassign"),
    *router.urls,
]
