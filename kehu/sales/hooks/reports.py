from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Funnel, conversion, performance, forecast and targets: menu items."""
    from kehu.core import navigation

    for label, url_name, icon, model in (
        (_("Funnel and conversion"), "sales:report_funnel", "filter", "sales.opportunity"),
        (_("Forecast"), "sales:forecast", "chart-line", "sales.opportunity"),
        (_("Targets"), "sales:target_list", "target", "sales.target"),
    ):
        navigation.register_item(
            "sales", navigation.MenuItem(label, url_name, icon=icon, requires=(model, "view"))
        )
