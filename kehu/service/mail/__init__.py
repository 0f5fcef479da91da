"""Inbound e-mail handling for service tickets (issue 8, "Email-to-ticket").

`parsing` is the pure, database-free layer: bytes in, a `ParsedMessage` out.
"""

from kehu.service.mail.parsing import (
    Attachment,
    MalformedMessage,
    ParsedMessage,
    auto_reply_reason,
    bounce_reason,
    html_to_text,
    is_auto_reply,
    is_bounce,
    parse_message,
    strip_quoted_reply,
    thread_keys,
    ticket_number_in_subject,
)

__all__ = [
    "Attachment",
    "MalformedMessage",
    "ParsedMessage",
    "auto_reply_reason",
    "bounce_reason",
    "html_to_text",
    "is_auto_reply",
    "is_bounce",
    "parse_message",
    "strip_quoted_reply",
    "thread_keys",
    "ticket_number_in_subject",
]
