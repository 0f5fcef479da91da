from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday")
    MAKEUP = "makeup", _("Make-up working day")


class TicketKind(models.TextChoices):
    """What a ticket type is, whatever admins call it: drives after-sales order links and the
    complaint count of churn rules."""

    REQUEST = "request", _("Service request")
    COMPLAINT = "complaint", _("Complaint")
    INQUIRY = "inquiry", _("Inquiry")
    AFTER_SALES = "after_sales", _("After-sales")


class TicketState(models.TextChoices):
    """The category of a ticket status. Admins name statuses freely; the state decides what the
    status means to SLA timers (waiting pauses them, resolved stops resolution), lists and reports."""

    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATES = (TicketState.NEW, TicketState.ASSIGNED, TicketState.IN_PROGRESS, TicketState.WAITING)
DONE_STATES = (TicketState.RESOLVED, TicketState.CLOSED)


class TicketPriority(models.IntegerChoices):
    """Higher is more urgent (sorting by priority descending puts urgent first)."""

    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class TicketChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WEB = "web", _("Web form")
    CHAT = "chat", _("Chat")
    WECHAT = "wechat", _("WeChat")
    WALK_IN = "walk_in", _("Walk-in")
    API = "api", _("API")


class AfterSalesAction(models.TextChoices):
    RETURN = "return", _("Return")
    EXCHANGE = "exchange", pgettext_lazy("after-sales", "Exchange")
    REPAIR = "repair", _("Repair")


class AssignmentMethod(models.TextChoices):
    MANUAL = "manual", _("Manual")
    ROUND_ROBIN = "round_robin", _("Round-robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")


class MessageKind(models.TextChoices):
    """A ticket's conversation: what the customer wrote, what an agent answered (the customer sees
    it), internal notes (agents only) and system lines (merged, split, escalated)."""

    CUSTOMER = "customer", _("Customer message")
    REPLY = "reply", _("Reply")
    NOTE = "note", _("Internal note")
    SYSTEM = "system", _("System")


class DeliveryStatus(models.TextChoices):
    NONE = "", _("Not e-mailed")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class InboundStatus(models.TextChoices):
    """What became of one received e-mail."""

    PENDING = "pending", _("Pending")
    CREATED = "created", _("Created a ticket")
    THREADED = "threaded", _("Added to a ticket")
    AUTO_REPLY = "auto_reply", _("Auto-reply (ignored)")
    BOUNCE = "bounce", _("Bounce (ignored)")
    QUARANTINED = "quarantined", _("Quarantined")
    RELEASED = "released", _("Released from quarantine")


class SLAMetric(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


class SLAEventKind(models.TextChoices):
    WARNING = "warning", _("Warning")
    BREACH = "breach", _("Breach")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class ArticleVisibility(models.TextChoices):
    INTERNAL = "internal", _("Internal")
    PUBLIC = "public", _("Public")


class SurveyKind(models.TextChoices):
    CSAT = "csat", _("CSAT (1–5)")
    NPS = "nps", _("NPS (0–10)")


class SurveyFrequency(models.TextChoices):
    ONCE = "once", _("Once")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


class ChurnSignal(models.TextChoices):
    NO_ORDER = "no_order", _("No order for N days")
    NPS_DETRACTOR = "nps_detractor", _("NPS detractor (score ≤ N)")
    COMPLAINTS = "complaints", _("More than N complaints in the window")
    LOW_CSAT = "low_csat", _("CSAT rating ≤ N")


class RiskStatus(models.TextChoices):
    OPEN = "open", _("At risk")
    RESOLVED = "resolved", _("Resolved")
