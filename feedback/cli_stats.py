"""`feedback stats`: the supervision figures of the dashboard, printed or as JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from feedback.stats import (
    CHANNEL_LABELS,
    FIGURE_COLUMNS,
    PERIODS,
    Dashboard,
    Figures,
    build_filter,
    figure_text,
)


def register(sub: argparse._SubParsersAction) -> None:
    from feedback.cli import common

    p = sub.add_parser(
        "stats",
        help="supervision statistics per bureau (the dashboard's figures)",
        description="Reports received, timeliness, send-back/extension/satisfaction/reopen/"
        "substantiated rates, time to sign and answer (working days), per bureau, issue type, "
        "channel and week or month. Dates are local (YYYY-MM-DD), both ends included; the "
        "default is the last twelve months.",
    )
    common(p)
    p.add_argument("--from", dest="date_from", metavar="DATE", help="first day (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="last day (YYYY-MM-DD)")
    p.add_argument("--period", choices=PERIODS, default="month", help="trend by week or month")
    p.add_argument("--department", metavar="CODE", help="one bureau only, e.g. zhzf")
    p.add_argument("--issue-type", metavar="CODE", help="one issue type only, e.g. inaction")
    p.add_argument("--channel", choices=sorted(CHANNEL_LABELS), help="one channel only")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("--xlsx", metavar="FILE", help="also write the figures and the report list")
    p.set_defaults(func=cmd_stats)


def cmd_stats(args: argparse.Namespace) -> int:
    from feedback.cli import run, settings_from
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def go() -> tuple[Dashboard, datetime, bytes | None]:
        workbook = None
        async with open_service(settings, with_model=False) as service:
            stats = service.stats  # the service's: the answer reviews it reads come first
            now = service.clock()
            flt = build_filter(
                stats,
                stats.local_day(now),
                date_from=args.date_from,
                date_to=args.date_to,
                department=args.department,
                issue_type=args.issue_type,
                channel=args.channel,
                period=args.period,
            )
            board = await stats.dashboard(flt, now)
            # Shown as the web shows times: the district's clock, not UTC.
            now = now.astimezone(ZoneInfo(service.config.timezone))
            if args.xlsx:
                from feedback import export
                from feedback.models import Actor, Role

                # The command line is the operator's: the full list, contact columns included.
                actor = Actor(Role.ADMIN, id="cli")
                rows = await export.report_rows(stats, flt, actor)
                workbook = export.xlsx(board, rows, export.report_columns(actor))
        return board, now, workbook

    board, now, workbook = run(go)
    if workbook is not None:
        Path(args.xlsx).write_bytes(workbook)
        print(f"wrote {args.xlsx}", file=sys.stderr)
    if args.json:
        emit(json.dumps(board.as_dict(), ensure_ascii=False, indent=2))
    else:
        emit(render(board, now))
    return 0


def quiet_stdout() -> None:
    """After a broken pipe (`feedback stats | head`): send what is left to /dev/null, so the
    flush at exit does not fail again with a traceback (as the Python docs on SIGPIPE advise)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (a test's capture): nothing will be flushed to a pipe


def emit(text: str) -> None:
    """Print to stdout; a reader that stopped reading is not an error."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_stdout()


# Narrower headers for a terminal (the dashboard and exports spell them out).
SHORT = {
    "sign_median": "签收中位(工作日)",
    "sign_p90": "签收P90",
    "answer_median": "答复中位(工作日)",
    "answer_p90": "答复P90",
}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(width - _width(text), 0)
    return gap + text if right else text + gap


def table(title: str, first: str, figures: list[Figures]) -> str:
    header = [first, *(SHORT.get(name, label) for name, label, _k in FIGURE_COLUMNS)]
    rows = [[f.label, *(figure_text(f, n, k) for n, _l, k in FIGURE_COLUMNS)] for f in figures]
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [title]
    for row in [header, *rows]:
        lines.append(
            "  ".join(_pad(c, w, i > 0) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        )
    return "\n".join(lines)


def render(board: Dashboard, now: datetime) -> str:
    f = board.flt
    scope = "，".join(
        x
        for x in (
            f"承办单位 {f.department}" if f.department else "",
            f"问题类型 {f.issue_type}" if f.issue_type is not None else "",
            f"渠道 {f.channel}" if f.channel else "",
        )
        if x
    )
    parts = [
        f"行政执法监督统计 {f.date_from} 至 {f.date_to}" + (f"（{scope}）" if scope else ""),
        table(
            "\n按承办单位（按时答复率排名）", "承办单位", [board.overall, *board.department_rows]
        ),
        table("\n按问题类型", "问题类型", board.by_issue_type),
        table("\n按受理渠道", "渠道", board.by_channel),
        table("\n趋势（" + ("周" if f.period == "week" else "月") + "）", "期间", board.trend),
        f"\n当前逾期 {board.overall.overdue_now} 件；统计时间 {now:%Y-%m-%d %H:%M}（{now.tzinfo}）",
    ]
    return "\n".join(parts)
