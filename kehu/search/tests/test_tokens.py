"""Tokenisation of records and queries (no database)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kehu.search.backends import PostgresBackend, SqliteBackend
from kehu.search.tokens import Document, email_tokens, parse_query, phone_query_digits, phone_suffixes


def test_person_name_pinyin_bigrams_and_surname_readings() -> None:
    doc = Document()
    doc.add_name("单雄信", person=True)
    name, other = doc.columns()
    assert name.split() == ["单雄信", "danxiongxin", "dxx", "chanxiongxin", "cxx", "shanxiongxin", "sxx"]
    assert {"单", "雄", "信", "单雄", "雄信", "dan", "xiong", "xin"} <= set(other.split())


def test_company_name_pinyin_stretches() -> None:
    doc = Document()
    doc.add_name("北京远大科技有限公司")
    name, other = doc.columns()
    assert "beijingyuandakejiyouxiangongsi" in name.split()
    assert "bjydkjyxgs" in name.split()
    assert {"yuandakeji", "ydkj", "远大", "公司"} <= set(other.split())


def test_phone_suffixes_and_email_parts() -> None:
    assert phone_suffixes("+8613812345678") == [
        "5678", "45678", "345678", "2345678", "12345678", "812345678", "3812345678",
        "13812345678", "613812345678", "8613812345678",
    ]  # fmt: skip
    assert email_tokens("Zhang.Wei@Example.com.cn") == [
        "zhangweiexamplecomcn", "zhangwei", "examplecomcn", "zhang", "wei", "example", "com", "cn",
    ]  # fmt: skip


def test_query_shapes() -> None:
    for q in ("13812345678", "138-1234-5678", "+86 138 1234 5678", "(138) 1234 5678"):
        assert phone_query_digits(q) in {"13812345678", "8613812345678"}
    assert phone_query_digits("5678") == "5678"
    assert phone_query_digits("010 6552 9988") == "1065529988"
    assert phone_query_digits("567") is None
    query = parse_query("北京远大")
    assert PostgresBackend.tsquery(query, exact=False) == (
        "('北京' | '北京远大':*) & ('京远' | '北京远大':*) & ('远大' | '北京远大':*)"
    )
    assert SqliteBackend.fts_query(parse_query("zhang w"), exact=False) == '("zhang"*) AND ("w")'
    assert SqliteBackend.fts_query(parse_query("zhang"), exact=True) == '("zhang")'
    assert not parse_query("--- ,,, !!!")


@given(st.text(max_size=200))
def test_any_query_gives_safe_tokens(text: str) -> None:
    for term in parse_query(text).terms:
        for tok, _ in term.any_of:
            assert tok and all(ch.isalnum() for ch in tok), tok
