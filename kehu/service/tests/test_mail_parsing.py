"""Message parsing for e-mail-to-ticket: pure, no database."""

from __future__ import annotations

import datetime as dt
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kehu.service.mail import (
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

FIXTURES = Path(__file__).parent / "mail_fixtures"


def load(name: str) -> ParsedMessage:
    return parse_message((FIXTURES / f"{name}.eml").read_bytes())


def test_plain_utf8() -> None:
    msg = load("plain_utf8")
    assert msg.message_id == "plain-1@example.com"
    assert msg.from_name == "Alice Example"
    assert msg.from_address == "alice@example.com"
    assert msg.to == ["support@kehu.test", "bob@kehu.test"]
    assert msg.cc == ["carol@kehu.test"]
    assert msg.reply_to == "replies@example.com"
    assert msg.subject == "Printer broken"
    assert msg.date == dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
    assert msg.date is not None and msg.date.tzinfo is not None
    assert msg.text == "Hello,\nthe printer in room 3 is broken. Café ☕\n"
    assert "\r" not in msg.text
    assert msg.html is None
    assert msg.attachments == []
    assert msg.charset_problems == []
    assert not is_auto_reply(msg)
    assert not is_bounce(msg)
    assert thread_keys(msg) == []


def test_gbk_encoded_subject_and_quoted_printable_body() -> None:
    msg = load("gbk_qp")
    assert msg.subject == "打印机故障"
    assert msg.from_name == "张三"
    assert msg.text == "您好，打印机坏了。\n请尽快处理。\n"
    assert msg.charset_problems == []


def test_gb2312_declared_but_gb18030_bytes() -> None:
    msg = load("gb2312_declared_gb18030")
    assert msg.subject == "关于堃的工单"
    assert msg.text == "朱镕基和王堃的订单。\n"
    assert any("gb18030" in problem for problem in msg.charset_problems)


def test_unencoded_8bit_gbk_header() -> None:
    msg = load("raw_8bit_gbk_header")
    assert msg.subject == "发票问题 紧急"
    assert msg.from_name == "李四"
    assert msg.from_address == "lisi@example.cn"
    assert msg.text == "请重新开具发票。\n"
    assert any("8-bit" in problem for problem in msg.charset_problems)


def test_big5() -> None:
    msg = load("big5")
    assert msg.subject == "維修申請"
    assert msg.text == "您好，機器需要維修。謝謝。"


def test_html_only_alternative_is_converted_to_text_and_kept_raw() -> None:
    msg = load("html_only")
    assert msg.html is not None
    assert "<script>alert(1)</script>" in msg.html  # raw: sanitising is the caller's job
    assert msg.text == "Hello team,\n\nOrder #42 is late.\nLine two\n\n- one\n- two"
    assert "alert" not in msg.text
    assert "color:red" not in msg.text


def test_attachment_filenames_rfc2231_and_rfc2047() -> None:
    msg = load("attachment_rfc2231")
    assert msg.subject == "合同附件"
    assert msg.text == "See attachment."
    pdf, csv = msg.attachments
    assert pdf.filename == "合同草案.pdf"
    assert pdf.content_type == "application/pdf"
    assert pdf.content == b"%PDF-1.4 fake\n"
    assert pdf.size == len(pdf.content)
    assert not pdf.inline
    assert csv.filename == "报价.csv"
    assert csv.content_type == "text/csv"


def test_inline_image() -> None:
    msg = load("inline_image")
    (image,) = msg.attachments
    assert image.inline
    assert image.content_id == "shot1@example.com"
    assert image.filename == "shot.png"
    assert image.content.startswith(b"\x89PNG")
    assert msg.html is not None and "cid:shot1@example.com" in msg.html


def test_english_reply_threading_and_quote_stripping() -> None:
    msg = load("reply_en")
    assert msg.in_reply_to == "ack-1@kehu.test"
    assert msg.references == ["plain-1@example.com", "ack-1@kehu.test"]
    assert thread_keys(msg) == ["ack-1@kehu.test", "plain-1@example.com"]
    assert ticket_number_in_subject(msg.subject) == "TK-2026-00042"
    assert msg.date == dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)  # "-0000": aware, UTC
    assert strip_quoted_reply(msg.text) == "Thanks, it works now."


def test_chinese_reply_quote_stripping() -> None:
    msg = load("reply_zh")
    assert msg.subject == "回复：[TK-2026-00042] 打印机故障"
    assert ticket_number_in_subject(msg.subject) == "TK-2026-00042"
    assert thread_keys(msg) == ["ack-1@kehu.test"]
    assert strip_quoted_reply(msg.text) == "问题已经解决，谢谢！"


def test_outlook_auto_reply() -> None:
    msg = load("outlook_auto_reply")
    assert is_auto_reply(msg)
    assert auto_reply_reason(msg) == "subject"
    assert not is_bounce(msg)


def test_gmail_vacation_auto_submitted() -> None:
    msg = load("gmail_vacation")
    assert auto_reply_reason(msg) == "auto_submitted"
    assert not is_bounce(msg)


def test_dsn_bounce() -> None:
    msg = load("dsn_bounce")
    assert msg.content_type == "multipart/report"
    assert msg.has_delivery_status
    assert bounce_reason(msg) == "delivery_status"
    assert msg.text.startswith("I'm sorry to have to inform you")
    # The report and the returned headers are kept as attachments, not mixed into the body.
    assert "Final-Recipient" not in msg.text
    assert {a.content_type for a in msg.attachments} == {
        "message/delivery-status",
        "text/rfc822-headers",
    }


def test_multipart_without_boundary_is_read_leniently() -> None:
    msg = load("broken_mime")
    assert msg.subject == "Broken"
    assert msg.text == "This body claims to be multipart but has no boundary.\n"
    assert any("NoBoundary" in problem for problem in msg.charset_problems)


def test_truncated_base64_is_read_leniently() -> None:
    msg = load("truncated_base64")
    assert msg.text.startswith("Hello truncated")
    (attachment,) = msg.attachments
    assert attachment.filename == "data.bin"
    assert attachment.content.startswith(b"\x00\x01\x02")


def test_garbage_raises_malformed_message() -> None:
    with pytest.raises(MalformedMessage) as excinfo:
        load("garbage")
    assert excinfo.value.reason == "no_mail_headers"


@pytest.mark.parametrize(("raw", "reason"), [(b"", "empty"), (b" \r\n\t", "empty")])
def test_empty_input_raises_malformed_message(raw: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage) as excinfo:
        parse_message(raw)
    assert excinfo.value.reason == reason


def _msg(headers: str, body: str = "Body\n") -> ParsedMessage:
    return parse_message((headers.strip() + "\n\n" + body).encode())


def test_unknown_declared_charset_falls_back_to_detection() -> None:
    body = "这是一封很长的中文邮件，用来测试字符集检测是否能够正常工作。" * 3
    raw = (
        b"From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=x-unknown-9\n"
        b"Content-Transfer-Encoding: 8bit\n\n" + body.encode("utf-8")
    )
    msg = parse_message(raw)
    assert msg.text == body
    assert any("unknown charset" in problem for problem in msg.charset_problems)


def test_wrong_declared_charset_is_detected() -> None:
    body = "请帮忙处理这个订单的退款问题，我们已经等待了很久，非常感谢您的帮助。" * 2
    raw = (
        b"From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: 8bit\n\n" + body.encode("gb18030")
    )
    msg = parse_message(raw)
    assert msg.text == body
    assert msg.charset_problems


def test_encoded_words_split_inside_a_character_are_joined() -> None:
    data = "工单编号".encode()
    first, second = data[:5], data[5:]  # split in the middle of a UTF-8 sequence
    import base64

    subject = (
        f"=?utf-8?B?{base64.b64encode(first).decode()}?= =?utf-8?B?{base64.b64encode(second).decode()}?="
    )
    assert _msg(f"From: a@example.com\nSubject: {subject}").subject == "工单编号"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: auto-generated", "auto_submitted"),
        ("X-Autoreply: yes", "x_autoreply"),
        ("X-Autorespond: yes", "x_autorespond"),
        ("Precedence: bulk", "precedence"),
        ("Precedence: junk", "precedence"),
        ("Precedence: auto_reply", "precedence"),
        ("Subject: Out of Office: back Monday", "subject"),
        ("Subject: =?UTF-8?B?6Ieq5Yqo5Zue5aSNOiDmiJHlnKjkvJHlgYc=?=", "subject"),
    ],
)
def test_auto_reply_signals(headers: str, reason: str) -> None:
    msg = _msg(f"From: a@example.com\n{headers}")
    assert auto_reply_reason(msg) == reason


def test_not_auto_reply() -> None:
    msg = _msg("From: a@example.com\nAuto-Submitted: no\nPrecedence: first-class\nSubject: Hi")
    assert not is_auto_reply(msg)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("From: postmaster@example.com", "mailer_daemon"),
        ("From: MAILER-DAEMON@example.com", "mailer_daemon"),
        ("Return-Path: <>\nFrom: a@example.com", "null_return_path"),
        ("From: a@example.com\nX-Failed-Recipients: b@example.com", "failed_recipients"),
    ],
)
def test_bounce_signals(headers: str, reason: str) -> None:
    assert bounce_reason(_msg(headers)) == reason


def test_ticket_number_in_subject() -> None:
    assert ticket_number_in_subject("Re: [TK-2026-00042] Printer") == "TK-2026-00042"
    assert ticket_number_in_subject("fw: tk-2026-00042 again") == "TK-2026-00042"
    assert ticket_number_in_subject("工单TK-2026-123456已创建") == "TK-2026-123456"
    assert ticket_number_in_subject("QT-2026-00001", prefix="QT") == "QT-2026-00001"
    assert ticket_number_in_subject("TK-2026-0042") is None  # too few digits
    assert ticket_number_in_subject("XTK-2026-00042") is None  # another prefix
    assert ticket_number_in_subject("TK-2026-00042", prefix="QT") is None
    assert ticket_number_in_subject("") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("New text\n> quoted\n> more", "New text"),
        ("Answer\n\nOn Mon, 1 Jan 2026, Bob <b@x.com>\nwrote:\n> hi", "Answer"),
        ("好的\n\n在 2026年11月24日 10:00，客服 写道：\n> 原文", "好的"),
        ("好的\n\n张三 <z@x.cn> 于2026年11月24日周二 10:00写道：\n> 原文", "好的"),
        ("Done\r\n-----Original Message-----\r\nFrom: x\r\nSent: y", "Done"),
        ("收到\n\n发件人: 客服\n发送时间: 2026年11月24日\n收件人: 张三\n主题: x\n原文", "收到"),
        ("Ok\n________________________________\nFrom: Bob\nSent: Monday\nTo: me", "Ok"),
        ("From: the warehouse we shipped it.\nThanks", "From: the warehouse we shipped it.\nThanks"),
        ("> only quoted history", "> only quoted history"),
    ],
)
def test_strip_quoted_reply(text: str, expected: str) -> None:
    assert strip_quoted_reply(text) == expected


def test_html_to_text_entities_and_blocks() -> None:
    assert html_to_text("<div>a&amp;b</div><div>c<br/>d</div>") == "a&b\n\nc\nd"


# --------------------------------------------------------------------------- properties

_header_lines = st.lists(
    st.sampled_from(
        [
            b"From: a@example.com",
            b"From: =?gbk?B?1cXI/Q==?= <z@x.cn>",
            b"Subject: =?utf-8?Q?caf=C3=A9?=",
            b"Subject: \xb7\xa2\xc6\xb1",
            b"Content-Type: multipart/mixed; boundary=B",
            b"Content-Type: text/plain; charset=x-nope",
            b"Content-Type: text/html; charset=gb2312",
            b"Content-Transfer-Encoding: base64",
            b"Content-Transfer-Encoding: quoted-printable",
            b"Content-Disposition: attachment; filename*=UTF-8''%E5%90",
            b"Date: not a date",
            b"Date: Tue, 99 Nov 99999 99:99:99 +9999",
            b"References: <a@b> <a@b> junk",
            b"--B",
            b"--B--",
            b"",
        ]
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.one_of(st.binary(max_size=2000), _header_lines.map(b"\r\n".join)), tail=st.binary())
def test_parse_message_never_raises_anything_but_malformed(raw: bytes, tail: bytes) -> None:
    try:
        msg = parse_message(raw + tail)
    except MalformedMessage as exc:
        assert exc.reason != "internal_error"  # that one would hide a parser bug
    else:
        assert isinstance(msg.text, str)
        assert msg.date is None or msg.date.tzinfo is not None


_surrounding = st.text(alphabet=string.printable + "工单回复：【】[]", max_size=40)


@given(
    before=_surrounding,
    after=_surrounding,
    year=st.integers(min_value=2000, max_value=2099),
    n=st.integers(min_value=1, max_value=9_999_999),
    lower=st.booleans(),
)
def test_ticket_number_found_in_arbitrary_text(
    before: str, after: str, year: int, n: int, lower: bool
) -> None:
    assume(not before[-1:].isascii() or not before[-1:].isalnum())
    assume(not after[:1].isdigit())
    assume(ticket_number_in_subject(before) is None)
    number = f"TK-{year}-{n:05d}"
    subject = before + (number.lower() if lower else number) + after
    assert ticket_number_in_subject(subject) == number


def test_q_encoded_word_with_raw_8bit_bytes_does_not_crash() -> None:
    raw = b"From: a@example.com\nSubject: =?utf-8?Q?caf\xc3\xa9_=C3=A9?=\n\nx"
    assert parse_message(raw).subject == "café é"


def test_decoded_header_cannot_smuggle_line_breaks() -> None:
    msg = _msg("From: a@example.com\nSubject: =?utf-8?Q?Hi=0D=0ABcc:_x@evil.test?=")
    assert msg.subject == "Hi Bcc: x@evil.test"


_FIXTURE_BYTES = sorted(path.read_bytes() for path in FIXTURES.glob("*.eml"))


@settings(max_examples=300, deadline=None)
@given(
    source=st.sampled_from(_FIXTURE_BYTES),
    cuts=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 60), st.binary(max_size=12))),
)
def test_mutated_fixtures_never_raise_anything_but_malformed(
    source: bytes, cuts: list[tuple[int, int, bytes]]
) -> None:
    data = bytearray(source)
    for pos, length, insert in cuts:
        pos = min(pos, len(data))
        data[pos : pos + length] = insert
    try:
        msg = parse_message(bytes(data))
    except MalformedMessage as exc:
        assert exc.reason != "internal_error"
    else:
        strip_quoted_reply(msg.text)
        assert "\n" not in msg.subject
