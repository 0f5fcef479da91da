"""The service app's web views, one module per area; each module has its `urlpatterns`."""
