"""The stories of issue 12, against the shipped model and the real service: ordinary problems get
no issue type, misconduct by an officer does, text the classifier cannot read never goes out
automatically, the citizen's 涉及单位 counts, and the reasons are words a clerk accepts."""

from __future__ import annotations

import csv
import random

import jieba.posseg
import pytest

from classifiers.bundle import load_shipped
from classifiers.model import ReportClassifier
from classifiers.ood import REFUSE_MESSAGE, UNRECOGNISED
from classifiers.reasons import CONTENT_TAGS, reason_stopwords
from feedback.config import Config
from feedback.errors import ValidationError
from feedback.model_provider import ModelProvider
from feedback.models import Status
from feedback.service import FeedbackService
from feedback.store.sqlite import SQLiteStore
from tests.conftest import Clock, staff
from tests.shared_data import TEDDY


@pytest.fixture(scope="module")
def shipped() -> ReportClassifier:
    return load_shipped()


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> ModelProvider:
    p = ModelProvider(tmp_path_factory.mktemp("models"), check_every=0)
    p.current()
    return p


@pytest.fixture
async def service(
    store: SQLiteStore, config: Config, clock: Clock, provider: ModelProvider
) -> FeedbackService:
    return FeedbackService(store, config, clock=clock, classify=provider.classify)


def test_noise_complaint_mentioning_repeated_complaints_to_a_company_has_no_issue_type(
    shipped: ReportClassifier,
) -> None:
    p = shipped.predict(
        "楼下饭店噪音扰民",
        "我家楼下新开了一家烧烤店，每天晚上营业到凌晨两点，排风机和喝酒划拳的声音特别大，"
        "孩子没法睡觉。我们多次投诉到他们公司和物业，老板嘴上答应，可一点没改。"
        "希望有关部门管一管，谢谢。",
    )
    assert p.issue_types == [], p.issue_type_probabilities


def test_officer_who_fined_without_a_receipt_is_opacity(shipped: ReportClassifier) -> None:
    p = shipped.predict(
        "罚款不给收据",
        "今天上午我在菜市场门口卖自家种的菜，两个执法人员过来说我占道，当场罚了我两百块钱，"
        "我要收据，他们说没有收据，也没告诉我按什么规定罚的。",
    )
    assert "opacity" in p.issue_types, p.issue_type_probabilities


def test_an_arbitrary_fine_without_a_receipt_is_also_abuse_of_power(
    shipped: ReportClassifier,
) -> None:
    p = shipped.predict(
        "城管乱罚款",
        "城管队员到我店门口，说门口放了一个招牌就要罚款，张口就要两千，我问依据是什么，"
        "他说想罚多少就罚多少，交了钱也不给票据。旁边几家店摆得比我还多，一家也没罚。",
    )
    assert {"opacity", "abuse_of_power"} <= set(p.issue_types), p.issue_type_probabilities


async def test_an_english_message_is_not_auto_routed(service: FeedbackService) -> None:
    result = await service.submit(
        {
            "title": "Noise",
            "text": "The restaurant downstairs plays loud music until 2 am every night. "
            "Please ask the city management to stop it.",
        }
    )
    assert result.status is Status.TRIAGE and result.department is None
    assert result.report.issue_types == []
    view = await service.staff_view(staff("sfj"), result.tracking_number)
    assert UNRECOGNISED in view.report.routing["why"]


async def test_digits_and_a_link_alone_are_refused_with_a_chinese_message(
    service: FeedbackService,
) -> None:
    with pytest.raises(ValidationError) as err:
        await service.submit({"title": "", "text": "13800000000 https://t.cn/abc ？？？"})
    assert str(err.value) == REFUSE_MESSAGE or REFUSE_MESSAGE in str(err.value)


async def test_the_bureau_named_in_the_authority_field_is_respected(
    service: FeedbackService,
) -> None:
    text = "我想咨询一下，今年的补贴申请是在哪里办理，需要带什么材料，什么时候截止？"
    without = await service.submit({"title": "咨询", "text": text})
    named = await service.submit({"title": "咨询", "text": text, "authority": "区人社局"})
    assert named.report.routing["top"][0][0] == "rsj", without.report.routing["top"]


async def test_the_authority_field_gives_way_when_the_text_clearly_says_otherwise(
    service: FeedbackService,
) -> None:
    result = await service.submit(
        {
            "title": "饭店油烟",
            "text": "小区门口的烧烤摊每天晚上把桌子摆到人行道上，油烟呛得楼上没法开窗，"
            "流动摊贩越来越多，请城管来管一管占道经营。",
            "authority": "区人社局",
        }
    )
    assert result.report.routing["top"][0][0] == "zhzf", result.report.routing["top"]


def _clerk_accepts(reason: str) -> bool:
    """A content word by jieba's part-of-speech tags: the head (last) word is a noun, verb,
    place, body, abbreviation or set phrase."""
    tags = [t.flag for t in jieba.posseg.lcut(reason)]
    return bool(tags) and tags[-1].startswith(CONTENT_TAGS)


async def test_the_reasons_of_a_routed_report_are_words_a_clerk_accepts(
    service: FeedbackService,
) -> None:
    result = await service.submit(
        {
            "title": "讨薪",
            "text": "我在一家装修公司干了大半年，老板拖欠我们农民工工资三个月了，"
            "一直推说没钱，请劳动监察部门帮我们讨回血汗钱。",
        }
    )
    assert result.status is Status.ROUTED and result.department == "rsj"
    by_label = result.report.routing["reasons_by_label"]
    reasons = by_label["rsj"]
    assert 3 <= len(reasons) <= 6, reasons
    stop = reason_stopwords()
    assert all(len(r) >= 2 and r not in stop for r in reasons), reasons
    whole = result.report.title + result.report.text
    assert all(r in whole for r in reasons), reasons  # words of the report itself
    assert sum(map(_clerk_accepts, reasons)) >= len(reasons) - 1, reasons


@pytest.mark.skipif(not TEDDY.is_dir(), reason="the shared real data (../shared/data) is absent")
def test_reasons_on_real_messages_are_content_words(shipped: ReportClassifier) -> None:
    with (TEDDY / "attachment2_raw_subset.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["id"]]
    sample = random.Random(12).sample(rows, 20)
    top3: list[str] = []
    for r in sample:
        p = shipped.predict(r["title"], r["text"])
        for label, reasons in p.reasons_by_label.items():
            assert len(reasons) <= 6, (label, reasons)
            assert all(len(w) >= 2 for w in reasons), reasons
            assert all(w in r["title"] + r["text"] for w in reasons), reasons
            top3 += reasons[:3]
    share = sum(map(_clerk_accepts, top3)) / len(top3)
    print(f"{len(top3)} top-3 reasons on 20 real messages, {share:.0%} content words")
    assert share >= 0.8, [w for w in top3 if not _clerk_accepts(w)]
