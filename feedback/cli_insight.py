"""`feedback review-answers` and `feedback hot`: the insight engines over a CSV file."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from feedback.errors import ValidationError


def register(sub: argparse._SubParsersAction) -> None:
    from feedback.cli import common

    p = sub.add_parser(
        "review-answers",
        help="答复意见评价: relevance, completeness, basis, timeliness of answers in a CSV",
        description="Reviews each answer of a CSV with the columns id, title, text, time, reply, "
        "reply_time (UTF-8, header row) and prints one result per row: relevance, completeness "
        "and basis (0-2), timeliness (working days from the message to the answer against the "
        "answer limit), score (0-100, higher is better), acceptable and the reasons in Chinese.",
    )
    common(p)
    p.add_argument(
        "--csv",
        metavar="FILE",
        help="the CSV file to review; without it, review the service's answers that have no "
        "review yet (answers given before this version, or through the API and bot)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_review_answers)

    p = sub.add_parser(
        "hot",
        help="热点问题: reports about the same matter, place and weeks, ranked by heat",
        description="Groups reports by matter (segmented-text similarity), place (compounds, "
        "schools, roads, villages, organisations named in them) and time, and ranks the groups "
        "by heat (distinct reporters, repeats, support, spread over weeks; docs/insight.md). "
        "With --csv, over a file with the columns id, title, text, time and optional user, likes, "
        "dislikes; without, over the service's reports of the last --days days.",
    )
    common(p)
    p.add_argument("--csv", metavar="FILE", help="a CSV file instead of the service's reports")
    p.add_argument("--top", type=int, default=None, metavar="N", help="only the N hottest")
    p.add_argument("--days", type=int, default=90, help="service reports of the last N days (90)")
    p.add_argument("--json", action="store_true", help="a JSON list, hottest first")
    p.set_defaults(func=cmd_hot)


def read_csv(path: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    file = Path(path)
    if not file.is_file():
        raise ValidationError(f"找不到文件：{path}", field="csv")
    try:
        with file.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise ValidationError(f"CSV 缺少列：{'、'.join(missing)}", field="csv")
            return list(reader)
    except UnicodeDecodeError:
        raise ValidationError("CSV 文件应为 UTF-8 编码。", field="csv") from None


def cmd_review_answers(args: argparse.Namespace) -> int:
    from feedback import answer_review
    from feedback.cli_stats import emit
    from feedback.config import load_config
    from feedback.deadlines import WorkCalendar

    if not args.csv:
        return _review_backlog(args)
    config = load_config(args.config)
    rows = read_csv(args.csv, ("id", "title", "text", "reply"))
    calendar = WorkCalendar(config.calendar_extra, config.timezone)
    out: list[str] = []
    for result in answer_review.review_rows(rows, calendar, config.clocks.answer_complaint):
        out.append(_line(result, args.json))
    emit("\n".join(out))
    return 0


def _review_backlog(args: argparse.Namespace) -> int:
    from feedback.cli import run, settings_from
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def go() -> int:
        total = 0
        async with open_service(settings, with_model=False) as service:
            while n := await service.insight.review_backlog(limit=500):
                total += n
        return total

    total = int(run(go))
    print(f"reviewed {total} answers" if not args.json else json.dumps({"reviewed": total}))
    return 0


def _line(result: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(result, ensure_ascii=False)
    t = result["timeliness"]
    timely = f"{t['working_days']}/{t['limit']}工作日" if t else "-"
    return (
        f"{result['id']}\t{result['score']:5.1f}\t{result['verdict']}\t相关{result['relevance']}"
        f" 完整{result['completeness']} 依据{result['basis']}\t{timely}\t"
        + "；".join(result["reasons"])
    )


def cmd_hot(args: argparse.Namespace) -> int:
    from feedback import hot
    from feedback.cli_stats import emit

    if args.top is not None and args.top < 1:
        raise ValidationError("--top 应为正整数。", field="top")
    if args.csv:
        rows = read_csv(args.csv, ("id", "title", "text", "time"))
        messages = hot.messages_from_rows(rows)
        skipped = len(rows) - len(messages)
        if skipped:
            print(f"跳过 {skipped} 行：时间无法识别", file=sys.stderr)
        issues = [h.as_dict() for h in hot.hot_issues(messages, top=args.top)]
    else:
        issues = _service_hot(args)
    if args.json:
        emit(json.dumps(issues, ensure_ascii=False, indent=2))
    else:
        emit("\n".join(
            f"{h['rank']:3d}  热度 {h['heat']:7.2f}  {h['reports']:3d} 件/{h['reporters']} 人  "
            f"{h['place'] or '-'}  {h['from'][:10]}–{h['to'][:10]}  {h['summary']}"
            for h in issues
        ) or "没有热点问题")  # fmt: skip
    return 0


def _service_hot(args: argparse.Namespace) -> list[dict[str, Any]]:
    from feedback.cli import run, settings_from
    from feedback.models import Actor, Role
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def go() -> list[dict[str, Any]]:
        async with open_service(settings, with_model=False) as service:
            # The command line is the operator's: every bureau's reports.
            actor = Actor(Role.ADMIN, id="cli")
            found = await service.insight.hot_issues(actor, days=args.days, top=args.top)
            return [h.as_dict() for h in found]

    result: list[dict[str, Any]] = run(go)
    return result
