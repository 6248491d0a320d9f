"""Routing with the shipped model: confident reports go to their bureau, unsure ones to triage,
(learning from staff: tests/learning)."""

from __future__ import annotations

import pytest

from feedback.config import Config
from feedback.model_provider import ModelProvider
from feedback.models import Status
from feedback.service import FeedbackService
from feedback.store.sqlite import SQLiteStore
from tests.conftest import Clock, staff


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
