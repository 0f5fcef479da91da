from rest_framework.routers import SimpleRouter

from .views import InteractionViewSet, TaskViewSet

router = SimpleRouter()
router.register("interactions", InteractionViewSet, basename="interaction")
router.register("tasks", TaskViewSet, basename="task")

urlpatterns = router.urls
