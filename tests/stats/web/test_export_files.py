"""The exports as a supervisor and a bureau clerk open them: a Chinese file name, the header row
frozen with an autofilter on every table, the citizen's full text, and contact columns marked
内部 that only a supervisor's export has."""

from __future__ import annotations

import csv
import io
from urllib.parse import unquote

import openpyxl

from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, Clock
from tests.stats.scenario import build
from tests.web.conftest import MakeVisitor

MARCH = "from=2026-03-01&to=2026-03-31"
LONG = (
    "城管执法人员在般阳路早市检查时，对摆摊的老人直接罚款两百元，没有出具罚款票据，也没有"
    "出示执法证件，老人要求说明依据时被推搡。"
) * 8  # well over a spreadsheet's visible cell, and over 255 characters


def saved_name(disposition: str) -> str:
    """The name a browser saves the file under (RFC 6266: filename* wins)."""
    star = [p.strip() for p in disposition.split(";") if p.strip().startswith("filename*=")]
    assert star, disposition
    charset, _lang, quoted = star[0][len("filename*=") :].split("'", 2)
    assert charset.upper() == "UTF-8"
    return unquote(quoted)


async def test_supervisors_excel_export_is_ready_to_filter(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor
) -> None:
    await build(service, clock)
    clock.now = clock.now.replace(day=20)
    named = await service.submit(
        {"title": "早市罚款不开票", "text": LONG, "anonymous": "0",
         "contact": {"name": "赵大明", "phone": "13900001111"}}
    )  # fmt: skip
    await service.assign(SUPERVISOR, named.tracking_number, "zhzf")
    sup = await visitor("sup1")
    resp = await sup.client.get(f"/staff/dashboard/export.xlsx?{MARCH}")
    assert resp.status == 200
    disposition = resp.headers["Content-Disposition"]
    assert saved_name(disposition) == "监督统计-20260301-20260331.xlsx"
    assert 'filename="supervision-figures-20260301-20260331.xlsx"' in disposition  # fallback
    wb = openpyxl.load_workbook(io.BytesIO(await resp.read()))
    reports = wb["诉求清单"]
    header = [c.value for c in reports[1]]
    rows = list(reports.iter_rows(min_row=2, values_only=True))
    assert reports.freeze_panes == "A2"
    assert (
        reports.auto_filter.ref
        == f"A1:{openpyxl.utils.get_column_letter(len(header))}{len(rows) + 1}"
    )
    for name in ("汇总", "承办单位", "问题类型", "受理渠道", "趋势"):
        assert wb[name].auto_filter.ref, name
        assert wb[name].freeze_panes, name
    by_number = {r[0]: r for r in rows}
    mine = by_number[named.tracking_number]
    assert mine[header.index("诉求内容")] == LONG  # the full text, not cut
    assert "联系人（内部）" in header and "联系电话（内部）" in header
    assert mine[header.index("联系电话（内部）")] == "13900001111"


async def test_a_bureau_clerks_csv_has_the_text_but_no_contact_columns(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor
) -> None:
    await build(service, clock)
    named = await service.submit(
        {"title": "早市罚款不开票", "text": LONG, "anonymous": "0",
         "contact": {"name": "赵大明", "phone": "13900001111"}}
    )  # fmt: skip
    await service.assign(SUPERVISOR, named.tracking_number, "zhzf")
    clerk = await visitor("zhzf1")
    resp = await clerk.client.get(f"/staff/dashboard/export.csv?what=reports&{MARCH}")
    assert saved_name(resp.headers["Content-Disposition"]) == "诉求清单-20260301-20260331.csv"
    raw = (await resp.read()).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(raw, newline="")))
    header = table[0]
    assert "诉求内容" in header and not [h for h in header if "联系" in h]
    assert "13900001111" not in raw and "赵大明" not in raw
    mine = next(r for r in table[1:] if r[0] == named.tracking_number)
    assert mine[header.index("诉求内容")] == LONG
    figures = await clerk.client.get(f"/staff/dashboard/export.csv?{MARCH}")
    assert saved_name(figures.headers["Content-Disposition"]) == "监督统计-20260301-20260331.csv"
