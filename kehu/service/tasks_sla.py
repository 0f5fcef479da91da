"""Scheduled and background tasks of the service app: sla.

Beat schedule entry (config/settings/base.py, CELERY_BEAT_SCHEDULE)::

    # SLA timers: warnings and breaches due now, escalation actions (each once; reruns harmless).
    "service-sla-sweep": {"task": "kehu.service.tasks_sla.sla_sweep", "schedule": 60.0},
"""

from celery import shared_task


@shared_task(name="kehu.service.tasks_sla.sla_sweep", ignore_result=True)
def sla_sweep() -> dict[str, int]:
    """Every minute: warn and escalate the tickets whose SLA check has come."""
    from .services.sla import sla_sweep as run

    result = run()
    return {"checked": result.checked, "warnings": result.warnings, "breaches": result.breaches}
