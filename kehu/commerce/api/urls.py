from rest_framework.routers import SimpleRouter

from . import contracts, orders, payments, pdf, quotes

router = SimpleRouter()
for area in (quotes, contracts, orders, payments):
    area.register(router)

urlpatterns = [*router.urls]
for area in (quotes, contracts, orders, payments):
    urlpatterns += area.urlpatterns
urlpatterns += pdf.urlpatterns
