"""A small, seeded generator of realistic people and companies (Chinese and Western).

Used by the demo loader (`load_demo`) and by the benchmark data generator (`bench/datagen.py`).
It is deterministic: the same seed gives the same sequence of values on every machine and
Python version (only `random.Random` with integer seeds and fixed pools are used), so demo data
and benchmark datasets are reproducible. Phone numbers are valid for `phonenumbers` (mobile and
landline numbers of real Chinese area codes and mobile prefixes, US and German numbers) and
returned in E.164. E-mail domains are under reserved or clearly fictitious names.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pypinyin import lazy_pinyin


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# --- Chinese ----------------------------------------------------------------------------------

# The most common surnames, roughly in order of frequency (earlier ones are picked more often).
ZH_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
ZH_SURNAME_WEIGHTS = tuple(max(1, 40 - i // 3) for i in range(len(ZH_SURNAMES)))
ZH_GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国志文博昊晨轩睿哲"
ZH_GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英慧莹雪琳晶妍婷颖倩欣怡佳蕾璐瑶萍红梅兰凤洁琴云月玉思涵雨"
ZH_CITIES = (
    # (city, telephone area code without the trunk 0, landline digits after the area code)
    ("北京", "10", 8),
    ("上海", "21", 8),
    ("广州", "20", 8),
    ("深圳", "755", 8),
    ("杭州", "571", 8),
    ("南京", "25", 8),
    ("苏州", "512", 8),
    ("天津", "22", 8),
    ("成都", "28", 8),
    ("武汉", "27", 8),
    ("西安", "29", 8),
    ("重庆", "23", 8),
    ("青岛", "532", 8),
    ("宁波", "574", 8),
    ("厦门", "592", 7),
    ("济南", "531", 8),
    ("郑州", "371", 8),
    ("长沙", "731", 8),
    ("合肥", "551", 8),
    ("大连", "411", 8),
    ("沈阳", "24", 8),
    ("无锡", "510", 8),
    ("佛山", "757", 8),
    ("东莞", "769", 8),
)
ZH_TRADE_CHARS = (
    "华信创新达恒泰瑞博远云帆智汇通联鑫盛安宏德正中天海金明睿启航星辰光源锦润丰嘉和峰宇腾顺祥隆昌"
)
ZH_INDUSTRIES = (
    ("科技", "tech", "it"),
    ("信息技术", "it", "it"),
    ("电子", "elec", "manufacturing"),
    ("软件", "soft", "it"),
    ("网络科技", "net", "it"),
    ("贸易", "trade", "wholesale"),
    ("国际贸易", "trading", "wholesale"),
    ("物流", "logistics", "logistics"),
    ("供应链管理", "scm", "logistics"),
    ("医疗器械", "medical", "healthcare"),
    ("生物科技", "bio", "healthcare"),
    ("新能源", "energy", "energy"),
    ("机械设备", "machinery", "manufacturing"),
    ("化工", "chem", "energy"),
    ("食品", "food", "manufacturing"),
    ("服饰", "fashion", "retail"),
    ("建材", "build", "construction"),
    ("文化传媒", "media", "media"),
    ("教育科技", "edu", "education"),
    ("环保科技", "eco", "services"),
    ("汽车零部件", "auto", "manufacturing"),
    ("实业", "group", "other"),
)
ZH_SUFFIXES = (("有限公司", 8), ("股份有限公司", 2), ("集团有限公司", 1))
ZH_ROADS = _words("建国路 人民路 中山路 解放路 长江路 科技园路 世纪大道 学院路 滨江路 新华路 创业路 和平路")
ZH_TITLES = (
    "总经理",
    "副总经理",
    "采购经理",
    "采购专员",
    "技术总监",
    "财务经理",
    "行政主管",
    "市场经理",
    "销售总监",
    "IT经理",
)
# Mobile prefixes of China Mobile, China Unicom and China Telecom (all valid for phonenumbers).
CN_MOBILE_PREFIXES = _words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 199"
)

# --- Western ----------------------------------------------------------------------------------

EN_FIRST = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony Sandra Mark Ashley Paul "
    "Emily Steven Michelle Andrew Laura Lukas Anna Felix Marie Jonas Sophie Oliver Emma Henry Grace"
)
EN_LAST = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Wilson Anderson Taylor Thomas Moore Martin "
    "Jackson Thompson White Harris Clark Lewis Walker Hall Allen Young King Wright Scott Green Baker Adams "
    "Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans Turner Parker Müller Schmidt Schneider "
    "Fischer Weber Meyer Wagner Becker Hoffmann"
)
EN_COMPANY_WORDS = _words(
    "Northwind Contoso Fabrikam Tailspin Litware Proseware Adatum Wingtip Alpine Summit Harbor Pioneer "
    "Redwood Silverline Bluewater Evergreen Keystone Ironbridge Lakeside Crescent Meridian Horizon"
)
# (kind, industry picklist code)
EN_COMPANY_KINDS = (
    ("Systems", "it"),
    ("Technologies", "it"),
    ("Logistics", "logistics"),
    ("Trading", "wholesale"),
    ("Industries", "manufacturing"),
    ("Partners", "services"),
    ("Solutions", "services"),
    ("Foods", "manufacturing"),
    ("Medical", "healthcare"),
    ("Energy", "energy"),
    ("Labs", "it"),
)
EN_COMPANY_SUFFIXES = ("Inc.", "Ltd.", "LLC", "GmbH", "Corp.")
EN_TITLES = ("CEO", "CFO", "Purchasing Manager", "Buyer", "CTO", "Operations Manager", "Office Manager")
US_AREA_CODES = ("212", "415", "646", "312", "617", "206", "303", "512", "404", "305", "213", "702")
DE_AREA = ("30", "40", "69", "89", "221")  # Berlin, Hamburg, Frankfurt, Munich, Cologne (8-digit subscriber)


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    name: str  # as written: "王芳" or "Mary Smith"
    email_local: str  # "wang.fang" or "mary.smith"
    chinese: bool
    gender: str  # "m" / "f"


@dataclass(frozen=True)
class Company:
    name: str
    domain: str
    city: str
    area_code: str  # "" for Western companies
    chinese: bool
    industry: str  # a code of the "industry" picklist (数据字典): it, manufacturing, ...
    short_name: str = ""  # 简称: "云帆科技", "Northwind"


class Fake:
    """Seeded fake data. `Fake(7).person_zh()` is the same on every run."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self._pinyin: dict[str, str] = {}

    # --- helpers ------------------------------------------------------------------------------

    def pinyin(self, text: str) -> str:
        """Toneless pinyin of Chinese text, cached per character (fast enough for millions)."""
        out = []
        for ch in text:
            py = self._pinyin.get(ch)
            if py is None:
                py = "".join(lazy_pinyin(ch)).lower()
                self._pinyin[ch] = py
            out.append(py)
        return "".join(out)

    def digits(self, n: int, *, first_nonzero: bool = False) -> str:
        low = 10 ** (n - 1) if first_nonzero else 0
        return f"{self.rng.randrange(low, 10**n):0{n}d}"

    # --- people -------------------------------------------------------------------------------

    def person_zh(self) -> Person:
        rng = self.rng
        surname = rng.choices(ZH_SURNAMES, weights=ZH_SURNAME_WEIGHTS)[0]
        gender = rng.choice("mf")
        pool = ZH_GIVEN_MALE if gender == "m" else ZH_GIVEN_FEMALE
        given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.6 else "")
        local = f"{self.pinyin(surname)}.{self.pinyin(given)}"
        return Person(given, surname, surname + given, local, True, gender)

    def person_en(self) -> Person:
        rng = self.rng
        first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
        local = f"{first}.{last}".lower().replace("ü", "ue")
        gender = "f" if EN_FIRST.index(first) % 2 else "m"
        return Person(first, last, f"{first} {last}", local, False, gender)

    def person(self, *, western_share: float = 0.2) -> Person:
        return self.person_en() if self.rng.random() < western_share else self.person_zh()

    # --- companies ----------------------------------------------------------------------------

    def company_zh(self) -> Company:
        rng = self.rng
        city, area, _ = rng.choice(ZH_CITIES)
        trade = "".join(rng.sample(ZH_TRADE_CHARS, 2))
        industry, industry_en, code = rng.choice(ZH_INDUSTRIES)
        suffix = rng.choices([s for s, _ in ZH_SUFFIXES], weights=[w for _, w in ZH_SUFFIXES])[0]
        domain = f"{self.pinyin(trade)}-{industry_en}.example.cn"
        return Company(
            f"{city}{trade}{industry}{suffix}", domain, city, area, True, code, trade + industry[:2]
        )

    def company_en(self) -> Company:
        rng = self.rng
        word, (kind, code), suffix = (
            rng.choice(EN_COMPANY_WORDS),
            rng.choice(EN_COMPANY_KINDS),
            rng.choice(EN_COMPANY_SUFFIXES),
        )
        domain = f"{word}-{kind}.example.com".lower()
        return Company(f"{word} {kind} {suffix}", domain, "", "", False, code, word)

    def company(self, *, western_share: float = 0.1) -> Company:
        return self.company_en() if self.rng.random() < western_share else self.company_zh()

    def address_zh(self, city: str = "") -> str:
        rng = self.rng
        city = city or rng.choice(ZH_CITIES)[0]
        floor = f"{rng.choice('ABCD')}座{rng.randint(2, 30)}层" if rng.random() < 0.5 else ""
        return f"{city}市{rng.choice(ZH_ROADS)}{rng.randint(1, 999)}号{floor}"

    def job_title(self, chinese: bool = True) -> str:
        return self.rng.choice(ZH_TITLES if chinese else EN_TITLES)

    # --- phones and e-mails (E.164, valid for phonenumbers) -----------------------------------

    def mobile_cn(self) -> str:
        return f"+86{self.rng.choice(CN_MOBILE_PREFIXES)}{self.digits(8)}"

    def landline_cn(self, area_code: str | None = None) -> str:
        if area_code is None:
            area_code = self.rng.choice(ZH_CITIES)[1]
        length = next((n for _, a, n in ZH_CITIES if a == area_code), 8)
        return f"+86{area_code}{self.rng.choice('234567')}{self.digits(length - 1, first_nonzero=True)}"

    def phone_us(self) -> str:
        exchange = self.rng.randint(201, 989)
        if exchange % 100 == 11 or exchange == 555:
            exchange += 1
        return f"+1{self.rng.choice(US_AREA_CODES)}{exchange}{self.digits(4)}"

    def phone_de(self) -> str:
        return f"+49{self.rng.choice(DE_AREA)}{self.digits(8, first_nonzero=True)}"

    def mobile_for(self, person: Person) -> str:
        if person.chinese:
            return self.mobile_cn()
        return self.phone_us() if self.rng.random() < 0.7 else self.phone_de()

    def email(self, person: Person, company: Company | None = None) -> str:
        if company is not None:
            return f"{person.email_local}@{company.domain}"
        domain = self.rng.choice(("example.com", "example.net", "example.org"))
        return f"{person.email_local}{self.rng.randint(1, 99)}@{domain}"
