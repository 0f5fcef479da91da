from django.urls import path

urlpatterns: list = []
del path
