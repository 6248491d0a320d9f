"""The answer form shows the issue types preselected; what the clerk ticks is confirmed and
kept as a label for the model."""

from __future__ import annotations

from feedback import labels
from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR
from tests.web.conftest import MakeVisitor, submit

ANSWER = "经核查，执法队员确未开具票据，已责令补开并退还多收的款项，对相关人员批评教育。"


async def test_clerk_changes_the_preselected_types_when_answering(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zhzf", issue_types=["opacity"])
    bureau = await visitor("zhzf1")
    status, html = await bureau.post(f"/staff/reports/{tn}/accept", {})
    assert status == 200
    status, html = await bureau.get(f"/staff/reports/{tn}")
    form = html[html.index('id="answer-issue-types"') :]
    form = form[: form.index("</fieldset>")]
    assert 'value="opacity" checked' in form and 'value="inaction" checked' not in form
    status, html = await bureau.post(
        f"/staff/reports/{tn}/answer",
        {"answer": ANSWER, "confirm_types": "1", "issue_types": ["inaction"]},
    )
    assert status == 200 and "答复已发送" in html
    report = await service.store.get_report(tn)
    assert report is not None and report.id is not None and report.issue_types == ["inaction"]
    confirmed = [x for x in await labels.of_report(service.store, report.id)
                 if x.source == "answer"]  # fmt: skip
    assert [(x.labels, x.actor_id) for x in confirmed] == [(["inaction"], "zhzf1")]
