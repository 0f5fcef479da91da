from .views import approvals, contracts, orders, payments, pdf, quotes, receivables

app_name = "commerce"

urlpatterns = [
    *quotes.urlpatterns,
    *approvals.urlpatterns,
    *pdf.urlpatterns,
    *contracts.urlpatterns,
    *orders.urlpatterns,
    *payments.urlpatterns,
    *receivables.urlpatterns,
]
