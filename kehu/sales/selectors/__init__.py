"""Reads of the sales app, one module per area."""
