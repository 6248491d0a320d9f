"""Masking personal data in report text before it is shown to the public (行政执法公示).

Rules (domain notes §6): names of persons (张某某 forms, 王先生/李女士, names after 我叫/姓名/
联系人, and names a part-of-speech tagger recognises), mobile and landline numbers, resident
ID numbers, bank cards, QQ numbers (every run of 7 or more digits goes), licence plates,
e-mail addresses, WeChat/QQ ids and precise addresses (门牌号, 号楼, 单元, 室).

It errs on the side of masking: a date like 3月15号 loses its number, a surname-like word may
go. What is masked becomes ``＊＊``; nothing of it is kept.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from typing import Any

MASK = "＊＊"

# The most common Chinese surnames (covering the vast majority of people), single and double.
SURNAMES = set(
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
_SURNAME = "(?:" + "|".join(DOUBLE_SURNAMES) + "|[" + "".join(sorted(SURNAMES)) + "])"
_CJK = r"[\u4e00-\u9fff]"
# Forms of address after a surname: 王先生, 李女士, 张队长.
PERSONAL_TITLES = (
    "先生",
    "女士",
    "小姐",
    "师傅",
    "老师",
    "大爷",
    "大妈",
    "阿姨",
    "老板",
    "大姐",
    "大哥",
)
OFFICIAL_TITLES = (
    "队长", "科长", "局长", "主任", "所长", "书记", "警官", "部长", "处长", "站长", "村长",
    "经理", "会计", "镇长", "区长",
)  # fmt: skip
# 城管局长, 派出所长: an organisation's last character is no surname.
_ORG_END = "局管队所站处部科委办院厅村镇街区市县省城"
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
_DIGIT = r"[0-9０-９]"
_ROLES = (
    "局长|队长|科长|主任|所长|书记|队员|民警|警官|辅警|执法人员|工作人员|城管|网格员|协管员|"
    "经理|老板|法人|负责人|站长|村长|镇长|区长|处长|部长|医生|护士|校长|班主任|业主"
)
# Words after which a person's own name follows.
_CUES = "我叫|姓名|名字|联系人|举报人|投诉人|本人是|名叫|叫做|签名|署名"
_NUM = r"[0-9０-９一二三四五六七八九十百零〇两]"

# Order matters: longer, more specific patterns first.
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")),
    ("id_number", re.compile(r"(?<![0-9])[1-9]\d{16}[0-9Xx](?![0-9])")),
    # Phones, bank cards, QQ numbers, ID numbers written with gaps: any 7+ digits in a row,
    # spaces or dashes allowed between groups.
    ("digits", re.compile(rf"(?:\+?86[\s\-]?)?{_DIGIT}(?:[\s\-]?{_DIGIT}){{6,}}[Xx]?")),
    (
        "plate",
        re.compile(rf"[{PROVINCES}]\s*[A-Za-z][\s·•.\-]*[A-Za-z0-9]{{4,6}}(?:[挂学警领港澳])?"),
    ),
    (
        "chat_id",
        re.compile(
            r"(?:微信号?|VX|vx|Vx|wx|WX|weixin|QQ号?|qq号?|扣扣)\s*(?:号码|号|是|为)?\s*[:：]?\s*"
            r"[A-Za-z0-9_\-]{5,20}"
        ),
    ),
    (
        "address",
        re.compile(
            rf"{_NUM}+\s*(?:号楼|号院|栋|幢|座|单元|室|号|楼|层|户|弄|巷|排|组)"
            rf"(?:\s*{_NUM}+\s*(?:号楼|号院|栋|幢|座|单元|室|号|楼|层|户))*"
        ),
    ),
    (
        "named",
        re.compile(
            rf"({_CUES})([:：\s是为]*)(?:(?:{'|'.join(DOUBLE_SURNAMES)}){_CJK}{{1,2}}|{_CJK}{{2,3}})"
        ),
    ),
    (
        "named",  # 局长孙立新, 队员李建国: a role, then a name
        re.compile(
            rf"({_ROLES})(\s*)(?:(?:{'|'.join(DOUBLE_SURNAMES)}){_CJK}{{1,2}}|{_SURNAME}{_CJK}{{1,2}})"
        ),
    ),
    ("mou", re.compile(rf"{_SURNAME}某+")),
    ("title", re.compile(rf"{_SURNAME}(?:{'|'.join(PERSONAL_TITLES)})")),
    ("office", re.compile(rf"(?<![{_ORG_END}]){_SURNAME}(?:{'|'.join(OFFICIAL_TITLES)})")),
    ("familiar", re.compile(rf"(?<![\u4e00-\u9fff])[老小]{_SURNAME}(?![\u4e00-\u9fff]{{2}})")),
]

_lock = threading.Lock()
_tagger: Any = None


def _pos_tagger() -> Any:
    """A private jieba part-of-speech tokenizer (never jieba's global one), built once."""
    global _tagger
    with _lock:
        if _tagger is None:
            import jieba
            import jieba.posseg

            jieba.setLogLevel(logging.WARNING)
            _tagger = jieba.posseg.POSTokenizer(jieba.Tokenizer())
        return _tagger


def _names_by_tagger(text: str) -> list[str]:
    """Words the tagger marks as person names and that look like one (surname first)."""
    found = []
    for word, flag in _pos_tagger().cut(text):
        if not flag.startswith("nr") or len(word) < 2:
            continue
        core = word[1:] if word[0] in "老小" else word
        if core[:2] in DOUBLE_SURNAMES or core[:1] in SURNAMES:
            found.append(word)
    return found


def _named(match: re.Match[str]) -> str:
    return match.group(1) + match.group(2) + MASK


@lru_cache(maxsize=4096)
def anonymise(text: str | None) -> str:
    """The text with personal data masked; '' for nothing."""
    if not text:
        return ""
    # The tagger reads the text as written: masks would change the context it relies on.
    names = sorted(set(_names_by_tagger(text)), key=len, reverse=True)
    out = text
    for kind, pattern in PATTERNS:
        out = pattern.sub(_named if kind == "named" else MASK, out)
    for name in names:
        out = out.replace(name, MASK)
    return out


def contains_personal_data(text: str) -> bool:
    """Whether anything in ``text`` would be masked (used by tests and the export check)."""
    return anonymise(text) != text
