"""Personal data is masked before anything reaches the public page, and nothing else changes.

Three stories: reports full of personal data leak none of it; ordinary complaints and answers
keep every word (a mask that swallows 未 turns "did not show his ID" into "showed his ID"); and
on real government replies no mobile number survives while only a small share of text changes.
"""

from __future__ import annotations

import csv
import random
import re

import pytest

from classifiers.corpus import read_corpus
from feedback.anonymise import MASK, anonymise, find_personal_data
from feedback.demo import WORDING
from tests.shared_data import TEDDY

REPLIES = TEDDY / "attachment4_replies.csv"
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")

# (text, the personal data in it that must not survive)
LEAKS = [
    ("我叫张伟，电话13812345678。", ["张伟", "13812345678"]),
    ("手机 139 1234 5678，也可打 139-1234-5678", ["1234", "5678"]),
    ("+86 13912345678", ["13912345678"]),
    ("座机0533-5181234，或者5181234", ["5181234"]),
    ("身份证号370303198001011234，另一个37030319800101123X", ["370303", "123X"]),
    ("银行卡6222 0212 3456 7890 123 被扣款", ["6222", "7890"]),
    ("车牌鲁C·12345被扣，还有鲁C12345D和京A 88888", ["鲁C", "12345", "88888"]),
    ("邮箱 zhangwei@example.com", ["zhangwei", "example.com"]),
    ("加我微信号 zw_8888abc 或者QQ:12345678", ["zw_8888abc", "12345678"]),
    ("vx: wang_li_99", ["wang_li_99"]),
    ("住在般阳路88号3号楼2单元501室", ["88号", "3号楼", "2单元", "501室"]),
    ("执法队员李建国和局长孙立新", ["建国", "立新"]),
    ("姓名：王小明", ["小明"]),
    ("联系人：欧阳娜娜", ["娜娜"]),
    ("我叫幺三八一二三四五六七八，住3-2-501室", ["幺三八", "501"]),
    ("执法人员张伟未出示证件，城管队员 刘建华 动手打人", ["伟", "建华"]),
]


@pytest.mark.parametrize(("text", "secrets"), LEAKS)
def test_personal_data_is_masked(text: str, secrets: list[str]) -> None:
    masked = anonymise(text)
    for secret in secrets:
        assert secret not in masked, (text, masked)
    assert masked != text
    assert not re.search(r"\d{7}", masked.replace(" ", "").replace("-", ""))


# The trial's examples (and their neighbours): exactly what the public page shows.
MEANING = [
    # a name is replaced by 张某 / 李某某: the surname stays, the words around it all stay
    ("执法人员张伟未出示证件", "执法人员张某未出示证件"),
    ("执法人员张伟没有出示证件", "执法人员张某没有出示证件"),
    ("执法人员张伟说不用开票", "执法人员张某说不用开票"),
    ("我叫张伟，电话13812345678。", "我叫张某，电话＊＊。"),
    ("执法队员李建国和局长孙立新", "执法队员李某某和局长孙某某"),
    ("向张伟同志反映，李建国科长已批示", "向张某同志反映，李某某科长已批示"),
    ("姓名：王小明", "姓名：王某某"),
    (
        "经核查，张伟反映的情况属实，已联系13812345678说明",
        "经核查，张某反映的情况属实，已联系＊＊说明",
    ),
    ("联系人：欧阳娜娜", "联系人：欧阳某某"),
    # only a surname is shown already: nothing to mask
    ("王先生、李女士和刘师傅都看见了", "王先生、李女士和刘师傅都看见了"),
    ("张某某和王某打了人", "张某某和王某打了人"),
    ("老赵说没人管", "老赵说没人管"),
    # ordinary words that look like names to a tagger
    ("问题已于本周解决", "问题已于本周解决"),
    ("强烈要求尽快解决！", "强烈要求尽快解决！"),
    ("谢谢！", "谢谢！"),
    ("许可申请", "许可申请"),
    ("不予许可", "不予许可"),
    ("陈述了意见", "陈述了意见"),
    ("仲裁委的同志", "仲裁委的同志"),
    ("生产许可证号", "生产许可证号"),
    ("局长高度重视，执法人员严格执法、文明执法、全程录像", None),
    ("工作人员于本周上门，执法人员和城管一起到场", None),
    ("宾馆卫生不达标，毛巾都是黄的；收割机收完麦子以后", None),
    # counts and dates are no addresses or phone numbers
    ("一户人家", "一户人家"),
    ("3月15号上午", "3月15号上午"),
    ("安置小区共8栋房屋，两栋楼，三室一厅，30户居民", None),
    ("2019-04-25 09:32:09 罚款12000000元，依据CJJ 179-2012", None),
    # precise addresses and contact details still go, labels stay
    ("住在般阳路88号3号楼2单元501室", "住在般阳路＊＊"),
    # building, unit and room numbers go; the road and the compound stay (hot issues need them)
    ("家住松龄路88号华府小区3号楼", "家住松龄路＊＊华府小区＊＊"),
    ("华府小区三号楼501门口每晚烧烤", "华府小区＊＊门口每晚烧烤"),
    ("幸福里小区3栋楼下占道经营", "幸福里小区＊＊楼下占道经营"),
    ("翠园5幢和6幢之间违章搭建", "翠园＊＊之间违章搭建"),
    ("城南花园2座1单元", "城南花园＊＊"),
    ("第三号楼盘", "第三号楼盘"),
    ("加我微信号 zw_8888abc 或者QQ:12345678", "加我微信号 ＊＊ 或者QQ:＊＊"),
    ("车牌鲁C·12345被扣", "车牌＊＊被扣"),
]


@pytest.mark.parametrize(("text", "expected"), MEANING)
def test_masking_keeps_the_meaning(text: str, expected: str | None) -> None:
    assert anonymise(text) == (text if expected is None else expected)


def test_ordinary_complaints_stay_readable() -> None:
    text = "城管执法人员态度恶劣，罚款200元不开票据。区综合行政执法局长期不作为，工作人员推诿。"
    assert anonymise(text) == text


def test_nothing_in_nothing_out() -> None:
    assert anonymise(None) == "" and anonymise("") == ""
    assert find_personal_data(None) == []


def _masked_share(texts: list[str]) -> tuple[float, list[str]]:
    """Share of characters inside masked spans, and each masked span in its context."""
    total = masked = 0
    seen = []
    for text in texts:
        total += len(text)
        for span in find_personal_data(text):
            masked += span.end - span.start
            seen.append(f"{text[max(0, span.start - 6) : span.start]}[{span.original}]")
    return masked / max(total, 1), seen


def _looks_personal(original: str, kind: str) -> bool:
    """What a mask may cover: something with digits or letters, or a 2-4 character name."""
    if re.search(r"[0-9０-９A-Za-z@幺〇零一二三四五六七八九]", original):
        return True
    return kind in ("name", "tagged_name") and 2 <= len(original) <= 4


def demo_answers() -> list[str]:
    """Every demo answer as bureaus send it: each wording, each bureau's law, each clerk."""
    return [
        wording.format(
            matter="城管执法人员扣押三轮车不开清单",
            place=place,
            basis=basis,
            found="3月10日",
            done="3月20日",
            clerk=clerk,
        )  # fmt: skip
        for wording in WORDING.specific + WORDING.partial + WORDING.forwarding
        for basis in WORDING.basis.values()
        for place, clerk in zip(WORDING.places, WORDING.clerks, strict=False)
    ]


def test_the_projects_own_texts_barely_change() -> None:
    answers = demo_answers()
    rows = [{"title": str(r["title"]), "text": str(r["text"])} for r in read_corpus()]
    texts = [r["text"] for r in random.Random(7).sample(rows, 300)] + answers
    texts += [r["title"] for r in rows[:100] if r["title"]]
    share, seen = _masked_share(texts)
    print(f"corpus + demo answers: {share:.4%} of characters masked; sample: {seen[:30]}")
    assert share < 0.002, seen[:30]
    for text in texts:
        for span in find_personal_data(text):
            assert _looks_personal(span.original, span.kind), (text, span)
    for answer in answers:
        assert anonymise(answer) == answer


@pytest.mark.skipif(not REPLIES.exists(), reason="the real replies are not on this machine")
def test_real_government_replies() -> None:
    csv.field_size_limit(10**8)
    with open(REPLIES, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    sample = random.Random(2020).sample(rows, 80)
    texts = [r["reply"] for r in sample] + [r["text"] for r in sample]
    share, seen = _masked_share(texts)
    print(f"real replies: {share:.4%} of characters masked; sample: {seen[:40]}")
    for text in texts:
        out = anonymise(text)
        assert not MOBILE.search(out.replace(" ", "").replace("-", "")), out
        for span in find_personal_data(text):
            # a mask is ＊＊, or a name that keeps its surname and nothing else (张某, 欧阳某某)
            assert span.replacement == MASK or re.fullmatch(r"\w{1,2}某{1,2}", span.replacement)
            assert _looks_personal(span.original, span.kind), span
    assert share < 0.03
