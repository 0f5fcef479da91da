from .views import assignment, leads, opportunities, pools, reports

app_name = "sales"

urlpatterns = [
    *leads.urlpatterns,
    *pools.urlpatterns,
    *assignment.urlpatterns,
    *opportunities.urlpatterns,
    *reports.urlpatterns,
]
