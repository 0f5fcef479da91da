from rest_framework.routers import SimpleRouter

from . import assignment, leads, opportunities, pools, reports

router = SimpleRouter()
for area in (leads, pools, assignment, opportunities, reports):
    area.register(router)

urlpatterns = [*router.urls]
for area in (leads, pools, assignment, opportunities, reports):
    urlpatterns += area.urlpatterns
