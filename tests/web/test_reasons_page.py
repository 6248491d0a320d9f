"""Staff see, per label, the words of the report that made the classifier suggest it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import web

from feedback.model_provider import ModelProvider
from feedback.settings import Settings
from tests.conftest import Clock
from tests.web.conftest import MakeVisitor, submit
from web.app import create_app


@pytest.fixture
def app(settings: Settings, clock: Clock, tmp_path: Path) -> web.Application:
    provider = ModelProvider(tmp_path / "models", check_every=0)
    return create_app(settings, classify=provider.classify, clock=clock)


async def test_the_bureau_sees_the_reasons_for_the_bureau_and_for_each_issue_type(
    visitor: MakeVisitor,
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)  # 城管 fined a street seller without any receipt
    bureau = await visitor("zhzf1")
    status, html = await bureau.get(f"/staff/reports/{tn}")
    assert status == 200, html
    panel = html[html.index("智能分办建议") :]
    # One list per label, its words one under another.
    lines = {
        label: "、".join(re.findall(r"<li>([^<]+)</li>", words))
        for label, words in re.findall(
            r'<li>([^<]+)<ul class="reason-words">(.*?)</ul></li>', panel, re.S
        )
    }
    assert "区综合行政执法局" in lines, panel[:2000]
    assert "不透明/公示不到位" in lines, panel[:2000]
    for words in lines.values():
        for word in words.split("、"):
            assert len(word) >= 2, lines
    assert "票据" in lines["不透明/公示不到位"], lines
