from django.urls import path

app_name = "customfields"

urlpatterns: list = []
del path
