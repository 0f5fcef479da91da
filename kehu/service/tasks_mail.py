"""Scheduled and background tasks of the service app: mail."""
