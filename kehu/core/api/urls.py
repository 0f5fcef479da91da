from rest_framework.routers import SimpleRouter

from .savedviews import SavedViewViewSet
from .views import JobViewSet

router = SimpleRouter()
router.register("jobs", JobViewSet, basename="job")
router.register("saved-views", SavedViewViewSet, basename="saved-view")

urlpatterns = router.urls
