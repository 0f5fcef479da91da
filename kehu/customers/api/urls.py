from django.urls import re_path
from rest_framework.routers import SimpleRouter

from .timeline import AccountTimelineView, ContactTimelineView
from .views import AccountViewSet, AddressViewSet, ContactViewSet, RelationViewSet

router = SimpleRouter()
router.register("accounts", AccountViewSet, basename="account")
router.register("contacts", ContactViewSet, basename="contact")
router.register("addresses", AddressViewSet, basename="address")
router.register("account-contact-relations", RelationViewSet, basename="accountcontactrelation")

urlpatterns = [
    *router.urls,
    re_path(
        r"^accounts/(?P<pk>[0-9]{1,18})/timeline/$", AccountTimelineView.as_view(), name="account-timeline"
    ),
    re_path(
        r"^contacts/(?P<pk>[0-9]{1,18})/timeline/$", ContactTimelineView.as_view(), name="contact-timeline"
    ),
]
