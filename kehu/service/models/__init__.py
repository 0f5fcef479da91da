from .calendars import (
    BusinessCalendar,
    CalendarDay,
    WorkingHours,
    default_time_zone,
    minutes,
    validate_time_zone,
)
from .churn import AccountRisk, ChurnRule
from .knowledge import Article, ArticleCategory, ArticleVersion, ArticleVote, TicketArticle
from .mail import InboundEmail, Mailbox
from .sla import SLAEvent, SLAPolicy
from .surveys import Survey, SurveyInvitation, SurveyResponse
from .tickets import (
    CannedResponse,
    Queue,
    QueueMember,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketMessage,
    TicketOrderLine,
    TicketStatus,
    TicketStatusHistory,
    TicketType,
    TicketWatcher,
    new_public_key,
)

__all__ = [
    "AccountRisk",
    "Article",
    "ArticleCategory",
    "ArticleVersion",
    "ArticleVote",
    "BusinessCalendar",
    "CalendarDay",
    "CannedResponse",
    "ChurnRule",
    "InboundEmail",
    "Mailbox",
    "Queue",
    "QueueMember",
    "SLAEvent",
    "SLAPolicy",
    "Survey",
    "SurveyInvitation",
    "SurveyResponse",
    "Ticket",
    "TicketArticle",
    "TicketAttachment",
    "TicketCategory",
    "TicketMessage",
    "TicketOrderLine",
    "TicketStatus",
    "TicketStatusHistory",
    "TicketType",
    "TicketWatcher",
    "WorkingHours",
    "default_time_zone",
    "minutes",
    "new_public_key",
    "validate_time_zone",
]
