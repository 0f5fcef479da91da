"""Writes of the sales app, one module per area (leads, pools, assignment, opportunities, targets).

Every function is keyword-only, typed and atomic, and raises `kehu.sales.errors` domain errors."""
