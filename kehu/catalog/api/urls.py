"""Catalog API: products, categories, price lists and prices, currencies, exchange rates, and the
price a line gets (prices/resolve/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import (
    CategoryViewSet,
    CurrencyViewSet,
    ExchangeRateViewSet,
    PriceListViewSet,
    PriceResolveView,
    ProductViewSet,
)

router = SimpleRouter()
router.register("products", ProductViewSet, basename="product")
router.register("categories", CategoryViewSet, basename="productcategory")
router.register("price-lists", PriceListViewSet, basename="pricelist")
router.register("currencies", CurrencyViewSet, basename="currency")
router.register("exchange-rates", ExchangeRateViewSet, basename="exchangerate")

urlpatterns = [
    path("prices/resolve/", PriceResolveView.as_view(), name="price-resolve"),
    *router.urls,
]
