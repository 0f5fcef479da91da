from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ObjectChangeViewSet, TimelineView

router = SimpleRouter()
router.register("changes", ObjectChangeViewSet, basename="objectchange")

urlpatterns = [
    path("timeline/", TimelineView.as_view(), name="audit-timeline"),
    *router.urls,
]
