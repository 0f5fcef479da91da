from rest_framework.routers import SimpleRouter

from .views import ImportViewSet

router = SimpleRouter()
router.register("", ImportViewSet, basename="import")

urlpatterns = router.urls
