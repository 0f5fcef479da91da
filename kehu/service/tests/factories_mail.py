"""Factories and message builders for the mail area's tests."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage
from pathlib import Path

import factory

from kehu.service.models import Mailbox

FIXTURES = Path(__file__).parent / "mail_fixtures"

# The smallest valid PNG (1×1).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5f6a0a90000000049454e44ae426082"
)


class MailboxFactory(factory.django.DjangoModelFactory[Mailbox]):
    class Meta:
        model = Mailbox

    name = factory.Sequence(lambda n: f"客服邮箱 {n}")
    email = factory.Sequence(lambda n: f"support{n}@kehu.test")
    imap_host = ""


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.eml").read_bytes()


def build(
    *,
    subject: str = "打印机故障",
    body: str = "您好，打印机坏了。",
    sender: tuple[str, str] = ("张三", "zhangsan@example.cn"),
    to: str = "support@kehu.test",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    html: str | None = None,
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
    headers: dict[str, str] | None = None,
    charset: str = "utf-8",
) -> bytes:
    """An RFC 822 message as a mail client would send it."""
    msg = EmailMessage()
    msg["From"] = email.utils.formataddr(sender, charset="utf-8")
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(email.utils.localtime())
    msg["Message-ID"] = f"<{message_id}>" if message_id else email.utils.make_msgid(domain="example.cn")
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        msg["References"] = " ".join(f"<{r}>" for r in references)
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body, charset=charset)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for name, content, content_type in attachments:
        maintype, subtype = content_type.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)
