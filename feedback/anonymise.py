"""Masking personal data in report text before it is shown to the public (行政执法公示).

What goes (domain notes §6): mobile and landline numbers, resident ID numbers, bank cards, QQ
numbers (every run of 7 or more digits that is not a date or an amount, also written in Chinese
numerals), licence plates, e-mail addresses, WeChat/QQ ids and precise addresses (门牌号 after a
road, 号楼, 单元, 室 ...); those become ``＊＊``.

Person names are masked the way Chinese official disclosures and published judgments do: the
surname stays and each character of the given name becomes 某 (张伟 → 张某, 李建国 → 李某某,
欧阳娜娜 → 欧阳某某). A name whose first character is not a known surname (only taken after
我叫/姓名/名叫) becomes ``＊＊``, since a rare surname would itself point at the person. Forms
that already show no more than a surname (王先生, 张队长, 老赵, 张某某) are left as they are.

Precision matters as much as recall: masking must never change what a sentence says. So a name
is only looked for

* right after a cue (我叫, 姓名, 联系人 ...) or a role (执法人员, 队员, 局长 ...),
* right before a form of address or an office (先生, 女士, 同志, 科长, 队长 ...),
* or where jieba tags a word ``nr`` and the word is 2-3 characters, starts with an unambiguous
  surname, and is not a dictionary word (the project's govterms.txt, or jieba's dictionary
  with a real frequency),

and a name never takes in a function word (未, 没, 不, 在, 已, 的, 了 ...). Every mask replaces
only the span that matched; text around it is kept byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from classifiers import segment

__all__ = ["MASK", "Masked", "anonymise", "contains_personal_data", "find_personal_data"]

MASK = "＊＊"
MOU = "某"

# The most common Chinese surnames (covering the vast majority of people), single and double.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
DOUBLE_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "司徒", "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "轩辕",
)  # fmt: skip
# Surnames that are far more often an ordinary word (于本周, 和城管, 向我, 高度, 时间, 全程):
# a name starting with one is only taken in a name context, never from the tagger alone
# (苑 ends place names: 某某苑开一家饭店).
WEAK_SURNAMES = frozenset(
    "于和向时万应成全明常高文安方解连路查商师管车边单曲谷农卫党宫司古简席苑左"
)
# Characters that do not occur in a given name but do occur right after one: function words,
# pronouns, common verbs of speech and motion, and 某 (张某 is masked already).
NOT_IN_NAME = frozenset(
    "的了在是和与及或向对给跟把被让叫找问于由从已未没不也都就还又再很太等这那其此各每某们我你他"
    "她它您说称讲要会能将该并而但却则即因所为着过地得吗呢吧啊呀嘛么个些啥谁怎哪几年月日号元次件"
    "里外上下后前内至以到去来看有无没当正曾才刚只仅均皆姓"
)
# A name does not end like an organisation (仲裁委, 城管局, 派出所).
_ORG_END = frozenset("委局院所站队办厅处科部会司厂店馆场校村镇街区市县省路")
# Nor, found by the tagger alone, like a place (葛竹坪, 伍家岭, 宋家桥, 左家垅, 景香苑).
_PLACE_END = frozenset(
    "坪岭桥冲庙苑塘湾垅坡山河湖港园府城庄洲江溪坝寨岗坳铺堡屯沟洼渡口家营台乡庭居阁轩"
)
# ... or stand right before a place or an organisation (金帆路, 黄星大道, 唐祥市场).
_PLACE_AFTER = re.compile(
    r"(?:路|街|道|大道|巷|小区|花园|村|镇|乡|市|县|组|社区|公园|市场|大厦|广场|桥|湖|山|河|坡|冲|湾"
    r"|片区|项目|公司|医院|学校|门诊|诊所|超市|酒店|宾馆|集团|中学|小学|幼儿园|二期|一期"
    r"|商贸|健身|有限|股份|实业|科技|置业|物业|地产|建材|纽)"
)
# What may follow a one-character given name without being its second character.
_NOT_NAME_TAIL = NOT_IN_NAME | frozenset("处家们等哥姐叔婶妈爸总工局队组村镇区县市省路街")
# Forms of address and offices that follow a name: 张伟先生, 李建国科长, 王芳副局长.
TITLES = (
    "先生", "女士", "小姐", "同志", "师傅", "老师", "大爷", "大妈", "阿姨", "大姐", "大哥",
    "队长", "科长", "局长", "主任", "所长", "书记", "警官", "部长", "处长", "站长", "村长",
    "经理", "镇长", "区长", "律师", "法官", "医生", "院长", "校长", "组长", "股长",
)  # fmt: skip
# Words after which a person's own name follows, whatever its first character.
STRONG_CUES = ("我叫", "姓名", "名字是", "名字叫", "名叫", "叫做")
# Roles after which a name often follows (执法人员张伟); here it must start with a surname.
ROLES = (
    "执法人员", "工作人员", "执法队员", "队员", "民警", "警官", "辅警", "城管", "网格员",
    "协管员", "联系人", "举报人", "投诉人", "反映人", "当事人", "负责人", "法人", "法定代表人",
    "局长", "队长", "科长", "主任", "所长", "书记", "经理", "老板", "站长", "村长", "镇长",
    "区长", "处长", "部长", "医生", "护士", "校长", "班主任", "业主", "律师", "法官", "同事",
    "本人", "签名", "署名", "代表",
)  # fmt: skip

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
_D = r"[0-9０-９]"
_CN_DIGIT = "零〇一二三四五六七八九幺"
_NUM = r"[0-9０-９一二三四五六七八九十百零〇]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# Phones, bank cards, QQ numbers, ID numbers written with or without gaps: 7+ digits in a row,
# spaces or dashes allowed between groups.
_DIGITS = re.compile(
    rf"(?:\+?86[\s\-]?)?(?<![0-9０-９]){_D}(?:[\s\-]?{_D}){{6,}}(?![0-9０-９])[Xx]?"
)
_MOBILE = re.compile(r"1[3-9]\d{9}")
_STANDARD = re.compile(r"\d{1,6}\s*-\s*(?:19|20)\d\d")
# 2019-04-25, 2019 04 25, 20190425: a date, not a number to hide.
_DATE = re.compile(r"(?:19|20)\d\d[\s\-]?(?:0?[1-9]|1[0-2])[\s\-]?(?:0?[1-9]|[12]\d|3[01])")
# A number followed by a unit is an amount (罚款12000000元, 3000000平方米), not a phone.
_UNIT_AFTER = re.compile(
    r"\s*(?:[.．]\d+)?\s*(?:元|万|亿|米|吨|亩|斤|%|％|㎡|平方|公里|千克|余|多)"
)
# 幺三八一二三四五六七八: a phone read out in Chinese numerals.
_CN_PHONE = re.compile(
    rf"(?<![{_CN_DIGIT}十百千万亿])[{_CN_DIGIT}](?:[\s\-]?[{_CN_DIGIT}0-9]){{6,}}(?![十百千万亿])"
)
_PLATE = re.compile(
    rf"(?<![A-Za-z0-9])[{PROVINCES}]\s*[A-Za-z][\s·•.\-]*(?=[A-Za-z0-9]{{0,5}}[0-9])"
    r"[A-Za-z0-9]{4,6}(?![A-Za-z0-9])[挂学警领港澳]?"
)
# The label stays, the id goes: 微信号 ＊＊.
_CHAT_ID = re.compile(
    r"((?:微信号?|VX|vx|Vx|wx|WX|weixin|QQ号?|qq号?|扣扣)\s*(?:号码|号|是|为)?\s*[:：]?\s*)"
    r"([A-Za-z0-9_\-]{5,20})(?![A-Za-z0-9_\-])"
)
# Precise addresses. A house number after a road (般阳路88号, 123弄); a unit or a room (2单元,
# 501室, 3-2-501室); a building with what follows it (3号楼2单元501室, 5栋3层). A bare 8栋
# not after a compound's name (安置小区共8栋房屋, 14栋业主) is often a count; nor are 一户人家,
# 三室一厅, 30户居民 or a date (3月15号).
_ADDR_PART = rf"{_NUM}+\s*(?:号楼|号院|栋|幢|座|单元|室(?!\s*{_NUM}*\s*厅)|号|楼|层|户|弄|排|组)"
_ROOM = rf"室(?!\s*{_NUM}*\s*厅)"
# A numbered building (3号楼, 三号楼) names one building, never a count, so it goes on its own,
# with a bare room number after it (3号楼501); 3栋 / 5幢 / 2座 go after a compound's name
# (华府小区3栋, 翠园5幢), where they are an address and not a count (共8栋房屋). The road and the
# compound stay: the public hot issues are about places.
_COMPOUND_END = "区园苑府城庭居寓厦院里湾"
_ADDRESS = re.compile(
    rf"(?:(?<=[路街道巷弄里村庄屯])\s*{_D}+\s*(?:号院|号|弄)"
    rf"|(?:{_D}+\s*[-－]\s*){{0,2}}{_D}+\s*(?:单元|{_ROOM})"
    rf"|(?<![另同每这那哪某])[一二三四五六七八九十]+\s*单元"
    rf"|(?:{_D}+|(?<![第每这那哪几])[一二三四五六七八九十]+)\s*号楼(?:\s*[-－]?\s*{_D}{{3,4}}(?![0-9０-９]))?"
    rf"|(?<=[{_COMPOUND_END}])\s*{_D}+\s*(?:栋|幢|座)(?:\s*[和与、至到]\s*{_D}+\s*(?:栋|幢|座))*"
    rf"|{_D}+\s*(?:号楼|栋|幢|座)(?=\s*[-－]?\s*{_ADDR_PART}))"
    rf"(?:\s*[-－]?\s*{_ADDR_PART})*"
)
_TITLE = re.compile("副?(?:" + "|".join(TITLES) + ")")
_CUE_END = re.compile(
    "(?:(?P<strong>" + "|".join(STRONG_CUES) + ")|(?P<role>" + "|".join(ROLES) + "))"
    r"[:：\s]*(?:是|为)?[:：\s]*"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
# jieba's dictionary frequencies: at or above these a word is an ordinary word, not a name
# (谢谢 1089, 许可 623, 陈述 763 are tagged nr there; real names of ordinary people are absent
# or rare, 李娜 438).
_COMMON = 500
_COMMON_NOT_NAME = 50


@dataclass(frozen=True)
class Masked:
    """One masked span of the original text."""

    start: int
    end: int
    kind: str
    original: str
    replacement: str


def _word_info(word: str) -> tuple[int, str]:
    """(frequency, tag) of a word in the dictionary; (0, '') when it is not a word there."""
    freq = segment.frequency(word)
    tag = segment.tagger().word_tag_tab.get(word) or ""
    return freq, str(tag)


def _is_word(word: str) -> bool:
    """Whether ``word`` is an ordinary dictionary word rather than a person's name."""
    if word in segment.govterms():
        return True
    freq, tag = _word_info(word)
    return freq >= _COMMON or (freq >= _COMMON_NOT_NAME and not tag.startswith("nr"))


def _split_surname(name: str) -> tuple[str, str]:
    """(surname, given name); the surname is '' when it is not a known one."""
    if name[:2] in DOUBLE_SURNAMES:
        return name[:2], name[2:]
    if name[:1] in SURNAMES:
        return name[:1], name[1:]
    return "", name


def _plausible(name: str, *, any_surname: bool = False) -> bool:
    """Whether ``name`` can be a person's name (surname + 1-2 characters) by itself."""
    surname, given = _split_surname(name)
    if not surname and any_surname:
        surname, given = name[:1], name[1:]
    if not surname or not 1 <= len(given) <= 2:
        return False
    if any(not _CJK.match(c) or c in NOT_IN_NAME for c in name):
        return False
    if name[-1] in _ORG_END or _TITLE.fullmatch(given) or _is_word(name):
        return False
    if len(given) == 2:
        freq, tag = _word_info(given)
        # 王明天来: the second part is a time word or a pronoun, not a given name.
        if freq and tag[:1] in ("t", "r", "p", "c", "u", "m", "f", "q"):
            return False
        # 和城管, 于本周: a weak surname followed by an ordinary word.
        if surname in WEAK_SURNAMES and _is_word(given):
            return False
        if any_surname and name[-1] in _PLACE_END:
            return False  # 叫做鼎功桥
    return True


def _mask_name(name: str) -> str:
    surname, given = _split_surname(name)
    return surname + MOU * len(given) if surname else MASK


@dataclass
class _Tokens:
    starts: set[int]
    ends: set[int]
    words: dict[tuple[int, int], str]  # (start, end) -> tag
    end_of: dict[int, int]  # start -> end

    def cut_through(self, start: int, end: int, text: str) -> bool:
        """Whether a dictionary word runs across either end of ``text[start:end]``, or one
        starts it: 高度重视 after 局长 is no 高度重, 孙/立新 makes 孙立 too short, 感谢彭书记
        has no 谢彭, 成员除主任 no 成员除."""
        for s in range(max(0, start - 3), start):
            e = self.end_of.get(s, s)
            if start < e <= end and _word_info(text[s:e])[0]:
                return True
        first = self.end_of.get(start, start)
        head = text[start:first]
        if start + 1 < first < end and head not in DOUBLE_SURNAMES and _is_word(head):
            return True
        for s in range(start, end):
            e = self.end_of.get(s, s)
            if e > end:
                freq, tag = _word_info(text[s:e])
                # (jieba's dictionary tags some idioms nr: 严格执法; no name has 4 characters
                # after a single surname.)
                if freq and (not tag.startswith("nr") or e - s >= 4):
                    return True
        return False


def _tokens(text: str) -> _Tokens:
    pos = 0
    toks = _Tokens(set(), set(), {}, {})
    for word, flag in segment.tagger().cut(text):
        if text.startswith(word, pos):
            toks.starts.add(pos)
            toks.ends.add(pos + len(word))
            toks.words[(pos, pos + len(word))] = flag
            toks.end_of[pos] = pos + len(word)
            pos += len(word)
    return toks


def _best(candidates: list[tuple[int, int]], toks: _Tokens) -> tuple[int, int] | None:
    """The candidate span jieba's segmentation agrees with most; longer wins a tie."""

    def score(span: tuple[int, int]) -> tuple[int, int]:
        s = 0
        if span in toks.words:
            s += 2
        if span[0] in toks.starts and span[1] in toks.ends:
            s += 1
        return s, span[1] - span[0]

    return max(candidates, key=score) if candidates else None


def _unknown_surname_ok(span: tuple[int, int], text: str, toks: _Tokens) -> bool:
    """After 姓名/我叫, a name without a known surname only if no ordinary word is in it
    (姓名用字, 姓名需提交 are no names)."""
    if _split_surname(text[span[0] : span[1]])[0] or toks.words.get(span, "").startswith("nr"):
        return True
    for (s, e), _flag in toks.words.items():
        if span[0] <= s and e <= span[1] and e - s >= 2 and _word_info(text[s:e])[0]:
            return False
    return True


def _name_ends(end: int, text: str, toks: _Tokens) -> bool:
    if end >= len(text) or not _CJK.match(text[end]) or text[end] in _NOT_NAME_TAIL:
        return True
    nxt = toks.end_of.get(end, end)
    return nxt == end + 1 or toks.words.get((end, nxt), "")[:1] in ("v", "d", "p", "c", "u")


def _weak_ok(span: tuple[int, int], text: str, toks: _Tokens) -> bool:
    """Where the tagger does not see a name, none that starts with a weak surname (于, 和, 时
    ...) nor one whose given name is an ordinary word (副县长任常务副组长, 任妇女组长)."""
    if toks.words.get(span, "").startswith("nr"):
        return True
    name = text[span[0] : span[1]]
    surname, given = _split_surname(name)
    if surname in WEAK_SURNAMES:
        return False
    freq, tag = _word_info(given)
    return len(given) < 2 or freq < _COMMON or tag.startswith("nr")


def _extend(span: tuple[int, int], text: str, toks: _Tokens) -> tuple[int, int]:
    """黄毫/崇、: the tagger cut a three-character name after two; take the third character
    when it stands alone before punctuation or the end."""
    start, end = span
    surname, given = _split_surname(text[start:end])
    if len(given) != 1 or end >= len(text) or toks.end_of.get(end) != end + 1:
        return span
    c = text[end]
    if not _CJK.match(c) or c in _NOT_NAME_TAIL:
        return span
    if end + 1 < len(text) and _CJK.match(text[end + 1]):
        return span
    return (start, end + 1)


def _names(text: str) -> list[Masked]:
    toks = _tokens(text)
    found: dict[tuple[int, int], str] = {}

    # After a cue or a role: 我叫张伟, 执法人员张伟未出示证件, 局长孙立新 (but not 交警官方微博:
    # the role must be a word of its own).
    for m in _CUE_END.finditer(text):
        p = m.end()
        if m.start() not in toks.starts or p not in toks.starts:
            continue
        strong = m.group("strong") is not None
        spans = [(p, p + n) for n in (2, 3, 4) if p + n <= len(text)]
        ok = [
            s
            for s in spans
            if _plausible(text[s[0] : s[1]], any_surname=strong and s[1] - s[0] <= 3)
            and not toks.cut_through(s[0], s[1], text)
            and _weak_ok(s, text, toks)
            and _unknown_surname_ok(s, text, toks)
        ]
        best = _best(ok, toks)
        if best:
            found[_extend(best, text, toks)] = "name"

    # Before a form of address or an office: 张伟同志, 李建国科长.
    for m in _TITLE.finditer(text):
        q = m.start()
        if toks.end_of.get(q) != m.end():
            continue  # 律师事务所 is no title
        spans = [(q - n, q) for n in (2, 3, 4) if q - n >= 0]
        ok = [
            s
            for s in spans
            if _plausible(text[s[0] : s[1]])
            and not toks.cut_through(s[0], s[1], text)
            and _weak_ok(s, text, toks)
        ]
        best = _best(ok, toks)
        if best:
            found[best] = "name"

    # Where the tagger sees a person's name, without any cue.
    for (start, end), flag in toks.words.items():
        word = text[start:end]
        if not flag.startswith("nr") or (start, end) in found:
            continue
        surname, _ = _split_surname(word)
        if not surname or surname in WEAK_SURNAMES or not _plausible(word):
            continue
        # Without a cue, any real dictionary word is a word (毛巾, 麦子, 苗木, 张口 are nr there),
        # and the tagger takes many places for people.
        if _word_info(word)[0] >= _COMMON_NOT_NAME or word[-1] in _PLACE_END:
            continue
        if _PLACE_AFTER.match(text, end):
            continue
        # A two-character name alone is taken only where it visibly ends or a verb or function
        # word follows (张伟反映, 王强说); the tagger's other two-character finds in running text
        # are mostly places and typos (芦洪市镇, 吉思纽幼儿园).
        if len(word) == 2 and not _name_ends(end, text, toks):
            continue
        # 许可证, 仲裁委: the surname and the next character already make an ordinary word.
        if len(word) - len(surname) == 2 and _is_word(word[: len(surname) + 1]):
            continue
        found[_extend((start, end), text, toks)] = "tagged_name"

    return [Masked(s, e, k, text[s:e], _mask_name(text[s:e])) for (s, e), k in found.items()]


def _patterns(text: str) -> list[Masked]:
    out: list[Masked] = []

    def add(start: int, end: int, kind: str, replacement: str = MASK) -> None:
        out.append(Masked(start, end, kind, text[start:end], replacement))

    for m in _EMAIL.finditer(text):
        add(m.start(), m.end(), "email")
    for m in _DIGITS.finditer(text):
        digits = re.sub(r"\D", "", m.group().translate(_FULLWIDTH))
        if not _MOBILE.search(digits):
            date = _DATE.match(m.group())
            # 2019-04-25 09:32: a date (and the hour after it), not a number to hide.
            if date and len(re.sub(r"\D", "", m.group()[date.end() :])) < 7:
                continue
            if _UNIT_AFTER.match(text, m.end()):
                continue
            # CJJ 179-2012, GB/T 50180-2018: a standard's number and year.
            if _STANDARD.fullmatch(m.group()) and re.search(r"[A-Za-z]\s*$", text[: m.start()]):
                continue
        add(m.start(), m.end(), "number")
    for m in _CN_PHONE.finditer(text):
        add(m.start(), m.end(), "number")
    for m in _PLATE.finditer(text):
        add(m.start(), m.end(), "plate")
    for m in _CHAT_ID.finditer(text):
        add(m.start(2), m.end(2), "chat_id")
    for m in _ADDRESS.finditer(text):
        add(m.start(), m.end(), "address")
    return out


_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


@lru_cache(maxsize=4096)
def _find(text: str) -> tuple[Masked, ...]:
    spans = sorted(_patterns(text) + _names(text), key=lambda s: (s.start, -(s.end - s.start)))
    kept: list[Masked] = []
    for span in spans:
        if kept and span.start < kept[-1].end:
            continue  # overlaps one already kept (which starts earlier or is longer)
        kept.append(span)
    return tuple(kept)


def find_personal_data(text: str | None) -> list[Masked]:
    """The spans of ``text`` that :func:`anonymise` masks, in order."""
    return list(_find(text)) if text else []


def anonymise(text: str | None) -> str:
    """The text with personal data masked; '' for nothing."""
    if not text:
        return ""
    parts = []
    pos = 0
    for span in _find(text):
        parts.append(text[pos : span.start])
        parts.append(span.replacement)
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts)


def contains_personal_data(text: str) -> bool:
    """Whether anything in ``text`` would be masked (used by tests and the export check)."""
    return bool(find_personal_data(text))
