"""Each area of the sales app hooks into the lower apps (menu items, timeline events, search
providers, 360 panels, bulk actions, exports, owner cascades, job kinds) from its own module's
`register()`; `SalesConfig.ready` calls `register_all()`."""

from __future__ import annotations


def register_all() -> None:
    from . import assignment, leads, opportunities, opportunity_lines, pools, reports

    for area in (leads, pools, assignment, opportunities, opportunity_lines, reports):
        area.register()
