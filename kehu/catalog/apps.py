from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "kehu.catalog"
    label = "catalog"
    verbose_name = _("Catalog")

    def ready(self) -> None:
        from kehu.audit import registry as audit_registry
        from kehu.core import navigation, permissions
        from kehu.core.choices import Action

        from .models import Currency, ExchangeRate, PriceList, PriceListItem, Product, ProductCategory

        # Everyone who quotes reads the catalog; maintaining it is a grant of its own.
        actions = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)
        group = _("Catalog")
        for managed in (Product, ProductCategory, PriceList, Currency, ExchangeRate):
            # products, price lists (their prices) and exchange rates are imported and exported
            # from their lists
            moved = (Action.IMPORT, Action.EXPORT) if managed in (Product, PriceList, ExchangeRate) else ()
            permissions.register(managed, actions=(*actions, *moved), group=group)
        for audited in (Product, ProductCategory, PriceList, PriceListItem, Currency, ExchangeRate):
            audit_registry.register(audited)

        # Importing products, prices and exchange rates (kehu.imports, issue 7), exporting them.
        from . import exporting, imports

        imports.register()
        exporting.register()

        # Merging duplicate accounts (kehu.dedup.merging): an account's own price lists go to the kept one.
        from kehu.dedup.merging import register_merge_relation

        register_merge_relation("customers.account", PriceList, "account")

        # Products carry custom fields (admins define them like those of accounts).
        from kehu.customfields import registry as customfields_registry

        customfields_registry.register(Product)

        navigation.register_group("catalog", _("Products"), icon="package", order=17)
        for label, url_name, icon, label_of in (
            (_("Products"), "catalog:product_list", "package", "catalog.product"),
            (_("Price lists"), "catalog:pricelist_list", "list-numbers", "catalog.pricelist"),
        ):
            navigation.register_item(
                "catalog", navigation.MenuItem(label, url_name, icon=icon, requires=(label_of, "view"))
            )
        # The import wizard, for whoever may import one of the catalog's record types (the
        # Imports entry under Customers asks for the "import" action of customer records).
        navigation.register_item(
            "catalog",
            navigation.MenuItem(
                _("Import"),
                "imports:new",
                icon="file-import",
                requires_any=(
                    ("catalog.product", "change"),
                    ("catalog.pricelist", "change"),
                    ("catalog.exchangerate", "change"),
                ),
            ),
        )
        for label, url_name, icon, label_of in (
            (_("Product categories"), "catalog:productcategory_list", "category", "catalog.productcategory"),
            (_("Currencies"), "catalog:currency_list", "coin", "catalog.currency"),
            (_("Exchange rates"), "catalog:exchangerate_list", "arrows-exchange", "catalog.exchangerate"),
        ):
            navigation.register_item(
                "settings", navigation.MenuItem(label, url_name, icon=icon, requires=(label_of, "change"))
            )
