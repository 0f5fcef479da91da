from django.urls import URLPattern

app_name = "dedup"

urlpatterns: list[URLPattern] = []
