"""The staff report page's forms when something was wrong (签收/退回/延期/答复, 分派, 延期审批,
督办): the error is tied to its field — the field is marked aria-invalid and described by the
error printed next to it, the page opens with the focus on it, and the summary at the top links
to it — and the page in that state passes axe-core at 1280 and 390 px (issue 20, part 2)."""

from __future__ import annotations

import contextlib
from typing import Any

from aiohttp.test_utils import TestServer

from feedback.service import FeedbackService
from tests.browser import MARKS, axe_page
from tests.conftest import SUPERVISOR
from tests.web.conftest import REPORT_FORM
from tests.web.test_accessibility import Audit, login

pytestmark = MARKS

DESKTOP = {"width": 1280, "height": 900}

# How the page ties its error to the field: what is invalid, what has the focus, what the
# invalid control (or its group of choices) is described by, where the summary's link goes.
TIED = """() => {
  const bad = [...document.querySelectorAll('[aria-invalid="true"]')];
  const first = bad[0];
  const holder = first && (first.getAttribute('aria-describedby') ? first
                                                                   : first.closest('fieldset'));
  const ids = holder ? (holder.getAttribute('aria-describedby') || '').split(' ') : [];
  const note = ids.map(id => document.getElementById(id)).find(e => e) || null;
  const link = document.querySelector('#error-summary a');
  const target = link && document.getElementById(link.getAttribute('href').slice(1));
  const a = document.activeElement;
  return {invalid: bad.map(e => e.id || e.name), focused: a.id || a.name,
          focused_invalid: a.getAttribute('aria-invalid') === 'true',
          error: note && note.textContent, error_role: note && note.getAttribute('role'),
          error_beside: !!(note && holder && (holder.closest('.field') || holder).contains(note)),
          summary: link && link.textContent,
          links_to_field: !!(target && first && (target === first || target.contains(first)))};
}"""


async def tied(page: Any, says: str) -> dict[str, Any]:
    """The page shows one error, saying ``says``, tied to its field as above."""
    # The browser applies autofocus at its next rendering update, after the page has loaded:
    # wait for the focus to land (or the 2 s to pass: then the checks below fail as before).
    with contextlib.suppress(Exception):  # playwright's TimeoutError: the checks below say why
        await page.wait_for_function(
            "() => document.activeElement && document.activeElement !== document.body",
            timeout=2000,
        )
    found: dict[str, Any] = await page.evaluate(TIED)
    assert found["invalid"], f"no field marked invalid on {page.url}: {found}"
    assert found["focused_invalid"] and found["focused"] in found["invalid"], found
    assert found["error"] and says in found["error"] and found["error_role"] == "alert", found
    assert found["error_beside"] and found["summary"] == found["error"], found
    assert found["links_to_field"], found
    return found


async def test_the_report_page_ties_each_error_to_its_field_and_passes_axe(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    base = str(server.make_url("")).rstrip("/")
    audit = Audit()
    first = (await service.submit(dict(REPORT_FORM, anonymous=True))).tracking_number
    second = (await service.submit(dict(REPORT_FORM, anonymous=True))).tracking_number
    await service.assign(SUPERVISOR, first, "zhzf")

    # The triage desk sends 分派 without choosing a bureau.
    desk = await axe_page(browser, DESKTOP)
    await login(desk, base, "sfj1")
    await desk.goto(base + f"/staff/reports/{second}")
    await desk.select_option("#f-as-dept", "")
    await desk.click("#do-assign")
    assert (await tied(desk, "请选择承办单位"))["invalid"] == ["f-as-dept"]
    await audit.check(desk, "staff-assign-error")

    # The bureau's clerk: 退回 without a reason, then signs for it.
    clerk = await axe_page(browser, DESKTOP)
    await login(clerk, base, "zhzf1")
    await clerk.goto(base + f"/staff/reports/{first}")
    await clerk.select_option("#f-sb-dept", "gaj")
    await clerk.click("#do-send-back")
    found = await tied(clerk, "退回理由")
    assert found["invalid"] == ["f-sb-reason"]
    assert await clerk.input_value("#f-sb-dept") == "gaj"  # what was chosen is kept
    await audit.check(clerk, "staff-send-back-error")
    await clerk.click("#do-accept")
    assert "已签收" in await clerk.inner_text(".notice.ok")

    # 延期 with days that are no number, then an answer too short.
    why = "需向市局调取执法记录仪视频，调取流程需要时间。"
    await clerk.fill("#f-days", "")
    await clerk.fill("#f-ext-reason", why)
    await clerk.click("#do-extension")
    assert (await tied(clerk, "延期的工作日数"))["invalid"] == ["f-days"]
    assert "调取执法记录仪" in await clerk.input_value("#f-ext-reason")
    await audit.check(clerk, "staff-extension-error")
    await clerk.fill("#f-answer", "已处理")
    await clerk.click("#do-answer")
    assert (await tied(clerk, "至少"))["invalid"] == ["f-answer"]
    assert await clerk.input_value("#f-answer") == "已处理"
    await audit.check(clerk, "staff-answer-error")
    await clerk.fill("#f-days", "5")
    await clerk.fill("#f-ext-reason", why)
    await clerk.click("#do-extension")
    assert "延期申请已提交" in await clerk.inner_text(".notice.ok")

    # The supervisor: 提交审批 without a choice (a group of radios), 督办 without a reason.
    sup = await axe_page(browser, DESKTOP)
    await login(sup, base, "sup1")
    await sup.goto(base + f"/staff/reports/{first}")
    await sup.click("#do-decide-extension")
    found = await tied(sup, "请选择批准或不批准")
    assert found["invalid"] == ["approve", "approve"] and found["focused"] == "approve"
    await audit.check(sup, "staff-decide-extension-error")
    await sup.click("#do-escalate")
    assert (await tied(sup, "督办理由"))["invalid"] == ["f-es-note"]
    await audit.check(sup, "staff-escalate-error")

    assert not audit.failures, "\n" + "\n".join(audit.failures)
    assert len(audit.pages) == 6
