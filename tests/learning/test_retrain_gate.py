"""The district teaches the model: a retrain on new labels is judged against the model in use on
the newest labels neither learned from; better is promoted and used at once, worse is refused
with the reason and kept; rollback brings the previous model back.

Training here uses every sixth corpus message (fast); the shipped model is the one in use at
first, as in a new district."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.corpus import corpus_examples
from classifiers.training import Example
from feedback import learning, model_versions
from feedback.config import Config
from feedback.model_gate import GateSettings
from feedback.model_provider import ModelProvider
from feedback.models import Status
from feedback.service import FeedbackService
from feedback.store import Store
from tests.conftest import Clock, staff

GATE = GateSettings(min_holdout=4, resamples=500)

# A district's own decision the corpus does not share: what residential EV chargers charge is
# a price matter for 市场监管 (scjg), not for 住建 (zjj) or 城管 (zhzf).
CHARGERS = [
    "小区充电桩收费太贵，一度电要两块钱，物业说是充电公司定的价。",
    "电动车充电桩乱收费，充一次电比外面贵一倍。",
    "小区里的充电桩收服务费没有任何标准，也不公示价格。",
    "充电桩运营商私自涨价，电费加服务费每度快两块了。",
    "新装的充电桩按小时收费，充不满也收全款，属于价格欺诈吧。",
    "小区充电桩扫码付费价格不明示，要求查处。",
    "电瓶车充电桩收费不透明，一块钱只给充一小时。",
    "充电桩价格比国家规定高出很多，谁来管管。",
    "小区地下车库充电桩收取高额服务费，业主意见很大。",
    "充电桩公司乱收停车占位费，没有任何公示。",
    "投诉小区充电桩收费标准过高，和宣传的不一样。",
    "汽车充电桩电价加价太离谱，请价格监管部门处理。",
    "楼下的充电桩每度电收一块八，远高于居民电价。",
    "充电桩扣费和显示的电量对不上，多扣了钱。",
    "充电桩运营公司收取的服务费没有明码标价。",
    "小区充电桩收费涨了一倍也没有通知业主。",
]
PROBE = "电动车充电桩收费太贵了"

WAGES = [
    "公司拖欠我们农民工工资三个月了，老板一直不给，请劳动监察帮忙讨薪。",
    "工地包工头拖欠工资半年，几十个工人讨薪无门。",
    "单位不给缴社保，也不签劳动合同，辞职后工资也不结。",
    "饭店老板拖欠服务员两个月工资，找他就说没钱。",
    "厂里无故辞退我，不给经济补偿，还扣了上个月工资。",
    "装修公司拖欠工人工资，老板电话打不通。",
    "物流公司克扣工资，加班费一分不给。",
    "在超市上班三个月，离职时老板拒发最后一个月工资。",
    "建筑公司欠薪一年多，工人多次讨要没有结果。",
    "培训机构倒闭了，拖欠老师们两个月的工资。",
    "保安公司不按时发工资，每个月都拖二十多天。",
    "工厂拖欠农民工工资，春节前还没发，请劳动部门处理。",
    "家政公司拖欠阿姨工资，还扣押身份证。",
    "物业公司拖欠保洁员工资三个月。",
    "快递站点拖欠快递员工资，站长跑了。",
    "汽修厂老板拖欠学徒工资，说学徒没有工资。",
]


def small_base(target: str) -> list[Example]:
    return corpus_examples(target)[::6]


@pytest.fixture
def provider(tmp_path: Path) -> ModelProvider:
    p = ModelProvider(tmp_path / "models", check_every=0)
    p.current()
    return p


@pytest.fixture
async def district(
    store: Store, config: Config, clock: Clock, provider: ModelProvider
) -> FeedbackService:
    return FeedbackService(store, config, clock=clock, classify=provider.classify)


async def handled_by(service: FeedbackService, clock: Clock, text: str, bureau: str) -> None:
    """The report comes in; whoever the model chose, ``bureau`` ends up signing for it."""
    clock.advance(hours=1)
    result = await service.submit({"title": "", "text": text})
    tn = result.tracking_number
    if result.status is Status.TRIAGE:
        await service.assign(staff("sfj"), tn, bureau)
    elif result.department != bureau:
        await service.send_back(staff(result.department or ""), tn, "不属于本单位职责", bureau)
    await service.accept(staff(bureau), tn)


async def retrain(service: FeedbackService, provider: ModelProvider) -> learning.RetrainReport:
    return await learning.retrain_labels(
        service, provider.models_root, settings=GATE, base=small_base
    )


@pytest.mark.slow
async def test_new_labels_fix_a_systematic_mistake_and_the_next_report_goes_right(
    district: FeedbackService, provider: ModelProvider, clock: Clock
) -> None:
    before = provider.classify("", PROBE)
    assert before.department != "scjg", before.top  # the premise: shipped sends it elsewhere
    for text in CHARGERS:
        await handled_by(district, clock, text, "scjg")
    report = await retrain(district, provider)
    [dept, types] = report.verdicts
    assert dept.promoted and report.promoted, dept.reason
    assert "已启用新模型" in dept.reason and f"最新的 {dept.holdout} 条" in dept.reason
    assert dept.holdout == 4 and dept.trained_labels == 12
    assert dept.old_score is not None and dept.new_score is not None
    assert dept.new_score > dept.old_score
    assert types.skipped and not types.promoted  # no issue-type labels: nothing to learn
    # The model's manifest says what it learned from; the holdout was not among it.
    in_use = model_versions.version_dir(provider.models_root, report.in_use)
    trained = model_versions.trained_label_ids(in_use, "department")
    assert len(trained) == 12
    clock.advance(hours=1)
    result = await district.submit({"title": "充电桩收费", "text": PROBE})
    assert result.department == "scjg" and result.status is Status.ROUTED, result.report.routing

    # Rollback: the previous model (here the shipped one) is used again at once.
    assert model_versions.rollback(provider.models_root, "test") == model_versions.SHIPPED
    assert provider.classify("", PROBE).department == before.department
    entries = [e["event"] for e in model_versions.history(provider.models_root)]
    assert entries == ["retrain", "rollback"]


@pytest.mark.slow
async def test_a_candidate_trained_on_wrong_labels_is_refused_with_the_reason(
    district: FeedbackService, provider: ModelProvider, clock: Clock
) -> None:
    # For a while a clerk sent wage claims to 城管 (and 城管 signed for them); then the
    # district got it right again. The newest labels are the right ones.
    for text in WAGES[:12]:
        await handled_by(district, clock, text, "zhzf")
    for text in WAGES[12:]:
        await handled_by(district, clock, text, "rsj")
    report = await retrain(district, provider)
    dept = report.verdicts[0]
    assert not dept.promoted and not report.promoted
    assert dept.reason.startswith("未启用：新模型更差"), dept.reason
    assert dept.old_score is not None and dept.new_score is not None
    assert dept.new_score < dept.old_score
    assert model_versions.current_name(provider.models_root) == model_versions.SHIPPED
    # The refused candidate is kept with its scores, and can still be looked at.
    listed = {v.name: v for v in model_versions.list_versions(provider.models_root)}
    assert report.candidate in listed and listed[report.candidate].state == "refused"
    assert listed[report.candidate].scores["department"]["new_score"] == dept.new_score
    assert "新模型更差" in listed[report.candidate].reason
    assert provider.classify("", WAGES[0]).department == "rsj"
