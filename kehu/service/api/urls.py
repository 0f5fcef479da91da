"""Service API: business calendars (more to come with tickets and SLA policies)."""

from rest_framework.routers import SimpleRouter

from .views import BusinessCalendarViewSet

router = SimpleRouter()
router.register("calendars", BusinessCalendarViewSet, basename="businesscalendar")

urlpatterns = router.urls
