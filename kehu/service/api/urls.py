"""Service API: one module per area registers its endpoints on the router (`register(router)`)."""

from importlib import import_module

from rest_framework.routers import SimpleRouter

from .calendars import BusinessCalendarViewSet

router = SimpleRouter()
router.register("calendars", BusinessCalendarViewSet, basename="businesscalendar")

AREAS = ("tickets", "queues", "settings", "sla", "knowledge", "mail", "surveys", "churn", "dashboard")
for _area in AREAS:
    import_module(f"{__package__}.{_area}").register(router)

urlpatterns = router.urls
