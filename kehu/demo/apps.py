from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo company (`manage.py load_demo`). The top layer: it may use every other app."""

    name = "kehu.demo"
    label = "demo"
    verbose_name = _("Demo data")
