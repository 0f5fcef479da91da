from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "kehu.quality"
    label = "quality"
    verbose_name = _("Data quality")

    def ready(self) -> None:
        from kehu.core import navigation, permissions
        from kehu.core.choices import Action
        from kehu.customfields import standards

        from . import registry
        from .models import QualitySnapshot

        # Roles holding "view" on Data quality (managers) open the page; administrators always may.
        permissions.register(QualitySnapshot, actions=[Action.VIEW], group=_("Customers"))
        navigation.register_item(
            "customers",
            navigation.MenuItem(
                _("Data quality"),
                "quality:index",
                icon="chart-dots",
                requires=("quality.qualitysnapshot", str(Action.VIEW)),
            ),
        )
        registry.register(
            registry.QualityModel(
                "customers.account",
                phone_fields=("phone",),
                email_fields=("email",),
                list_url_name="customers:account_list",
                order=10,
            )
        )
        registry.register(
            registry.QualityModel(
                "customers.contact",
                phone_fields=("phone", "mobile"),
                email_fields=("email",),
                list_url_name="customers:contact_list",
                order=20,
            )
        )
        # Default scored fields of the customers models, unless the customers app declares its own.
        from django.apps import apps

        defaults = {
            "customers.account": (
                "name",
                "phone",
                "email",
                "industry",
                "source",
                "level",
                "address",
                "country",
                "province",
                "city",
                "tax_number",
                "website",
            ),
            "customers.contact": ("name", "title", "mobile", "phone", "email", "wechat", "account"),
        }
        for label, scored in defaults.items():
            model = apps.get_model(label)
            if standards.declaration(model) == standards.Declaration():
                names = {f.name for f in model._meta.get_fields()}
                standards.register(model, scored=[n for n in scored if n in names])
