"""Routing with the shipped model: confident reports go to their bureau, unsure ones to triage,
and staff corrections teach the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback.config import Config
from feedback.model_provider import ModelProvider, retrain_from_corrections
from feedback.models import Status
from feedback.service import FeedbackService
from feedback.store.sqlite import SQLiteStore
from tests.conftest import SUPERVISOR, Clock, staff


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> ModelProvider:
    p = ModelProvider(tmp_path_factory.mktemp("models"), check_every=0)
    p.current()  # load once for the module: jieba and the weights take a second
    return p


@pytest.fixture
async def routed(
    store: SQLiteStore, config: Config, clock: Clock, provider: ModelProvider
) -> FeedbackService:
    return FeedbackService(store, config, clock=clock, classify=provider.classify)


async def test_confident_report_is_routed_with_its_reasons(routed: FeedbackService) -> None:
    result = await routed.submit(
        {
            "title": "讨薪",
            "text": "公司拖欠我们农民工工资三个月了，老板一直不给，请劳动监察帮忙讨薪。",
        }
    )
    assert result.status is Status.ROUTED and result.department == "rsj"
    view = await routed.staff_view(staff("rsj"), result.tracking_number)
    route = [e for e in view.events if e.action == "route"][0]
    assert route.details["top"][0][0] == "rsj" and route.details["top"][0][1] > 0.5
    assert route.details["reasons"]  # the words that weighed most, shown to staff
    assert view.report.deadlines.sign_by is not None


async def test_unsure_report_lands_in_triage_with_suggestions(routed: FeedbackService) -> None:
    result = await routed.submit(
        {"title": "反映问题", "text": "我有个问题想反映一下，情况比较复杂，希望有关部门重视。"}
    )
    assert result.status is Status.TRIAGE and result.department is None
    queue = await routed.queue(staff("sfj"), "triage")
    assert [r.tracking_number for r in queue] == [result.tracking_number]
    assert len(queue[0].routing["top"]) == 3


async def test_issue_types_come_from_the_text(routed: FeedbackService) -> None:
    result = await routed.submit(
        {
            "title": "罚款没有决定书",
            "text": "城管执法人员在般阳路没收了我的三轮车，还罚款三百元，"
            "没有出具处罚决定书，也没让我陈述申辩。",
        }
    )
    assert "improper_procedure" in result.report.issue_types


@pytest.mark.slow
async def test_corrections_retrain_and_the_service_picks_up_the_new_model(
    config: Config, clock: Clock, tmp_path: Path
) -> None:
    # Retraining is the same on every store: one SQLite file is enough here.
    provider = ModelProvider(tmp_path / "models", check_every=0)
    async with SQLiteStore(tmp_path / "retrain.db") as store:
        await _teach_and_retrain(
            FeedbackService(store, config, clock=clock, classify=provider.classify), provider
        )


async def _teach_and_retrain(routed: FeedbackService, provider: ModelProvider) -> None:
    # A district's own decision the bootstrap corpus does not share: here, what residential
    # EV chargers charge is a price matter for 市场监管 (scjg), not for 住建 (zjj).
    texts = [
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
    ]
    probe = "电动车充电桩收费太贵了"
    before = provider.classify("", probe)
    # The premise of the story: the shipped model sends this elsewhere. If a rebuilt model
    # learns it, pick another district-specific matter for this test.
    assert before.department != "scjg", before.top
    source_before = provider.source
    for i, text in enumerate(texts):
        result = await routed.submit({"title": f"充电桩收费{i}", "text": text})
        tn = result.tracking_number
        if result.status is Status.TRIAGE:
            await routed.assign(SUPERVISOR, tn, "scjg")
        elif result.department != "scjg":
            await routed.send_back(staff(result.department or ""), tn, "不属于本单位职责", "scjg")
        await routed.accept(staff("scjg"), tn)
    corrections = await routed.store.list_corrections("department")
    data = {
        "department": [(c.title, c.text, c.labels) for c in corrections],
        "issue_type": [],
    }
    outcomes = retrain_from_corrections(provider.models_root, data)
    assert outcomes and outcomes[0].promoted
    assert len(corrections) >= 2
    after = provider.classify("", probe)
    assert after.department == "scjg"
    assert provider.source != source_before
