from rest_framework.routers import SimpleRouter

from .views import CustomFieldViewSet, FieldRuleViewSet, PicklistItemViewSet, PicklistViewSet

router = SimpleRouter()
router.register("fields", CustomFieldViewSet, basename="customfield")
router.register("picklists", PicklistViewSet, basename="picklist")
router.register("picklist-items", PicklistItemViewSet, basename="picklistitem")
router.register("field-rules", FieldRuleViewSet, basename="fieldrule")

urlpatterns = router.urls
