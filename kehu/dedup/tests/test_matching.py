"""The fuzzy duplicate engine: each planted kind of near-duplicate is found with its reasons, people
who only share a common name are not, and the single-record check agrees with the scan."""

from __future__ import annotations

from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.dedup.matching import (
    BLOCKING_KEYS,
    CERTAIN,
    DEFAULT_RULES,
    DIFFERENT,
    EXACT,
    FUZZY,
    NORMALISED,
    POSSIBLE,
    BlockCollector,
    FieldRule,
    MatchRule,
    PairMatch,
    Reason,
    Record,
    ScanStats,
    _blocks_of,
    build_index,
    check_one,
    group_pairs,
    make_record,
    scan,
    scan_candidates,
    score_pair,
)

CONTACT = DEFAULT_RULES["customers.contact"]
ACCOUNT = DEFAULT_RULES["customers.account"]

ORIGINAL = {
    "name": "王小明",
    "phones": ["13812345678"],
    "emails": ["wangxiaoming@qq.com"],
    "company": "北京华信科技有限公司",
}
WESTERN = {
    "name": "Jonathan Miller",
    "phones": ["13900001111"],
    "emails": ["jonathan.miller@outlook.com"],
    "company": "Contoso Systems Ltd.",
}


def rec(id: int, base: dict, **changes: object) -> Record:
    return make_record(id, **{**base, **changes})


def R(field: str, how: str, similarity: float = 1.0) -> Reason:
    return Reason(field, how, similarity)


def only_pair(records: list[Record], rule: MatchRule = CONTACT) -> PairMatch:
    groups = scan(records, rule)
    assert len(groups) == 1
    assert len(groups[0].pairs) == 1
    return groups[0].pairs[0]


def test_make_record_normalises_every_field() -> None:
    r = make_record(
        7,
        name="Ｚｈａｎｇ Wei",
        phones=["+86 138-1234-5678", "13812345678", "", None],
        emails=[" ZW@QQ.com "],
        company="（北京）华信科技有限公司",
        tax_number=" 91350100m000100y43 ",
        address="中国 北京市 建国路 88 号",
    )
    assert r == Record(
        7,
        name="wei zhang",
        pinyin="wei zhang",
        phones=("+8613812345678",),
        emails=("zw@qq.com",),
        company="华信科技",
        tax_number="91350100M000100Y43",
        address="北京市建国路88号",
    )


PHONE, EMAIL = R("phones", EXACT), R("emails", EXACT)


@pytest.mark.parametrize(
    ("kind", "base", "changes", "reasons", "score"),
    [
        # 1–2 character typos: a homophone (the IME picked the wrong character) and a non-homophone
        (
            "typo",
            ORIGINAL,
            {"name": "王晓明"},
            (PHONE, EMAIL, R("name", NORMALISED), R("company", EXACT)),
            1.0,
        ),
        (
            "typo",
            ORIGINAL,
            {"name": "王小亮", "phones": ["13700000000"]},
            # 王小明/王小亮 differ in a third of the characters but little in pinyin (sorted syllables)
            (R("phones", DIFFERENT, 0.0), EMAIL, R("name", FUZZY, 0.897), R("company", EXACT)),
            1.0,
        ),
        (
            "typo",
            {**ORIGINAL, "name": "李娜"},
            {"name": "李静", "phones": ["13700000000"]},
            # 0.6 + 0.2 - 0.3 * (1 - 0.5): a clearly different name with the same e-mail is "possible"
            (R("phones", DIFFERENT, 0.0), EMAIL, R("name", DIFFERENT, 0.5), R("company", EXACT)),
            0.65,
        ),
        (
            "typo",
            WESTERN,
            {"name": "Jonahtan Miler", "emails": []},
            (PHONE, R("name", FUZZY, 0.897), R("company", EXACT)),
            1.0,
        ),
        (
            "swap",
            WESTERN,
            {"name": "Miller, Jonathan"},
            (PHONE, EMAIL, R("name", EXACT), R("company", EXACT)),
            1.0,
        ),
        (
            "width",
            WESTERN,
            {
                "name": "Ｊｏｎａｔｈａｎ\u3000Ｍｉｌｌｅｒ",
                "phones": ["１３９００００１１１１"],
                "emails": ["ＪＯＮＡＴＨＡＮ.ｍｉｌｌｅｒ＠ｏｕｔｌｏｏｋ.ｃｏｍ"],
            },
            (PHONE, EMAIL, R("name", EXACT), R("company", EXACT)),
            1.0,
        ),
        (
            "phone",
            ORIGINAL,
            {"phones": ["+86 138-1234-5678"], "emails": ["other@163.com"]},
            (PHONE, R("emails", DIFFERENT, 0.0), R("name", EXACT), R("company", EXACT)),
            1.0,
        ),
        (
            "phone",
            ORIGINAL,
            {"phones": ["(0086) 138 1234 5678"], "emails": [], "company": ""},
            (PHONE, R("name", EXACT)),
            1.0,
        ),
        (
            "email",
            ORIGINAL,
            {"emails": ["WangXiaoMing@QQ.COM"], "phones": ["13700000000"]},
            (R("phones", DIFFERENT, 0.0), EMAIL, R("name", EXACT), R("company", EXACT)),
            1.0,
        ),
        (
            "company",
            ORIGINAL,
            {"company": "华信科技（北京）有限责任公司", "phones": ["13700000000"], "emails": ["x@163.com"]},
            (
                R("phones", DIFFERENT, 0.0),
                R("emails", DIFFERENT, 0.0),
                R("name", EXACT),
                R("company", NORMALISED),
            ),
            0.6,
        ),
        (
            "pinyin",
            ORIGINAL,
            {"name": "Xiaoming Wang", "phones": ["13700000000"], "emails": ["x@163.com"]},
            (
                R("phones", DIFFERENT, 0.0),
                R("emails", DIFFERENT, 0.0),
                R("name", NORMALISED),
                R("company", EXACT),
            ),
            0.6,
        ),
        ("missing", ORIGINAL, {"phones": []}, (EMAIL, R("name", EXACT), R("company", EXACT)), 1.0),
        ("missing", ORIGINAL, {"emails": [], "company": ""}, (PHONE, R("name", EXACT)), 1.0),
    ],
)
def test_each_kind_of_near_duplicate_is_found_with_its_reasons(
    kind: str, base: dict, changes: dict, reasons: tuple[Reason, ...], score: float
) -> None:
    pair = only_pair([rec(1, base), rec(2, base, **changes)])
    assert (pair.a, pair.b, pair.reasons, pair.score) == (1, 2, reasons, score)
    assert pair.level == (CERTAIN if score >= CONTACT.certain else POSSIBLE)


def test_same_common_name_different_people_are_never_certain() -> None:
    people = [
        make_record(
            1, name="张伟", phones=["13800000001"], emails=["zw1@qq.com"], company="北京华信科技有限公司"
        ),
        make_record(
            2, name="张伟", phones=["13800000002"], emails=["zw2@qq.com"], company="上海恒泰贸易有限公司"
        ),
        make_record(3, name="张伟", phones=["13800000003"], emails=["zw3@163.com"]),
        make_record(
            4, name="Zhang Wei", phones=["13800000004"], emails=["zw4@163.com"], company="深圳睿博电子"
        ),
        make_record(5, name="章伟", phones=["13800000005"], emails=["zw5@163.com"], company="深圳睿博电子"),
        # Same name, same company, other phone and e-mail: could be two people; "possible" only.
        make_record(
            6, name="张伟", phones=["13800000006"], emails=["zw6@qq.com"], company="北京华信科技有限公司"
        ),
    ]
    groups = scan(people, CONTACT)
    assert [(g.ids, g.level, g.score) for g in groups] == [((1, 6), POSSIBLE, 0.6), ((4, 5), POSSIBLE, 0.6)]
    assert groups[1].pairs[0].reasons == (
        R("phones", DIFFERENT, 0.0),
        R("emails", DIFFERENT, 0.0),
        R("name", NORMALISED),  # zhang wei: the homophone 章 is "possible" too
        R("company", EXACT),
    )


def test_a_shared_phone_with_a_different_name_is_not_reported() -> None:
    office = [
        make_record(1, name="李娜", phones=["010-6552 8888"], company="北京华信科技有限公司"),
        make_record(2, name="陈静", phones=["01065528888"], company="北京华信科技有限公司"),
    ]
    a, b = office
    # 0.6 + 0.2 - 0.3 * (1 - 0.286): just under "possible".
    assert score_pair(a, b, CONTACT) == (
        0.5857,
        (R("phones", EXACT), R("name", DIFFERENT, 0.286), R("company", EXACT)),
    )
    assert scan(office, CONTACT) == []
    lenient = MatchRule("x", ("phone",), (*CONTACT.fields[:3], FieldRule("company", EXACT, 0.3)))
    assert [g.level for g in scan(office, lenient)] == [POSSIBLE]


def test_groups_are_transitive_and_sorted() -> None:
    records = [
        make_record(1, name="王小明", phones=["13812345678"]),
        make_record(2, name="王小明", phones=["13812345678"], emails=["wxm@qq.com"]),
        make_record(3, name="Wang Xiaoming", emails=["WXM@qq.com"]),
        make_record(4, name="John Smith", emails=["js@x.com"]),
        make_record(5, name="Smith John", emails=["js@x.com"]),
    ]
    groups = scan(records, CONTACT)
    assert [(g.ids, [(p.a, p.b) for p in g.pairs]) for g in groups] == [
        ((1, 2, 3), [(1, 2), (2, 3)]),
        ((4, 5), [(4, 5)]),
    ]
    assert group_pairs([]) == []


def test_oversized_blocks_are_skipped_and_counted() -> None:
    switchboard = [
        make_record(i, name=f"员工{'甲乙丙丁戊己庚辛壬癸'[i % 10]}{i}", phones=["4008001234"])
        for i in range(12)
    ]
    rule = MatchRule("x", ("phone",), CONTACT.fields[:1], max_block=10)
    stats = ScanStats()
    assert scan(switchboard, rule, stats=stats) == []
    assert (stats.records, stats.blocks, stats.skipped_blocks, stats.candidate_pairs) == (
        12,
        {"phone": 0},
        {"phone": 1},
        0,
    )
    assert check_one(switchboard[0], build_index(switchboard, rule)) == []


def test_scan_in_two_processes_gives_the_same_groups() -> None:
    records = [
        rec(i * 2 + 1, ORIGINAL, phones=[f"1380000{i:04d}"], emails=[f"u{i}@qq.com"]) for i in range(50)
    ]
    records += [rec(i * 2 + 2, ORIGINAL, phones=[f"+86 1380000{i:04d}"], emails=[]) for i in range(50)]
    one, two = ScanStats(), ScanStats()
    serial = scan(records, CONTACT, stats=one)
    forked = scan(records, CONTACT, workers=2, stats=two)
    assert serial == forked
    assert one == two
    # 50 true pairs; all 100 share name and company: that block (100 records) is within the cap.
    assert len(serial) == 1 and len(serial[0].ids) == 100
    assert sum(p.level == CERTAIN for p in serial[0].pairs) == 50


def test_check_one_finds_the_original_and_never_the_record_itself() -> None:
    records = [
        rec(1, ORIGINAL),
        rec(2, WESTERN),
        make_record(3, name="王小明", phones=["13900009999"], emails=["other@qq.com"]),
    ]
    index = build_index(records, CONTACT)
    new = make_record(
        99, name="Wang Xiaoming", phones=["+86 138 1234 5678"], company="华信科技（北京）有限公司"
    )
    assert check_one(new, index) == [
        PairMatch(99, 1, 1.0, CERTAIN, (PHONE, R("name", NORMALISED), R("company", NORMALISED))),
    ]
    assert check_one(records[0], index) == []  # editing record 1: itself is no duplicate
    assert check_one(make_record(100, name="李四", phones=["13000000000"]), index) == []


def test_account_rule_different_tax_numbers_are_different_companies() -> None:
    a = make_record(
        1, company="北京华信科技有限公司", tax_number="91350100M000100Y43", phones=["010-65528888"]
    )
    b = make_record(2, company="华信科技（北京）有限公司", phones=["01065528888"])
    c = make_record(
        3, company="北京华信科技有限公司", tax_number="91110000802100433B", phones=["010-65528888"]
    )
    groups = scan([a, b, c], ACCOUNT)
    assert [(g.ids, [(p.a, p.b, p.score) for p in g.pairs]) for g in groups] == [
        ((1, 2, 3), [(1, 2, 0.8), (2, 3, 0.8)]),
    ]
    score, reasons = score_pair(a, c, ACCOUNT)
    assert (score, reasons[0]) == (0.2, R("tax_number", DIFFERENT, 0.0))


names = st.sampled_from(
    ["张伟", "张玮", "Zhang Wei", "王小明", "Xiaoming Wang", "John Smith", "Smith, Jon", ""]
)
phones = st.lists(
    st.sampled_from(["13800000001", "+86 138 0000 0001", "13800000002", "010-65528888"]), max_size=2
)
emails = st.lists(st.sampled_from(["a@qq.com", "A@QQ.com", "b@163.com"]), max_size=2)
companies = st.sampled_from(
    ["北京华信科技有限公司", "华信科技（北京）有限责任公司", "上海华信科技有限公司", "Contoso Ltd.", ""]
)


@st.composite
def record_sets(draw: st.DrawFn) -> list[Record]:
    count = draw(st.integers(min_value=0, max_value=8))
    return [
        make_record(
            i + 1, name=draw(names), phones=draw(phones), emails=draw(emails), company=draw(companies)
        )
        for i in range(count)
    ]


@settings(max_examples=60, deadline=None)
@given(record_sets(), st.randoms(use_true_random=False))
def test_scores_are_symmetric_and_the_scan_ignores_record_order(records: list[Record], rnd: Random) -> None:
    for a in records:
        for b in records:
            assert score_pair(a, b, CONTACT)[0] == score_pair(b, a, CONTACT)[0]
    shuffled = records[:]
    rnd.shuffle(shuffled)
    groups = scan(records, CONTACT)
    assert scan(shuffled, CONTACT) == groups
    # Every reported pair is at least "possible" and the check of one record finds its partners.
    index = build_index(records, CONTACT)
    for group in groups:
        for pair in group.pairs:
            assert pair.score >= CONTACT.possible
            assert pair.b in {m.b for m in check_one(next(r for r in records if r.id == pair.a), index)}


@settings(max_examples=40, deadline=None)
@given(record_sets())
def test_the_fast_key_columns_agree_with_the_keys_of_one_record(records: list[Record]) -> None:
    for kind, keys_of in BLOCKING_KEYS.items():
        expected: dict[object, list[int]] = {}
        for position, record in enumerate(records):
            for key in dict.fromkeys(keys_of(record)):
                expected.setdefault(key, []).append(position)
        assert _blocks_of(kind, records) == expected, kind


def _streamed(records: list[Record], rule: MatchRule, chunk: int, stats: ScanStats) -> list:
    """The streaming scan: blocking keys collected chunk by chunk (in two collectors merged, as
    from two workers), then only the candidates' records read back."""
    first, second = BlockCollector(rule), BlockCollector(rule)
    for start in range(0, len(records), chunk):
        (first if start // chunk % 2 else second).add(records[start : start + chunk])
    first.merge_state(second.state())
    assert first.records == len(records)
    asked: list[list[int]] = []

    def read(ids: list[int]) -> list[Record]:
        asked.append(ids)
        return [r for r in records if r.id in set(ids)]

    groups = scan_candidates(first.candidates(stats), read, rule, stats=stats)
    # only records of candidate pairs are read back, once
    assert len(asked) == 1 and len(asked[0]) <= len(records)
    return groups


def test_the_streaming_scan_gives_the_same_groups_as_the_scan() -> None:
    rnd = Random(7)
    records = []
    for i in range(300):
        base = ORIGINAL if i % 2 else WESTERN
        records.append(rec(i + 1, base, phones=[f"1380000{i:04d}"], emails=[f"u{i}@qq.com"]))
    # planted near-duplicates of every fifth record, and a block too large to compare
    for i in range(0, 300, 5):
        original = records[i]
        records.append(
            rec(1000 + i, ORIGINAL if i % 2 else WESTERN, phones=[f"+86 138 0000 {i:04d}"], emails=[])
        )
        assert original.phones
    records += [
        rec(5000 + i, ORIGINAL, phones=["010-65528888"], emails=[]) for i in range(CONTACT.max_block + 5)
    ]
    rnd.shuffle(records)
    expected_stats, stats = ScanStats(), ScanStats()
    expected = scan(records, CONTACT, stats=expected_stats)
    assert _streamed(records, CONTACT, 37, stats) == expected
    assert stats.blocks == expected_stats.blocks
    assert stats.skipped_blocks == expected_stats.skipped_blocks
    assert stats.skipped_blocks["phone"] == 1
    assert (stats.candidate_pairs, stats.reported_pairs) == (
        expected_stats.candidate_pairs,
        expected_stats.reported_pairs,
    )


@settings(max_examples=40, deadline=None)
@given(record_sets(), st.integers(min_value=1, max_value=5))
def test_the_streaming_scan_agrees_on_any_records(records: list[Record], chunk: int) -> None:
    account_records = [r._replace(tax_number="91110000600037341L" if r.id % 3 else "") for r in records]
    for rule, rows in ((CONTACT, records), (ACCOUNT, account_records)):
        assert _streamed(rows, rule, chunk, ScanStats()) == scan(rows, rule)
