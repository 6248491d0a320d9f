"""The triage desk can take first what the model is least sure of: those teach it most."""

from __future__ import annotations

import re

import pytest
from aiohttp import web

from feedback.model_provider import ModelProvider
from feedback.service import FeedbackService
from feedback.settings import Settings
from tests.conftest import Clock
from tests.web.conftest import MakeVisitor
from web.app import create_app

UNSURE = [
    {"title": "反映问题", "text": "我有个问题想反映一下，情况比较复杂，希望有关部门重视。"},
    {"title": "咨询", "text": "请问这个事情应该找哪个部门，我也不知道该怎么说。"},
    {"title": "求助", "text": "家门口的事情一直没人管，拜托领导看看，谢谢。"},
]


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> ModelProvider:
    p = ModelProvider(tmp_path_factory.mktemp("models"), check_every=0)
    p.current()
    return p


@pytest.fixture
def app(settings: Settings, clock: Clock, provider: ModelProvider) -> web.Application:
    return create_app(settings, clock=clock, classify=provider.classify)


async def test_triage_queue_least_sure_first(
    visitor: MakeVisitor, service: FeedbackService, clock: Clock
) -> None:
    sureness = {}
    for report in UNSURE:
        clock.advance(minutes=5)
        result = await service.submit(dict(report))
        top = result.report.routing.get("top") or [["", 0.0]]
        sureness[result.tracking_number] = top[0][1]
    in_triage = [tn for tn in sureness if (await service.report(tn)).status.value == "triage"]  # type: ignore[union-attr]
    assert len(in_triage) >= 2, sureness
    desk = await visitor("sfj1")
    status, html = await desk.get("/staff/triage")
    assert status == 200 and "智能分派最没把握的在前" in html
    newest = [tn for tn in re.findall(r"ZC-\d{4}-\d{6}", html) if tn in in_triage]
    assert list(dict.fromkeys(newest)) == sorted(in_triage, reverse=True)
    status, html = await desk.get("/staff/triage?queue=triage&order=unsure")
    shown = list(dict.fromkeys(tn for tn in re.findall(r"ZC-\d{4}-\d{6}", html) if tn in in_triage))
    assert shown == sorted(in_triage, key=lambda tn: sureness[tn])
    assert shown != list(dict.fromkeys(newest))  # a different order from newest first
    assert 'value="unsure" selected' in html
