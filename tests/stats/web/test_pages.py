"""The supervisor's dashboard, its exports, and the public disclosure page, over HTTP."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import openpyxl
import pytest

from feedback.service import FeedbackService
from feedback.store import ReportFilter
from tests.conftest import SUPERVISOR, Clock, staff
from tests.stats.scenario import PII_TEXT, build, local
from tests.web.conftest import MakeVisitor

MARCH = "from=2026-03-01&to=2026-03-31"


def kpi(html: str, key: str) -> str:
    found = re.search(rf'id="kpi-{key}">([^<]*)<', html)
    assert found, f"no figure {key}"
    return found.group(1)


async def test_supervisor_sees_figures_and_escalates_from_the_overdue_list(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor
) -> None:
    s = await build(service, clock)
    sup = await visitor("sup1")
    status, html = await sup.get(f"/staff/dashboard?{MARCH}")
    assert status == 200
    assert kpi(html, "received") == "5"
    assert kpi(html, "answer_on_time_rate") == "66.7%"
    assert kpi(html, "overdue_now") == "1"
    assert "<svg" in html and "各承办单位考核得分" in html and "受理量趋势" in html
    ranking = html[html.index('id="ranking"') :]
    # zjj 80.0 before zhzf 55.0 (see test_figures): zhzf's send-back of C counts against it.
    assert ranking.index("区住房和城乡建设局") < ranking.index("区综合行政执法局")
    # Right after the scenario's 督办 of D: no button, but when it may be taken again.
    overdue_row = html[html.index(s.d, html.index('id="overdue"')) :].split("</tr>")[0]
    assert "后可再次督办" in overdue_row and "/staff/dashboard/escalate" not in overdue_row
    # A tab left open from before still gets a clear refusal.
    status, html = await sup.post(
        "/staff/dashboard/escalate",
        {"tracking_number": s.d, "back": "from=2026-03-01&to=2026-03-31"},
    )
    assert status == 200 and "督办未成功" in html and "不重复督办" in html
    # Said as a warning read out at once, not in the green of a success.
    assert re.search(r'<p class="notice warn" role="alert" id="flash">督办未成功', html)
    clock.advance(hours=10)  # the next morning
    _, html = await sup.get(f"/staff/dashboard?{MARCH}")
    overdue_row = html[html.index(s.d, html.index('id="overdue"')) :].split("</tr>")[0]
    assert 'action="/staff/dashboard/escalate"' in overdue_row
    status, html = await sup.post(
        "/staff/dashboard/escalate",
        {"tracking_number": s.d, "back": "from=2026-03-01&to=2026-03-31"},
    )
    assert status == 200 and f"已督办 {s.d}" in html
    assert f'<p class="notice ok" role="status" id="flash">已督办 {s.d}' in html
    assert "已督办 2 次" in html  # once in the scenario, once now
    assert (await service.store.get_report(s.d)).escalation_level == 2  # type: ignore[union-attr]


async def test_bureau_staff_see_only_their_own_bureau(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor
) -> None:
    await build(service, clock)
    bureau = await visitor("zhzf1")
    status, html = await bureau.get(f"/staff/dashboard?{MARCH}&department=zjj")
    assert status == 200
    assert kpi(html, "received") == "2"  # zhzf's A and B, whatever the URL asks
    assert "区住房和城乡建设局" not in html.split('id="ranking"')[1].split("</table>")[0]
    assert 'action="/staff/dashboard/escalate"' not in html
    status, html = await bureau.post("/staff/dashboard/escalate", {"tracking_number": "x"})
    assert "督办未成功" in html


async def test_bad_filters_and_strangers(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor
) -> None:
    sup = await visitor("sup1")
    status, html = await sup.get("/staff/dashboard?from=2026-13-01")
    assert status == 200
    assert '<p class="notice warn" role="alert" id="flash">日期格式应为 YYYY-MM-DD' in html
    status, html = await sup.get("/staff/dashboard?period=year")
    assert "统计周期" in html
    stranger = await visitor()
    resp = await stranger.client.get("/staff/dashboard", allow_redirects=False)
    assert resp.status == 303 and "/staff/login" in resp.headers["Location"]
    resp = await stranger.client.get("/staff/dashboard/export.xlsx", allow_redirects=False)
    assert resp.status == 303


async def test_a_date_range_typed_to_the_ends_of_the_calendar_is_refused_not_a_500(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor
) -> None:
    """A supervisor who types 0001-01-01 to 9999-12-31 to mean 'everything' gets the page back
    with a Chinese message, and the exports refuse it the same way, not an error page."""
    sup = await visitor("sup1")
    status, html = await sup.get("/staff/dashboard?from=0001-01-01&to=9999-12-31")
    assert status == 200 and "日期应在 2000-01-01 至 2099-12-31 之间" in html
    resp = await sup.client.get("/staff/dashboard/export.csv?from=0001-01-01&to=9999-12-31")
    assert resp.status == 400 and "日期应在 2000-01-01 至 2099-12-31 之间" in await resp.text()


async def test_excel_export_matches_the_dashboard(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor
) -> None:
    s = await build(service, clock)
    sup = await visitor("sup1")
    _, html = await sup.get(f"/staff/dashboard?{MARCH}")
    resp = await sup.client.get(f"/staff/dashboard/export.xlsx?{MARCH}")
    assert resp.status == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(await resp.read()))
    assert wb.sheetnames == ["汇总", "承办单位", "问题类型", "受理渠道", "趋势", "诉求清单"]
    summary = wb["汇总"]
    headers = [c.value for c in summary[3]]
    overall = dict(zip(headers, [c.value for c in summary[4]], strict=True))
    assert overall["受理量"] == int(kpi(html, "received")) == 5
    assert f"{overall['按时答复率'] * 100:.1f}%" == kpi(html, "answer_on_time_rate")
    assert summary.cell(row=4, column=headers.index("按时答复率") + 1).number_format == "0.0%"
    assert overall["签收用时中位数（工作日）"] == pytest.approx(1.5)
    bureaus = wb["承办单位"]
    assert [r[0] for r in bureaus.iter_rows(min_row=2, values_only=True)] == [
        "区住房和城乡建设局", "区综合行政执法局", "区市场监督管理局",
    ]  # fmt: skip
    reports = wb["诉求清单"]
    header = [c.value for c in reports[1]]
    assert header[:3] == ["受理编号", "提交时间", "渠道"] and "联系电话（内部）" in header
    rows = list(reports.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 5 and {r[0] for r in rows} == {s.a, s.b, s.c, s.d, s.e}
    assert all(isinstance(r[1], datetime) for r in rows)
    first = {r[0]: r for r in rows}[s.a]
    assert first[1] == datetime(2026, 3, 10, 9, 30)  # local wall-clock time
    assert first[header.index("按时答复")] == "是" and first[header.index("评价")] == "满意"


async def test_staff_exports_carry_no_contact_data(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor
) -> None:
    await build(service, clock)
    named = await service.submit(
        {"title": "城管罚款不开票据", "text": "城管执法人员罚款不开票据，请核实处理。",
         "anonymous": "0", "contact": {"name": "赵大明", "phone": "13900001111"}}
    )  # fmt: skip
    await service.assign(SUPERVISOR, named.tracking_number, "zhzf")
    bureau = await visitor("zhzf1")
    resp = await bureau.client.get(f"/staff/dashboard/export.csv?what=reports&{MARCH}")
    raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, so Excel reads the Chinese
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0][0] == "受理编号" and not [h for h in table[0] if "联系" in h]
    assert "13900001111" not in raw.decode("utf-8-sig") and "赵大明" not in raw.decode("utf-8-sig")
    assert {row[table[0].index("承办单位")] for row in table[1:]} == {"区综合行政执法局"}
    wb = openpyxl.load_workbook(io.BytesIO(await (await bureau.client.get(
        f"/staff/dashboard/export.xlsx?{MARCH}")).read()))  # fmt: skip
    assert not [c.value for c in wb["诉求清单"][1] if "联系" in str(c.value)]
    sup = await visitor("sup1")
    raw = await (await sup.client.get(f"/staff/dashboard/export.csv?what=reports&{MARCH}")).read()
    assert "13900001111" in raw.decode("utf-8-sig")  # supervisors may see contact data
    figures = await (await sup.client.get(f"/staff/dashboard/export.csv?{MARCH}")).read()
    rows = list(csv.reader(io.StringIO(figures.decode("utf-8-sig"))))
    assert rows[1][:2] == ["全部", "6"]


PERSONAL = [
    "张伟", "13812345678", "370303198001011234", "3号楼", "501室", "鲁C·12345", "鲁C",
    "zhangwei@example.com", "zw_8888abc", "李建国", "赵大明", "13900001111", "般阳路88号",
]  # fmt: skip


async def _public_set(service: FeedbackService, clock: Clock) -> None:
    """Six answered zhzf reports full of personal data, two at zjj (too few to publish)."""
    clock.now = local(10, 9, 30)
    texts = [
        PII_TEXT,
        "执法队员李建国在般阳路88号强行扣押我的三轮车，联系人：赵大明，手机13900001111。",
    ]
    numbers = []
    for i in range(6):
        r = await service.submit(
            {"title": f"占道经营执法问题{i}", "text": texts[i % 2], "anonymous": "0",
             "contact": {"name": "赵大明", "phone": "13900001111"}}
        )  # fmt: skip
        await service.assign(SUPERVISOR, r.tracking_number, "zhzf", ["abuse_of_power"])
        numbers.append(r.tracking_number)
    for _ in range(2):
        r = await service.submit({"title": "物业收费不公示", "text": "物业收费不公示。" * 3})
        await service.assign(SUPERVISOR, r.tracking_number, "zjj")
        await service.accept(staff("zjj"), r.tracking_number)
        await service.answer(staff("zjj"), r.tracking_number, "已责令物业公司公示收费标准。")
    clock.now = local(11)
    for tn in numbers:
        await service.accept(staff("zhzf"), tn)
        await service.answer(
            staff("zhzf"),
            tn,
            "经核查，张伟反映的情况属实，已联系13812345678说明，车辆鲁C·12345已退还。",
        )


async def test_public_page_publishes_figures_and_masks_personal_data(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor
) -> None:
    await _public_set(service, clock)
    clock.now = local(20)
    citizen = await visitor()
    status, html = await citizen.get("/public")
    assert status == 200
    assert re.search(r'id="public-total">8<', html)
    assert "区综合行政执法局</th><td>6</td><td>100.0%</td>" in html
    assert "区住房和城乡建设局</th><td>少于5件</td>" in html
    assert html.count('class="public-report"') == 6  # zjj's two are not listed
    assert "占道经营执法问题" in html and "＊＊" in html
    for secret in PERSONAL:
        assert secret not in html, secret
    for tn_like in re.findall(r"ZC-\d{4}-\d+", html):
        raise AssertionError(f"tracking number {tn_like} on the public page")


async def test_public_search_cannot_probe_personal_data(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor
) -> None:
    await _public_set(service, clock)
    clock.now = local(20)
    citizen = await visitor()
    _, html = await citizen.get("/public?q=三轮车")
    assert html.count('class="public-report"') == 3
    for probe in ("13812345678", "张伟", "赵大明", "鲁C·12345"):
        _, html = await citizen.get(f"/public?q={probe}")
        assert html.count('class="public-report"') == 0, probe
        assert "没有找到" in html
    status, html = await citizen.get("/public?q=" + "长" * 40 + "&page=abc")
    assert status == 200 and "搜索词不能超过" in html


async def test_a_citizen_searching_in_their_own_words_finds_the_reports(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor
) -> None:
    """The reports say 强行扣押我的三轮车; citizens type 三轮车被扣押 or 扣押 三轮车."""
    await _public_set(service, clock)
    clock.now = local(20)
    citizen = await visitor()
    for query in ("三轮车被扣押", "扣押 三轮车", "占道经营 扣押"):
        _, html = await citizen.get("/public", params={"q": query})
        assert html.count('class="public-report"') == 3, query
    _, html = await citizen.get("/public", params={"q": "三轮车 物业"})  # both words, or none
    assert html.count('class="public-report"') == 0 and "没有找到" in html


async def test_a_report_whose_citizen_refused_publication_is_counted_but_never_shown(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor
) -> None:
    await _public_set(service, clock)
    clock.now = local(12, 9)
    r = await service.submit(
        {"title": "三轮车被扣押不予退还", "text": "我的三轮车被扣押一个月，多次询问不予退还。",
         "publish": "0"}
    )  # fmt: skip
    await service.assign(SUPERVISOR, r.tracking_number, "zhzf")
    await service.accept(staff("zhzf"), r.tracking_number)
    await service.answer(staff("zhzf"), r.tracking_number, "经核查，已于次日退还三轮车。")
    clock.now = local(20)
    citizen = await visitor()
    _, html = await citizen.get("/public")
    # Its bureau's figures count it; its words and its answer are nowhere.
    assert "区综合行政执法局</th><td>7</td>" in html
    assert html.count('class="public-report"') == 6
    assert "不予退还" not in html and "已于次日退还" not in html
    _, html = await citizen.get("/public?q=不予退还")
    assert html.count('class="public-report"') == 0
    # Nor can it be seconded (附议) by its number on the public page.
    assert r.report.id is not None
    status, _ = await citizen.post("/public/support", {"report": str(r.report.id)})
    assert status == 404


async def test_a_citizen_finds_their_own_case_on_the_public_page_by_number(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor
) -> None:
    await _public_set(service, clock)
    clock.now = local(12, 9)
    private = await service.submit(
        {"title": "三轮车被扣押不予退还", "text": "我的三轮车被扣押一个月，多次询问不予退还。",
         "publish": "0"}
    )  # fmt: skip
    tn_private = private.tracking_number
    await service.assign(SUPERVISOR, tn_private, "zhzf")
    await service.accept(staff("zhzf"), tn_private)
    await service.answer(staff("zhzf"), tn_private, "经核查，已于次日退还三轮车。")
    clock.now = local(20)
    reports = await service.store.list_reports(ReportFilter())
    mine = next(r for r in reports if r.department == "zhzf" and r.publish)
    small = next(r for r in reports if r.department == "zjj")
    citizen = await visitor()
    _, html = await citizen.get("/public")
    assert 'action="/public/reports"' in html
    # Typed in lower case with a full-width dash, as people do.
    status, html = await citizen.get(
        "/public/reports", params={"tn": mine.tracking_number.lower().replace("-", "－", 1)}
    )
    assert status == 200 and mine.title in html and "＊＊" in html
    for secret in PERSONAL:
        assert secret not in html, secret
    # Not published: refused by its citizen, or of a bureau too small to show.
    for tn in (tn_private, small.tracking_number, "ZC-2026-999999", "不是编号"):
        status, html = await citizen.get("/public/reports", params={"tn": tn})
        assert status == 404 and "没有找到" in html, tn
        assert "不予退还" not in html and "已于次日退还" not in html
