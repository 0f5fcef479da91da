from django.urls import path

from . import views, views_settings

app_name = "catalog"

urlpatterns = [
    path("products/", views.ProductListView.as_view(), name="product_list"),
    path("products/add/", views.ProductEditView.as_view(), name="product_add"),
    path("products/<int:pk>/", views.ProductDetailView.as_view(), name="product_detail"),
    path("products/<int:pk>/edit/", views.ProductEditView.as_view(), name="product_edit"),
    path("products/<int:pk>/delete/", views.ProductDeleteView.as_view(), name="product_delete"),
    path("price-lists/", views.PriceListListView.as_view(), name="pricelist_list"),
    path("price-lists/add/", views.PriceListEditView.as_view(), name="pricelist_add"),
    path("price-lists/<int:pk>/", views.PriceListDetailView.as_view(), name="pricelist_detail"),
    path("price-lists/<int:pk>/edit/", views.PriceListEditView.as_view(), name="pricelist_edit"),
    path("price-lists/<int:pk>/delete/", views.PriceListDeleteView.as_view(), name="pricelist_delete"),
    path("price-lists/<int:pk>/prices/", views.price_set_view, name="pricelist_price_set"),
    path(
        "price-lists/<int:pk>/prices/<int:item>/delete/",
        views.price_delete_view,
        name="pricelist_price_delete",
    ),
    # settings: currencies, exchange rates, categories (views_settings.py)
    path("currencies/", views_settings.CurrencyListView.as_view(), name="currency_list"),
    path("currencies/add/", views_settings.CurrencyEditView.as_view(), name="currency_add"),
    path("currencies/<int:pk>/edit/", views_settings.CurrencyEditView.as_view(), name="currency_edit"),
    path(
        "currencies/<int:pk>/make-company/",
        views_settings.currency_make_company_view,
        name="currency_make_company",
    ),
    path("currencies/<int:pk>/delete/", views_settings.CurrencyDeleteView.as_view(), name="currency_delete"),
    path("exchange-rates/", views_settings.ExchangeRateListView.as_view(), name="exchangerate_list"),
    path("exchange-rates/add/", views_settings.ExchangeRateEditView.as_view(), name="exchangerate_add"),
    path(
        "exchange-rates/<int:pk>/delete/",
        views_settings.ExchangeRateDeleteView.as_view(),
        name="exchangerate_delete",
    ),
    path("categories/", views_settings.CategoryListView.as_view(), name="productcategory_list"),
    path("categories/add/", views_settings.CategoryEditView.as_view(), name="productcategory_add"),
    path("categories/<int:pk>/edit/", views_settings.CategoryEditView.as_view(), name="productcategory_edit"),
    path(
        "categories/<int:pk>/delete/",
        views_settings.CategoryDeleteView.as_view(),
        name="productcategory_delete",
    ),
]
