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
    p.add_argument("--csv", required=True, metavar="FILE", help="the CSV file to review")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_review_answers)


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

    settings_config = args.config
    config = load_config(settings_config)
    rows = read_csv(args.csv, ("id", "title", "text", "reply"))
    calendar = WorkCalendar(config.calendar_extra, config.timezone)
    out: list[str] = []
    for result in answer_review.review_rows(rows, calendar, config.clocks.answer_complaint):
        out.append(_line(result, args.json))
    emit("\n".join(out))
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(0)
