"""The application's URLs plus the bare reference views of the benchmarks (bench/bare.py)."""

from django.urls import path

from bench import bare
from config.urls import urlpatterns as kehu_urlpatterns

urlpatterns = [
    path("bench/bare/accounts/", bare.account_list, name="bench_bare_account_list"),
    path("bench/bare/accounts.json", bare.account_list_json, name="bench_bare_account_list_json"),
    path("bench/bare/accounts.html", bare.account_list_html, name="bench_bare_account_list_html"),
    path("bench/bare/accounts/<int:pk>/", bare.account_detail, name="bench_bare_account_detail"),
    path("bench/bare/leads.json", bare.lead_list_json, name="bench_bare_lead_list_json"),
    path("bench/bare/leads.html", bare.lead_list_html, name="bench_bare_lead_list_html"),
    path(
        "bench/bare/opportunities.json",
        bare.opportunity_list_json,
        name="bench_bare_opportunity_list_json",
    ),
    path(
        "bench/bare/opportunities.html",
        bare.opportunity_list_html,
        name="bench_bare_opportunity_list_html",
    ),
    path("bench/bare/tickets.json", bare.ticket_list_json, name="bench_bare_ticket_list_json"),
    path("bench/bare/tickets.html", bare.ticket_list_html, name="bench_bare_ticket_list_html"),
    path("bench/bare/pools/<int:pk>/claim/", bare.pool_claim, name="bench_bare_pool_claim"),
    *kehu_urlpatterns,
]
