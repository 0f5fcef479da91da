"""Exports of the commerce lists (quotes, contracts, orders, payments) and of the receivables
(outstanding instalments): see `kehu.commerce.exporting`."""

from __future__ import annotations


def register() -> None:
    from kehu.core.exports import register_exporter

    from ..exporting import EXPORTERS

    for exporter in EXPORTERS:
        register_exporter(exporter)
