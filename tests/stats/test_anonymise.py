"""Personal data is masked before anything reaches the public page."""

from __future__ import annotations

import re

import pytest

from feedback.anonymise import MASK, anonymise

# (text, the personal data in it that must not survive)
CASES = [
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
    ("张某某和王某打了人", ["张某某", "王某"]),
    ("王先生、李女士和刘师傅都看见了", ["王先生", "李女士", "刘师傅"]),
    ("执法队员李建国和局长孙立新", ["李建国", "孙立新"]),
    ("姓名：王小明", ["王小明"]),
    ("联系人：欧阳娜娜", ["欧阳娜娜", "娜娜"]),
    ("老赵说没人管", ["老赵"]),
]


@pytest.mark.parametrize(("text", "secrets"), CASES)
def test_personal_data_is_masked(text: str, secrets: list[str]) -> None:
    masked = anonymise(text)
    for secret in secrets:
        assert secret not in masked, (text, masked)
    assert MASK in masked
    assert not re.search(r"\d{7}", masked.replace(" ", "").replace("-", ""))


def test_ordinary_complaints_stay_readable() -> None:
    text = "城管执法人员态度恶劣，罚款200元不开票据。区综合行政执法局长期不作为，工作人员推诿。"
    assert anonymise(text) == text


def test_nothing_in_nothing_out() -> None:
    assert anonymise(None) == "" and anonymise("") == ""
