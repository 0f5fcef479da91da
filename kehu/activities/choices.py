from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class InteractionKind(models.TextChoices):
    """How the business was in touch with the customer (跟进方式)."""

    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    VISIT = "visit", _("Visit")
    EMAIL = "email", pgettext_lazy("interaction", "E-mail")
    NOTE = "note", _("Note")
    WECHAT = "wechat", _("WeChat")


class InteractionOutcome(models.TextChoices):
    CONNECTED = "connected", _("Connected")
    NO_ANSWER = "no_answer", _("No answer")
    INTERESTED = "interested", _("Interested")
    NOT_INTERESTED = "not_interested", _("Not interested")
    FOLLOW_UP = "follow_up", _("Follow-up needed")
    DONE = "done", pgettext_lazy("outcome", "Done")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class TaskPriority(models.TextChoices):
    LOW = "low", pgettext_lazy("priority", "Low")
    NORMAL = "normal", pgettext_lazy("priority", "Normal")
    HIGH = "high", pgettext_lazy("priority", "High")
    URGENT = "urgent", pgettext_lazy("priority", "Urgent")


class TaskStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("task", "Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", pgettext_lazy("task", "Done")
    CANCELLED = "cancelled", pgettext_lazy("task", "Cancelled")


OPEN_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


class Recurrence(models.TextChoices):
    NONE = "none", pgettext_lazy("recurrence", "Does not repeat")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class ReminderStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("reminder", "Pending")
    SENT = "sent", pgettext_lazy("reminder", "Sent")
    CANCELLED = "cancelled", pgettext_lazy("reminder", "Cancelled")
